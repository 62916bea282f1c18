package synth

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteRules writes label rules (the YAML format of etch extract --label-rules) that map every
// SNI of the lab's services to the service and its category, so that a pcap from the lab can be
// extracted later with `etch extract lab.pcap --label-rules lab.rules.yaml --label service`.
// Services without SNI (P2P) cannot be named by a rule; their flows come out "unknown".
func (l *Lab) WriteRules(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "# Label rules of an etch traffic lab (seed %d, %d services).\nrules:\n", l.cfg.Seed, len(l.svcs)); err != nil {
		return err
	}
	for _, s := range l.svcs {
		for _, sni := range s.SNIs {
			// Every SNI is unique to its service, so a suffix rule on the name names it alone.
			if _, err := fmt.Fprintf(w, "  - suffix: %q\n    service: %q\n    category: %q\n", sni, s.Name, s.Category); err != nil {
				return err
			}
		}
	}
	return nil
}

// WriteRulesFile writes the lab's label rules (see WriteRules) to path, atomically.
func WriteRulesFile(path string, cfg Config) error {
	l, err := newLabNoHandshakes(cfg)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	err = l.WriteRules(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// newLabNoHandshakes returns a lab with its services only (no certificates, no handshakes).
func newLabNoHandshakes(cfg Config) (*Lab, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Lab{cfg: cfg, svcs: services(cfg.Classes, cfg.Seed)}, nil
}
