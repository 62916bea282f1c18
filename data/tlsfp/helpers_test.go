package tlsfp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"testing"
	"time"
)

// readRecord reads one TLS record from r.
func readRecord(r io.Reader) ([]byte, error) {
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return append(hdr, body...), nil
}

// testCert returns a fresh self-signed ECDSA certificate for a crypto/tls server.
func testCert(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "example.test"},
		DNSNames: []string{"example.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// goHellos runs a crypto/tls handshake over an in-memory pipe and returns the first TLS
// record each side sent: the ClientHello record and the ServerHello record.
func goHellos(t testing.TB, client *tls.Config, server *tls.Config) (ch, sh []byte) {
	t.Helper()
	c1, s1 := net.Pipe() // client <-> tap
	c2, s2 := net.Pipe() // tap <-> server
	defer c1.Close()
	defer s1.Close()
	defer c2.Close()
	defer s2.Close()
	go func() { _ = tls.Client(c1, client).Handshake() }()
	go func() { _ = tls.Server(s2, server).Handshake() }()
	ch, err := readRecord(s1)
	if err != nil {
		t.Fatalf("read client hello: %v", err)
	}
	if _, err := c2.Write(ch); err != nil {
		t.Fatalf("forward client hello: %v", err)
	}
	sh, err = readRecord(c2)
	if err != nil {
		t.Fatalf("read server hello: %v", err)
	}
	return ch, sh
}

// testHellos returns a ClientHello and a ServerHello record from crypto/tls with SNI and ALPN.
func testHellos(t testing.TB) (ch, sh []byte) {
	t.Helper()
	cfg := &tls.Config{ServerName: "example.test", NextProtos: []string{"h2", "http/1.1"}, InsecureSkipVerify: true}
	srv := &tls.Config{Certificates: []tls.Certificate{testCert(t)}, NextProtos: []string{"h2"}}
	return goHellos(t, cfg, srv)
}
