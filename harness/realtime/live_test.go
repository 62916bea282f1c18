//go:build linux

package realtime_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/etchlab/etch/data/flow"
	"github.com/etchlab/etch/harness/realtime"
)

// TestLiveLoopback classifies TLS connections made with crypto/tls on 127.0.0.1 while the
// engine captures the loopback interface. It needs CAP_NET_RAW (CI runs as root).
func TestLiveLoopback(t *testing.T) {
	src, err := realtime.OpenLive("lo")
	if errors.Is(err, realtime.ErrPermission) {
		t.Skipf("skipping the live capture test: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	f := getFixture(t)
	c, err := realtime.Load(f.runDir, realtime.LoadOptions{Name: "rf"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[int32]realtime.Decision{}
	eng, err := realtime.New(c, realtime.Options{Packets: 4, Flow: flow.Config{Privacy: &flow.Privacy{KeepIPs: true}}},
		func(ds []realtime.Decision) error {
			mu.Lock()
			defer mu.Unlock()
			for _, d := range ds {
				if d.DstIP == "127.0.0.1" {
					got[d.SrcPort] = d
				}
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx, src) }()

	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				io.Copy(conn, conn)
			}()
		}
	}()
	var ports []int32
	for range 3 {
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{ServerName: "live.test", InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte("hello"))
		buf := make([]byte, 5)
		io.ReadFull(conn, buf)
		ports = append(ports, int32(conn.LocalAddr().(*net.TCPAddr).Port))
		conn.Close()
	}
	deadline := time.Now().Add(30 * time.Second) // a failure deadline, not a performance bound
	for {
		mu.Lock()
		n := 0
		for _, p := range ports {
			if _, ok := got[p]; ok {
				n++
			}
		}
		mu.Unlock()
		if n == len(ports) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range ports {
		d, ok := got[p]
		if !ok {
			t.Fatalf("no decision for the connection from port %d (decisions: %v)", p, got)
		}
		if d.Reason != flow.EndEarly || d.Packets != 4 || d.SNI != "live.test" || d.JA4 == "" || len(d.Top3) != 3 {
			t.Errorf("decision %+v: want an early decision after 4 packets with SNI live.test and a JA4", d)
		}
	}
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "live.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"live.test"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
