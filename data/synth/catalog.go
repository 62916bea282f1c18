package synth

import (
	"crypto/tls"
	"fmt"
	"math"
	"math/rand/v2"
)

// Categories of services (the coarse label, Record.Category).
const (
	Web          = "Web"
	Email        = "Email"
	VoIP         = "VoIP"
	P2P          = "P2P"
	Gaming       = "Gaming"
	Streaming    = "Streaming"
	Chat         = "Chat"
	FileTransfer = "FileTransfer"
)

// Family is a TLS client family: what its ClientHello offers. Everything here maps onto a
// crypto/tls Config field, so JA3/JA4 differ between families exactly as far as these settings
// make Go's ClientHello differ (cipher suites and their order, groups, versions, ALPN, session
// ticket support, SNI).
type Family struct {
	Name       string
	MinVersion uint16
	MaxVersion uint16
	// Suites are the TLS 1.0–1.2 suites in preference order (TLS 1.3 suites are fixed by Go).
	Suites    []uint16
	Curves    []tls.CurveID
	ALPN      []string
	NoTickets bool
	NoSNI     bool
	// MSS is the client's TCP maximum segment size.
	MSS int
}

// Server is a server (or CDN edge) profile: certificate chain, TLS versions and ALPN it accepts,
// network distance.
type Server struct {
	Name string
	// Chain is the number of certificates sent (leaf + intermediates); SANs the number of DNS
	// names in the leaf (CDN certificates carry many, which makes the Certificate message large).
	Chain      int
	SANs       int
	MaxVersion uint16
	ALPN       []string
	NoTickets  bool
	// RTTms is the median round-trip time from the vantage point in milliseconds.
	RTTms float64
	// MSS is the server's TCP maximum segment size.
	MSS int
}

// Kind is how a service's application data flows.
type Kind int

// Kinds of application behaviour.
const (
	// RequestResponse: a client request, a server response, think time, repeat (web, API, mail).
	RequestResponse Kind = iota
	// Bulk: few requests, large paced responses (streaming, downloads).
	Bulk
	// Interactive: many small messages in both directions at a steady rhythm (chat, games, VoIP
	// signalling).
	Interactive
)

// LogNormal is a log-normal distribution given by its median and the standard deviation of its
// logarithm.
type LogNormal struct {
	Median float64
	Sigma  float64
}

func (d LogNormal) draw(r *rand.Rand) float64 {
	return d.Median * math.Exp(d.Sigma*r.NormFloat64())
}

// Service is one class of the traffic lab.
type Service struct {
	Name     string
	Category string
	// SNIs are the server names the service's flows use (empty for services without SNI).
	SNIs   []string
	Family string
	Server string
	// Group names the CDN-like profile shared with other services ("" when none): services of one
	// group share the client family, the server profile and nearly the same size and timing
	// distributions, so that they are genuinely hard to tell apart.
	Group string
	QUIC  bool
	Port  int
	Kind  Kind
	// Exchanges is the mean number of request/response exchanges (or messages, for Interactive).
	Exchanges float64
	Req       LogNormal // request (client message) size, bytes
	Resp      LogNormal // response (server message) size, bytes
	Think     LogNormal // server processing time, ms
	Gap       LogNormal // client pause between exchanges, ms
	// Resume is the probability that a flow resumes a TLS session (abbreviated handshake).
	Resume float64
}

var (
	suitesChrome = []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA,
	}
	suitesFirefox = []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA,
	}
	suitesSafari = []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
	}
	suitesOkhttp = []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	}
	suitesLegacy = []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_RSA_WITH_AES_256_CBC_SHA, tls.TLS_RSA_WITH_AES_128_CBC_SHA,
	}
	suitesGame = []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	}
)

const (
	v12 = tls.VersionTLS12
	v13 = tls.VersionTLS13
)

// families are the built-in TLS client families. Go's crypto/tls builds every ClientHello, so
// the families differ only where its Config can make them differ; several share suites or
// groups, so their fingerprints overlap partly (JA4 sorts suites and extensions; JA3 keeps order).
var families = []Family{
	{Name: "chrome", MinVersion: v12, MaxVersion: v13, Suites: suitesChrome,
		Curves: []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256, tls.CurveP384}, ALPN: []string{"h2", "http/1.1"}, MSS: 1460},
	{Name: "firefox", MinVersion: v12, MaxVersion: v13, Suites: suitesFirefox,
		Curves: []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521}, ALPN: []string{"h2", "http/1.1"}, MSS: 1460},
	{Name: "safari", MinVersion: v12, MaxVersion: v13, Suites: suitesSafari,
		Curves: []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521}, ALPN: []string{"h2", "http/1.1"}, MSS: 1440},
	{Name: "okhttp", MinVersion: v12, MaxVersion: v13, Suites: suitesOkhttp,
		Curves: []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384}, ALPN: []string{"h2", "http/1.1"}, MSS: 1400},
	{Name: "electron", MinVersion: v12, MaxVersion: v13, Suites: suitesChrome,
		Curves: []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256, tls.CurveP384}, ALPN: []string{"http/1.1"}, MSS: 1460},
	{Name: "goclient", MinVersion: v12, MaxVersion: v13,
		Curves: []tls.CurveID{tls.X25519, tls.CurveP256}, ALPN: []string{"h2"}, MSS: 1460},
	{Name: "mailclient", MinVersion: tls.VersionTLS10, MaxVersion: v12, Suites: suitesLegacy,
		Curves: []tls.CurveID{tls.CurveP256, tls.CurveP384}, NoTickets: true, MSS: 1460},
	{Name: "gameclient", MinVersion: v12, MaxVersion: v12, Suites: suitesGame,
		Curves: []tls.CurveID{tls.X25519}, MSS: 1380},
	{Name: "sipclient", MinVersion: v12, MaxVersion: v12, Suites: suitesOkhttp[:6],
		Curves: []tls.CurveID{tls.CurveP256, tls.X25519}, NoTickets: true, MSS: 1460},
	{Name: "p2pnode", MinVersion: v13, MaxVersion: v13,
		Curves: []tls.CurveID{tls.X25519}, ALPN: []string{"p2p/1"}, NoSNI: true, NoTickets: true, MSS: 1460},
	{Name: "quicbrowser", MinVersion: v13, MaxVersion: v13,
		Curves: []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256}, ALPN: []string{"h3"}, MSS: 1350},
}

// servers are the built-in server profiles.
var servers = []Server{
	{Name: "edge-a", Chain: 2, SANs: 60, MaxVersion: v13, ALPN: []string{"h2", "http/1.1"}, RTTms: 12, MSS: 1460},
	{Name: "edge-b", Chain: 2, SANs: 25, MaxVersion: v13, ALPN: []string{"h2", "http/1.1", "h3"}, RTTms: 18, MSS: 1460},
	{Name: "video-edge", Chain: 2, SANs: 8, MaxVersion: v13, ALPN: []string{"h2", "http/1.1", "h3"}, RTTms: 9, MSS: 1460},
	{Name: "cloud-api", Chain: 3, SANs: 3, MaxVersion: v13, ALPN: []string{"h2", "http/1.1"}, RTTms: 35, MSS: 1440},
	{Name: "origin", Chain: 2, SANs: 2, MaxVersion: v13, ALPN: []string{"h2", "http/1.1"}, RTTms: 60, MSS: 1460},
	{Name: "legacy-mail", Chain: 3, SANs: 4, MaxVersion: v12, NoTickets: true, RTTms: 45, MSS: 1460},
	{Name: "mail-cloud", Chain: 2, SANs: 12, MaxVersion: v13, ALPN: []string{"h2", "http/1.1"}, RTTms: 25, MSS: 1460},
	{Name: "realtime", Chain: 1, SANs: 2, MaxVersion: v13, ALPN: []string{"http/1.1", "h2", "h3"}, RTTms: 30, MSS: 1460},
	{Name: "game-srv", Chain: 1, SANs: 1, MaxVersion: v12, RTTms: 40, MSS: 1380},
	{Name: "sip-srv", Chain: 2, SANs: 1, MaxVersion: v12, NoTickets: true, RTTms: 50, MSS: 1460},
	{Name: "peer", Chain: 1, SANs: 0, MaxVersion: v13, ALPN: []string{"p2p/1"}, NoTickets: true, RTTms: 90, MSS: 1460},
	{Name: "storage", Chain: 3, SANs: 6, MaxVersion: v13, ALPN: []string{"h2", "http/1.1"}, RTTms: 28, MSS: 1460},
}

func ln(median, sigma float64) LogNormal { return LogNormal{median, sigma} }

// catalog is the built-in list of services in popularity order (rank 1 first). Three groups
// share CDN-like profiles: news/shop/blog on edge-a, two video services on video-edge, and two
// mobile APIs on cloud-api.
var catalog = []Service{
	{Name: "searchly", Category: Web, SNIs: []string{"www.searchly.com", "suggest.searchly.com"}, Family: "chrome", Server: "edge-b", Port: 443,
		Kind: RequestResponse, Exchanges: 3, Req: ln(450, 0.4), Resp: ln(9000, 0.9), Think: ln(25, 0.5), Gap: ln(300, 1.2), Resume: 0.4},
	{Name: "vidflix", Category: Streaming, SNIs: []string{"cdn1.vidflix.net", "api.vidflix.net"}, Family: "chrome", Server: "video-edge", Group: "video", Port: 443,
		Kind: Bulk, Exchanges: 2, Req: ln(600, 0.3), Resp: ln(45000, 0.7), Think: ln(8, 0.5), Gap: ln(900, 0.6), Resume: 0.5},
	{Name: "dailynews", Category: Web, SNIs: []string{"www.dailynews.com", "img.dailynews.com"}, Family: "chrome", Server: "edge-a", Group: "edge-a", Port: 443,
		Kind: RequestResponse, Exchanges: 5, Req: ln(520, 0.35), Resp: ln(14000, 1.0), Think: ln(15, 0.6), Gap: ln(120, 1.0), Resume: 0.3},
	{Name: "chatter", Category: Chat, SNIs: []string{"gateway.chatter.im"}, Family: "electron", Server: "realtime", Port: 443,
		Kind: Interactive, Exchanges: 14, Req: ln(180, 0.6), Resp: ln(260, 0.8), Think: ln(5, 0.4), Gap: ln(1500, 1.0), Resume: 0.2},
	{Name: "mailbox", Category: Email, SNIs: []string{"imap.mailbox.org", "smtp.mailbox.org"}, Family: "mailclient", Server: "legacy-mail", Port: 993,
		Kind: RequestResponse, Exchanges: 6, Req: ln(90, 0.5), Resp: ln(1800, 1.4), Think: ln(20, 0.5), Gap: ln(60, 0.8)},
	{Name: "shopmart", Category: Web, SNIs: []string{"www.shopmart.com", "static.shopmart.com"}, Family: "chrome", Server: "edge-a", Group: "edge-a", Port: 443,
		Kind: RequestResponse, Exchanges: 5, Req: ln(540, 0.35), Resp: ln(15500, 1.0), Think: ln(16, 0.6), Gap: ln(125, 1.0), Resume: 0.3},
	{Name: "tubecast", Category: Streaming, SNIs: []string{"media.tubecast.tv"}, Family: "quicbrowser", Server: "video-edge", Group: "video", QUIC: true, Port: 443,
		Kind: Bulk, Exchanges: 2, Req: ln(600, 0.3), Resp: ln(48000, 0.7), Think: ln(8, 0.5), Gap: ln(900, 0.6)},
	{Name: "photogram", Category: Web, SNIs: []string{"i.photogram.app", "graph.photogram.app"}, Family: "okhttp", Server: "cloud-api", Group: "mobile-api", Port: 443,
		Kind: RequestResponse, Exchanges: 4, Req: ln(700, 0.5), Resp: ln(22000, 1.1), Think: ln(40, 0.5), Gap: ln(400, 1.0), Resume: 0.5},
	{Name: "talkapp", Category: Chat, SNIs: []string{"chat.talkapp.io"}, Family: "okhttp", Server: "realtime", Port: 443,
		Kind: Interactive, Exchanges: 10, Req: ln(140, 0.5), Resp: ln(200, 0.7), Think: ln(5, 0.4), Gap: ln(2500, 1.1), Resume: 0.4},
	{Name: "meetcall", Category: VoIP, SNIs: []string{"sip.meetcall.com"}, Family: "sipclient", Server: "sip-srv", Port: 5061,
		Kind: Interactive, Exchanges: 12, Req: ln(620, 0.3), Resp: ln(480, 0.3), Think: ln(3, 0.3), Gap: ln(3000, 0.9)},
	{Name: "cloudbox", Category: FileTransfer, SNIs: []string{"upload.cloudbox.io", "dl.cloudbox.io"}, Family: "goclient", Server: "storage", Port: 443,
		Kind: Bulk, Exchanges: 2, Req: ln(900, 0.4), Resp: ln(70000, 0.9), Think: ln(30, 0.5), Gap: ln(200, 0.8), Resume: 0.2},
	{Name: "techblog", Category: Web, SNIs: []string{"www.techblog.dev"}, Family: "firefox", Server: "edge-a", Group: "edge-a", Port: 443,
		Kind: RequestResponse, Exchanges: 4, Req: ln(500, 0.35), Resp: ln(13000, 1.0), Think: ln(15, 0.6), Gap: ln(130, 1.0), Resume: 0.3},
	{Name: "arenafight", Category: Gaming, SNIs: []string{"lobby.arenafight.gg"}, Family: "gameclient", Server: "game-srv", Port: 443,
		Kind: Interactive, Exchanges: 20, Req: ln(90, 0.3), Resp: ln(160, 0.4), Think: ln(2, 0.3), Gap: ln(50, 0.4)},
	{Name: "streamly", Category: Streaming, SNIs: []string{"edge.streamly.tv"}, Family: "safari", Server: "video-edge", Group: "video", Port: 443,
		Kind: Bulk, Exchanges: 2, Req: ln(580, 0.3), Resp: ln(42000, 0.7), Think: ln(9, 0.5), Gap: ln(950, 0.6), Resume: 0.5},
	{Name: "workmail", Category: Email, SNIs: []string{"outlook.workmail.com"}, Family: "chrome", Server: "mail-cloud", Port: 443,
		Kind: RequestResponse, Exchanges: 6, Req: ln(800, 0.5), Resp: ln(6000, 1.1), Think: ln(60, 0.6), Gap: ln(800, 1.2), Resume: 0.4},
	{Name: "swarmshare", Category: P2P, Family: "p2pnode", Server: "peer", Port: 6881,
		Kind: Bulk, Exchanges: 4, Req: ln(200, 0.3), Resp: ln(16400, 0.2), Think: ln(40, 0.8), Gap: ln(150, 0.9)},
	{Name: "fitlog", Category: Web, SNIs: []string{"api.fitlog.app"}, Family: "okhttp", Server: "cloud-api", Group: "mobile-api", Port: 443,
		Kind: RequestResponse, Exchanges: 4, Req: ln(720, 0.5), Resp: ln(20000, 1.1), Think: ln(42, 0.5), Gap: ln(420, 1.0), Resume: 0.5},
	{Name: "wikiref", Category: Web, SNIs: []string{"en.wikiref.org"}, Family: "firefox", Server: "origin", Port: 443,
		Kind: RequestResponse, Exchanges: 4, Req: ln(480, 0.3), Resp: ln(30000, 0.9), Think: ln(30, 0.5), Gap: ln(2000, 1.0), Resume: 0.4},
	{Name: "voxphone", Category: VoIP, SNIs: []string{"edge.voxphone.net"}, Family: "quicbrowser", Server: "realtime", QUIC: true, Port: 443,
		Kind: Interactive, Exchanges: 24, Req: ln(170, 0.1), Resp: ln(170, 0.1), Think: ln(1, 0.2), Gap: ln(20, 0.15)},
	{Name: "musicbox", Category: Streaming, SNIs: []string{"audio.musicbox.fm"}, Family: "okhttp", Server: "edge-b", Port: 443,
		Kind: Bulk, Exchanges: 3, Req: ln(400, 0.3), Resp: ln(30000, 0.5), Think: ln(20, 0.4), Gap: ln(1500, 0.5), Resume: 0.5},
	{Name: "codehub", Category: Web, SNIs: []string{"codehub.com", "api.codehub.com"}, Family: "firefox", Server: "edge-b", Port: 443,
		Kind: RequestResponse, Exchanges: 3, Req: ln(650, 0.4), Resp: ln(11000, 1.2), Think: ln(45, 0.6), Gap: ln(700, 1.1), Resume: 0.3},
	{Name: "pixelquest", Category: Gaming, SNIs: []string{"play.pixelquest.io"}, Family: "electron", Server: "realtime", Port: 443,
		Kind: Interactive, Exchanges: 18, Req: ln(120, 0.4), Resp: ln(300, 0.5), Think: ln(3, 0.3), Gap: ln(80, 0.5)},
	{Name: "securemail", Category: Email, SNIs: []string{"mx.securemail.ch"}, Family: "mailclient", Server: "legacy-mail", Port: 465,
		Kind: RequestResponse, Exchanges: 3, Req: ln(2500, 1.0), Resp: ln(150, 0.5), Think: ln(35, 0.5), Gap: ln(40, 0.6)},
	{Name: "socialfeed", Category: Web, SNIs: []string{"feed.socialfeed.com", "cdn.socialfeed.com"}, Family: "safari", Server: "edge-b", Port: 443,
		Kind: RequestResponse, Exchanges: 6, Req: ln(560, 0.4), Resp: ln(18000, 1.1), Think: ln(20, 0.5), Gap: ln(250, 1.0), Resume: 0.5},
	{Name: "filedrop", Category: FileTransfer, SNIs: []string{"files.filedrop.io"}, Family: "chrome", Server: "storage", Port: 443,
		Kind: Bulk, Exchanges: 2, Req: ln(40000, 0.9), Resp: ln(400, 0.3), Think: ln(50, 0.5), Gap: ln(300, 0.8), Resume: 0.3},
	{Name: "meshnet", Category: P2P, Family: "p2pnode", Server: "peer", Port: 4001,
		Kind: Interactive, Exchanges: 12, Req: ln(300, 0.8), Resp: ln(900, 1.0), Think: ln(30, 0.7), Gap: ln(400, 1.0)},
	{Name: "newsquic", Category: Web, SNIs: []string{"www.newsquic.com"}, Family: "quicbrowser", Server: "edge-b", QUIC: true, Port: 443,
		Kind: RequestResponse, Exchanges: 5, Req: ln(500, 0.35), Resp: ln(12000, 1.0), Think: ln(15, 0.6), Gap: ln(150, 1.0)},
	{Name: "videoconf", Category: VoIP, SNIs: []string{"media.videoconf.app"}, Family: "electron", Server: "realtime", Port: 443,
		Kind: Interactive, Exchanges: 24, Req: ln(900, 0.3), Resp: ln(1000, 0.3), Think: ln(1, 0.2), Gap: ln(33, 0.2), Resume: 0.3},
	{Name: "cardgame", Category: Gaming, SNIs: []string{"api.cardgame.gg"}, Family: "okhttp", Server: "game-srv", Port: 443,
		Kind: Interactive, Exchanges: 15, Req: ln(200, 0.5), Resp: ln(400, 0.6), Think: ln(10, 0.5), Gap: ln(1200, 0.8)},
	{Name: "notesync", Category: Web, SNIs: []string{"sync.notesync.app"}, Family: "goclient", Server: "cloud-api", Port: 443,
		Kind: RequestResponse, Exchanges: 3, Req: ln(1200, 0.8), Resp: ln(900, 0.8), Think: ln(35, 0.5), Gap: ln(5000, 0.8), Resume: 0.6},
	{Name: "messenger", Category: Chat, SNIs: []string{"edge.messenger.chat"}, Family: "safari", Server: "realtime", Port: 443,
		Kind: Interactive, Exchanges: 12, Req: ln(160, 0.5), Resp: ln(230, 0.7), Think: ln(5, 0.4), Gap: ln(2000, 1.0), Resume: 0.3},
	{Name: "mapsnav", Category: Web, SNIs: []string{"tiles.mapsnav.com"}, Family: "chrome", Server: "edge-b", Port: 443,
		Kind: RequestResponse, Exchanges: 8, Req: ln(400, 0.2), Resp: ln(25000, 0.6), Think: ln(10, 0.4), Gap: ln(200, 0.7), Resume: 0.6},
}

// Catalog returns the built-in services in popularity order.
func Catalog() []Service { return append([]Service(nil), catalog...) }

// services returns k services: the first k of the catalog, then procedurally made ones (seeded)
// when k exceeds it.
func services(k int, seed uint64) []Service {
	out := make([]Service, 0, k)
	out = append(out, catalog[:min(k, len(catalog))]...)
	r := rand.New(rand.NewPCG(seed, 0x5e41ce5))
	cats := []string{Web, Email, VoIP, P2P, Gaming, Streaming, Chat, FileTransfer}
	tcpFamilies := []string{"chrome", "firefox", "safari", "okhttp", "electron", "goclient"}
	tcpServers := []string{"edge-a", "edge-b", "origin", "cloud-api", "storage", "realtime", "mail-cloud"}
	for i := len(out); i < k; i++ {
		base := catalog[r.IntN(len(catalog))]
		s := base
		s.Name = fmt.Sprintf("svc%03d", i+1)
		s.Category = cats[r.IntN(len(cats))]
		s.SNIs = []string{fmt.Sprintf("www.svc%03d.example", i+1)}
		s.Family = tcpFamilies[r.IntN(len(tcpFamilies))]
		s.Server = tcpServers[r.IntN(len(tcpServers))]
		s.Group, s.QUIC, s.Port = "", false, 443
		jit := func(d LogNormal) LogNormal {
			return LogNormal{d.Median * math.Exp(0.6*r.NormFloat64()), d.Sigma * (0.7 + 0.6*r.Float64())}
		}
		s.Req, s.Resp, s.Think, s.Gap = jit(s.Req), jit(s.Resp), jit(s.Think), jit(s.Gap)
		s.Exchanges = max(1, s.Exchanges*math.Exp(0.4*r.NormFloat64()))
		s.Resume = r.Float64() * 0.6
		out = append(out, s)
	}
	return out
}

func familyByName(name string) (*Family, error) {
	for i := range families {
		if families[i].Name == name {
			return &families[i], nil
		}
	}
	return nil, fmt.Errorf("synth: unknown client family %q", name)
}

func serverByName(name string) (*Server, error) {
	for i := range servers {
		if servers[i].Name == name {
			return &servers[i], nil
		}
	}
	return nil, fmt.Errorf("synth: unknown server profile %q", name)
}

// zipfWeights returns normalised weights w_i ∝ 1/i^s for i = 1..k.
func zipfWeights(k int, s float64) []float64 {
	w := make([]float64, k)
	sum := 0.0
	for i := range w {
		w[i] = 1 / math.Pow(float64(i+1), s)
		sum += w[i]
	}
	for i := range w {
		w[i] /= sum
	}
	return w
}
