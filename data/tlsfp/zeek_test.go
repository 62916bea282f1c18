package tlsfp

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// zeekVersion maps Zeek's ssl.log version names to Result.TLSVersion.
var zeekVersion = map[string]string{"TLSv13": "1.3", "TLSv12": "1.2", "TLSv11": "1.1", "TLSv10": "1.0", "SSLv3": "ssl3"}

// TestZeekSSLLog checks SNI, negotiated version, JA4 and JA4S against the FoxIO Zeek
// package's btest baseline ssl.log for tls-handshake.pcapng.
func TestZeekSSLLog(t *testing.T) {
	needData(t)
	log := filepath.Join(sharedData, "ja4/zeek/tests/Traces/Scripts.ja4-tls-handshake/ssl.log")
	f, err := os.Open(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rs, err := track(t, filepath.Join(sharedData, "ja4/pcap/tls-handshake.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rs {
		k := fmt.Sprintf("%s %d %s %d", r.f.Client, r.f.ClientPort, r.f.Server, r.f.SrvPort)
		got[k] = fmt.Sprintf("sni=%s version=%s ja4=%s ja4s=%s", r.res.SNI, r.res.TLSVersion, r.res.JA4, r.res.JA4S)
	}
	var cols map[string]int
	rows := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "#fields\t"); ok {
			cols = map[string]int{}
			for i, c := range strings.Split(rest, "\t") {
				cols[c] = i
			}
			continue
		}
		if strings.HasPrefix(line, "#") || cols == nil {
			continue
		}
		c := strings.Split(line, "\t")
		field := func(name string) string {
			if v := c[cols[name]]; v != "-" {
				return v
			}
			return ""
		}
		rows++
		k := strings.Join([]string{field("id.orig_h"), field("id.orig_p"), field("id.resp_h"), field("id.resp_p")}, " ")
		want := fmt.Sprintf("sni=%s version=%s ja4=%s ja4s=%s", field("server_name"), zeekVersion[field("version")], field("ja4"), field("ja4s"))
		if got[k] != want {
			t.Errorf("%s:\n got  %s\n want %s", k, got[k], want)
		}
	}
	if rows == 0 {
		t.Fatal("no rows in ssl.log")
	}
	t.Logf("Zeek ssl.log: %d connections compared", rows)
}
