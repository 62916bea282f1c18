package tlsfp

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etchlab/etch/data/tlsfp/internal/pcaptest"
)

// TestMemoEqualsPlain feeds the flows of every shared capture, and crypto/tls hellos of
// several configurations, to trackers sharing one Memo (every flow twice, so that the second
// pass reads remembered fingerprints; each tracker released and reused by the next flow) and
// to plain trackers, and requires the same results and errors.
func TestMemoEqualsPlain(t *testing.T) {
	var flows []*pcaptest.Flow
	var captures []string
	filepath.WalkDir(sharedData, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
			captures = append(captures, p)
		}
		return nil
	})
	for _, c := range captures {
		fs, _ := pcaptest.Read(c) // damaged captures give the flows read so far
		flows = append(flows, fs...)
	}
	srv := &tls.Config{Certificates: []tls.Certificate{testCert(t)}, NextProtos: []string{"h2", "http/1.1"}}
	for i, cfg := range []*tls.Config{
		{ServerName: "a.example", NextProtos: []string{"h2", "http/1.1"}},
		{ServerName: "b.example", NextProtos: []string{"h2", "http/1.1"}},
		{ServerName: "c.example", NextProtos: []string{"http/1.1"}},
		{ServerName: "c.example", MaxVersion: tls.VersionTLS12},
		{NextProtos: []string{"h2"}},
		{ServerName: "d.example", CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, MaxVersion: tls.VersionTLS12},
	} {
		cfg.InsecureSkipVerify = true
		ch, sh := goHellos(t, cfg, srv)
		flows = append(flows, &pcaptest.Flow{Packets: []pcaptest.Packet{
			{FromClient: true, Seq: uint32(i), Payload: ch}, {FromClient: false, Seq: 7, Payload: sh}}})
	}
	if len(flows) < 10 {
		t.Fatalf("only %d flows", len(flows))
	}
	run := func(f *pcaptest.Flow, m *Memo) (Result, string) {
		tr := NewTracker(TCP)
		if f.UDP {
			tr = NewTracker(UDP)
		}
		if m != nil {
			tr = m.NewTracker(tr.transport)
		}
		for _, p := range f.Packets {
			if tr.Done() {
				break
			}
			tr.Packet(p.FromClient, p.Seq, p.Payload)
		}
		res, err := tr.Result(), fmt.Sprint(tr.Err())
		tr.Release() // the next flow reuses it
		return res, err
	}
	m := NewMemo()
	hits := 0
	for pass := range 2 {
		for i := range flows {
			want, wantErr := run(flows[i], nil)
			got, gotErr := run(flows[i], m)
			if got != want || gotErr != wantErr {
				t.Fatalf("pass %d flow %d: memo gives\n%+v (%s)\nplain gives\n%+v (%s)", pass, i, got, gotErr, want, wantErr)
			}
			if pass == 1 && got.JA4 != "" {
				hits++
			}
		}
	}
	if hits == 0 || len(m.client) == 0 || len(m.server) == 0 {
		t.Fatalf("memo unused: %d hits, %d client and %d server entries", hits, len(m.client), len(m.server))
	}
}
