package tlsfp_test

import (
	"fmt"

	"github.com/etchlab/etch/data/tlsfp"
)

// exampleHello builds a small TLS 1.3 ClientHello record: two cipher suites, SNI
// "example.com", ALPN "h2", supported_versions TLS 1.3 and one signature algorithm.
func exampleHello() []byte {
	u16 := func(v int) []byte { return []byte{byte(v >> 8), byte(v)} }
	ext := func(typ int, body []byte) []byte { return append(append(u16(typ), u16(len(body))...), body...) }
	sni := append(append([]byte{0}, u16(11)...), "example.com"...)
	var exts []byte
	exts = append(exts, ext(0x0000, append(u16(len(sni)), sni...))...)
	exts = append(exts, ext(0x0010, append(u16(3), append([]byte{2}, "h2"...)...))...)
	exts = append(exts, ext(0x002b, []byte{2, 0x03, 0x04})...)
	exts = append(exts, ext(0x000d, append(u16(2), 0x04, 0x03))...)
	body := append([]byte{0x03, 0x03}, make([]byte, 32)...) // legacy_version, random
	body = append(body, 0)                                  // no session ID
	body = append(body, 0, 4, 0x13, 0x01, 0x13, 0x02)       // cipher suites
	body = append(body, 1, 0)                               // null compression
	body = append(append(body, u16(len(exts))...), exts...)
	msg := append([]byte{1, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	return append([]byte{0x16, 0x03, 0x01, byte(len(msg) >> 8), byte(len(msg))}, msg...)
}

func ExampleTracker() {
	rec := exampleHello()
	tr := tlsfp.NewTracker(tlsfp.TCP)
	// The ClientHello arrives in two TCP segments, the second one first.
	tr.Packet(true, 1000+40, rec[40:])
	tr.Packet(true, 1000, rec[:40])
	r := tr.Result()
	fmt.Println(r.SNI, r.ALPN, r.TLSVersion)
	fmt.Println(r.JA4)
	fmt.Println(r.JA4R)
	fmt.Println(r.JA3Full)
	fmt.Println(tr.Done(), tr.Err())
	// Output:
	// example.com h2 1.3
	// t13d0204h2_62ed6f6ca7ad_3953dc75acc4
	// t13d0204h2_1301,1302_000d,002b_0403
	// 771,4865-4866,0-16-43-13,,
	// false <nil>
}

func ExampleParseClientHello() {
	rec := exampleHello()
	ch, err := tlsfp.ParseClientHello(rec[5:]) // the handshake message, without the record header
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ch.ServerName, ch.ALPN, len(ch.Extensions))
	fmt.Println(tlsfp.JA4(ch, true))
	fmt.Println(tlsfp.JA3(ch))
	_, err = tlsfp.ParseClientHello(rec[5:60])
	fmt.Println(err)
	// Output:
	// example.com [h2] 4
	// q13d0204h2_62ed6f6ca7ad_3953dc75acc4
	// af057e9f84e0ebb0d7aedce00bf5a187
	// client hello: offset 1: length 89, only 51 bytes: truncated
}

func ExampleMemo() {
	rec := exampleHello()
	memo := tlsfp.NewMemo() // one per flow table (one goroutine)
	for flow := range 2 {
		tr := memo.NewTracker(tlsfp.TCP)
		tr.Packet(true, 1, rec)
		r := tr.Result() // the second flow's strings come from the memo
		fmt.Println(flow, r.SNI, r.JA4)
		tr.Release() // the next NewTracker reuses it
	}
	// Output:
	// 0 example.com t13d0204h2_62ed6f6ca7ad_3953dc75acc4
	// 1 example.com t13d0204h2_62ed6f6ca7ad_3953dc75acc4
}
