package synth

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Certificates are Ed25519: keys come from ed25519.NewKeyFromSeed and Ed25519 signatures are
// deterministic and 64 bytes long, so a chain is byte-identical for a given seed, and so are the
// sizes of every handshake message that carries a signature (ECDSA signatures are DER-encoded
// and vary in length; Go's ECDSA and RSA key generation no longer honour a custom random source).

var certEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func edKey(seed uint64, parts ...string) ed25519.PrivateKey {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return ed25519.NewKeyFromSeed(h.Sum(nil))
}

// makeChain builds a certificate chain for a server profile: a root CA, Chain-1 intermediates
// and a leaf naming dnsNames plus SANs filler names (CDN-style), signed down the chain. The root
// is not sent (as on the wide web).
func makeChain(seed uint64, srv *Server, dnsNames []string) (tls.Certificate, error) {
	rootKey := edKey(seed, "root", srv.Name)
	root := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Etch Synthetic Root CA", Organization: []string{"etch traffic lab"}},
		NotBefore:             certEpoch,
		NotAfter:              certEpoch.AddDate(30, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	parent, parentKey := root, rootKey
	var chain [][]byte
	var inter [][]byte
	for i := 1; i < srv.Chain; i++ {
		key := edKey(seed, "intermediate", srv.Name, fmt.Sprint(i))
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(int64(100 + i)),
			Subject:               pkix.Name{CommonName: fmt.Sprintf("Etch %s Issuing CA %d", srv.Name, i), Organization: []string{"etch traffic lab"}, Country: []string{"ZZ"}},
			NotBefore:             certEpoch,
			NotAfter:              certEpoch.AddDate(25, 0, 0),
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		}
		der, err := x509.CreateCertificate(nil, tmpl, parent, key.Public(), parentKey)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("synth: intermediate certificate for %s: %w", srv.Name, err)
		}
		inter = append([][]byte{der}, inter...)
		parent, parentKey = tmpl, key
	}
	leafKey := edKey(seed, "leaf", srv.Name)
	names := append([]string(nil), dnsNames...)
	for i := 0; i < srv.SANs; i++ {
		names = append(names, fmt.Sprintf("*.tenant%03d.%s.example", i, srv.Name))
	}
	cn := srv.Name + ".example"
	if len(dnsNames) > 0 {
		cn = dnsNames[0]
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(1000),
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     names,
		NotBefore:    certEpoch,
		NotAfter:     certEpoch.AddDate(20, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(nil, leaf, parent, leafKey.Public(), parentKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("synth: leaf certificate for %s: %w", srv.Name, err)
	}
	chain = append(chain, der)
	// Intermediates follow the leaf, nearest issuer first.
	for i := len(inter) - 1; i >= 0; i-- {
		chain = append(chain, inter[i])
	}
	return tls.Certificate{Certificate: chain, PrivateKey: leafKey}, nil
}

// transcript is a recorded TLS handshake: the bytes each side wrote, in order, exactly as
// crypto/tls produced them, and the per-record overhead of application data under the
// negotiated cipher.
type transcript struct {
	chunks   []chunk
	overhead int // bytes a TLS record adds to application data (header, nonce, tag, type)
	resumed  bool
	version  uint16
	quic     *quicTranscript
}

func clientConfig(f *Family, sni string, cache tls.ClientSessionCache) *tls.Config {
	cfg := &tls.Config{
		InsecureSkipVerify:     true, // the lab's CA is throwaway; verification would only cost time
		MinVersion:             f.MinVersion,
		MaxVersion:             f.MaxVersion,
		CipherSuites:           f.Suites,
		CurvePreferences:       f.Curves,
		NextProtos:             f.ALPN,
		SessionTicketsDisabled: f.NoTickets,
		ClientSessionCache:     cache,
	}
	if !f.NoSNI {
		cfg.ServerName = sni
	}
	return cfg
}

func serverConfig(seed uint64, srv *Server, cert tls.Certificate) *tls.Config {
	cfg := &tls.Config{
		Certificates:           []tls.Certificate{cert},
		MaxVersion:             srv.MaxVersion,
		NextProtos:             srv.ALPN,
		SessionTicketsDisabled: srv.NoTickets,
		CurvePreferences:       []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521},
	}
	var key [32]byte
	copy(key[:], edKey(seed, "ticket", srv.Name).Seed())
	cfg.SetSessionTicketKeys([][32]byte{key})
	return cfg
}

const (
	probeReq  = 100
	probeResp = 1000
)

// recordHandshake runs a real TLS handshake between client and server configs over an in-memory
// turn-based connection, then one request/response exchange to learn the application data
// overhead (and to let a TLS 1.3 client take its session ticket). The returned transcript holds
// the handshake writes, plus any post-handshake server messages (tickets), without the probe.
func recordHandshake(ccfg, scfg *tls.Config) (*transcript, error) {
	cconn, sconn, st := memPipe()
	client := tls.Client(cconn, ccfg)
	server := tls.Server(sconn, scfg)
	serr := make(chan error, 1)
	go func() {
		err := server.Handshake()
		if err == nil {
			buf := make([]byte, probeReq)
			_, err = readFull(server, buf)
		}
		if err == nil {
			_, err = server.Write(make([]byte, probeResp))
		}
		if err == nil {
			// Block (handing the turn back) until the client closes the pipe.
			var one [1]byte
			_, rerr := server.Read(one[:])
			if rerr != nil && !errors.Is(rerr, errStalled) {
				rerr = nil
			}
			err = rerr
		}
		serr <- err
	}()
	fail := func(err error) (*transcript, error) {
		cconn.Close()
		<-serr
		return nil, err
	}
	if err := client.Handshake(); err != nil {
		return fail(fmt.Errorf("synth: handshake: %w", err))
	}
	mark := len(st.recorded())
	if _, err := client.Write(make([]byte, probeReq)); err != nil {
		return fail(fmt.Errorf("synth: probe write: %w", err))
	}
	if _, err := readFull(client, make([]byte, probeResp)); err != nil {
		return fail(fmt.Errorf("synth: probe read: %w", err))
	}
	cs := client.ConnectionState()
	cconn.Close()
	if err := <-serr; err != nil {
		return nil, fmt.Errorf("synth: server: %w", err)
	}
	tape := st.recorded()
	if len(tape) < mark+2 || tape[mark].fromServer {
		return nil, fmt.Errorf("synth: unexpected handshake tape (%d writes)", len(tape))
	}
	t := &transcript{chunks: tape[:mark:mark], resumed: cs.DidResume, version: cs.Version}
	t.overhead = len(tape[mark].data) - probeReq
	if t.overhead <= 0 || t.overhead > 64 {
		return nil, fmt.Errorf("synth: implausible record overhead %d", t.overhead)
	}
	// Server writes after the probe request: post-handshake messages, then the probe response
	// record (the last record), which is dropped.
	for _, c := range tape[mark+1:] {
		if !c.fromServer {
			continue
		}
		data := c.data
		recs := splitRecords(data)
		if n := len(recs); n > 0 && recs[n-1] == probeResp+t.overhead {
			data = data[:len(data)-recs[n-1]]
		}
		if len(data) > 0 {
			t.chunks = append(t.chunks, chunk{true, data})
		}
	}
	return t, nil
}

// splitRecords returns the lengths (header included) of the TLS records in b.
func splitRecords(b []byte) []int {
	var out []int
	for len(b) >= 5 {
		n := 5 + int(binary.BigEndian.Uint16(b[3:5]))
		if n > len(b) {
			break
		}
		out = append(out, n)
		b = b[n:]
	}
	return out
}

func readFull(c *tls.Conn, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := c.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
