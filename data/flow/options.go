package flow

import (
	"flag"
	"fmt"
	"time"
)

// Options are the command-line settings of flow extraction, shared by etch extract, etch
// classify and etch data synth: register them on a flag set with RegisterFlags, then turn them
// into a Config with Config.
type Options struct {
	SeqLen        int
	IdleTimeout   time.Duration
	ActiveTimeout time.Duration
	CloseLinger   time.Duration
	StatsCap      int
	MaxFlows      int
	TLSPackets    int
	NoTLS         bool

	LabelRules string // YAML rules file ("" for none)
	LabelFrom  string // LabelSNI, LabelService or LabelCategory

	KeepIPs         bool
	PseudonymizeIPs string // key file
	HashSNI         string // key file

	DigestCache string // directory of remembered input digests ("" for none)
}

// DefaultOptions returns the defaults the flags show.
func DefaultOptions() Options {
	c := Config{}.Defaults()
	return Options{SeqLen: c.SeqLen, IdleTimeout: c.IdleTimeout, ActiveTimeout: c.ActiveTimeout,
		CloseLinger: c.CloseLinger, StatsCap: c.StatsCap, MaxFlows: c.MaxFlows, TLSPackets: c.TLSPackets,
		LabelFrom: LabelSNI}
}

// RegisterFlags registers the options on fs with o's current values as defaults.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	fs.IntVar(&o.SeqLen, "seq-len", o.SeqLen, "N of the first-N packet sequences")
	fs.DurationVar(&o.IdleTimeout, "idle-timeout", o.IdleTimeout, "end a flow after this long without a packet")
	fs.DurationVar(&o.ActiveTimeout, "active-timeout", o.ActiveTimeout, "end a flow this long after its first packet")
	fs.DurationVar(&o.CloseLinger, "close-linger", o.CloseLinger, "after FIN/RST, count the connection's last packets for this long before emitting the flow")
	fs.IntVar(&o.StatsCap, "stats-cap", o.StatsCap, "packets per flow kept for percentiles (bounds memory)")
	fs.IntVar(&o.MaxFlows, "max-flows", o.MaxFlows, "most open flows; beyond it the least recently active is emitted (end_reason evict)")
	fs.IntVar(&o.TLSPackets, "tls-packets", o.TLSPackets, "payload packets per flow the TLS/QUIC handshake parser sees at most")
	fs.BoolVar(&o.NoTLS, "no-tls", o.NoTLS, "do not parse TLS/QUIC handshakes")
	fs.StringVar(&o.LabelRules, "label-rules", o.LabelRules, "YAML `FILE` mapping SNI suffixes/globs/regexes to service and category")
	fs.StringVar(&o.LabelFrom, "label", o.LabelFrom, "label column source: sni, service or category")
	fs.BoolVar(&o.KeepIPs, "keep-ips", o.KeepIPs, "write client and server IP addresses (dropped by default)")
	fs.StringVar(&o.PseudonymizeIPs, "pseudonymize-ips", o.PseudonymizeIPs, "write keyed prefix-preserving IP pseudonyms; key read from `KEYFILE`")
	fs.StringVar(&o.HashSNI, "hash-sni", o.HashSNI, "replace SNI with a keyed hash; key read from `KEYFILE`")
	fs.StringVar(&o.DigestCache, "digest-cache", o.DigestCache, "remember the inputs' SHA-256 in `DIR` by file identity (device, inode, size, mtime, ctime); unchanged files are not hashed again")
}

// Config returns the Config of the options (Apply on a zero Config).
func (o *Options) Config() (Config, error) {
	var c Config
	err := o.Apply(&c)
	return c, err
}

// Apply validates the options, loads label rules and keys, and sets the corresponding fields of
// c (the others, such as Version, Log and NewTracker, are kept), then fills in defaults.
func (o *Options) Apply(c *Config) error {
	if err := o.apply(c); err != nil {
		return err
	}
	*c = c.Defaults()
	return nil
}

func (o *Options) apply(c *Config) error {
	c.SeqLen, c.IdleTimeout, c.ActiveTimeout, c.CloseLinger = o.SeqLen, o.IdleTimeout, o.ActiveTimeout, o.CloseLinger
	c.StatsCap, c.MaxFlows, c.TLSPackets, c.NoTLS = o.StatsCap, o.MaxFlows, o.TLSPackets, o.NoTLS
	c.DigestCache = o.DigestCache
	if o.SeqLen < 0 || o.StatsCap < 0 || o.MaxFlows < 0 || o.TLSPackets < 0 {
		return fmt.Errorf("negative -seq-len, -stats-cap, -max-flows or -tls-packets")
	}
	if o.IdleTimeout < 0 || o.ActiveTimeout < 0 || o.CloseLinger < 0 {
		return fmt.Errorf("negative timeout")
	}
	lab := &Labeler{From: o.LabelFrom}
	switch o.LabelFrom {
	case "", LabelSNI, LabelService, LabelCategory:
	default:
		return fmt.Errorf("-label %q: want sni, service or category", o.LabelFrom)
	}
	if o.LabelRules != "" {
		rules, err := LoadRules(o.LabelRules)
		if err != nil {
			return err
		}
		lab.Rules = rules
	} else if o.LabelFrom == LabelService || o.LabelFrom == LabelCategory {
		return fmt.Errorf("-label %s needs -label-rules", o.LabelFrom)
	}
	c.Labeler = lab
	p := &Privacy{KeepIPs: o.KeepIPs}
	if o.PseudonymizeIPs != "" {
		ps, err := LoadPseudonymizer(o.PseudonymizeIPs)
		if err != nil {
			return err
		}
		p.IPs = ps
	}
	if o.HashSNI != "" {
		h, err := LoadSNIHasher(o.HashSNI)
		if err != nil {
			return err
		}
		p.SNI = h
	}
	c.Privacy = p
	return nil
}
