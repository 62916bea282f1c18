package data

// SchemaVersion is the version of the flow schema that Record describes. It is written to every
// file's footer under MetaSchemaVersion and checked by readers.
const SchemaVersion = 1

// Record is one bidirectional flow: the row type of a flows.parquet file (schema v1).
//
// The client is the side that sent the first SYN (TCP) or the first packet. "fwd" means
// client→server, "bwd" server→client. Every column is documented in README.md, "Flow schema";
// keep the two in step.
type Record struct {
	// Capture is the base name of the input the flow came from (a pcap, an imported file, or
	// "synth"); grouped splits use it.
	Capture string `parquet:"capture,dict" json:"capture"`
	// StartUS and EndUS are the first and last packet timestamps, microseconds since the Unix epoch.
	StartUS int64 `parquet:"start_us" json:"start_us"`
	EndUS   int64 `parquet:"end_us" json:"end_us"`
	// Proto is "tcp" or "udp"; QUIC is true when a QUIC Initial was decoded on a UDP flow.
	Proto     string `parquet:"proto,dict" json:"proto"`
	QUIC      bool   `parquet:"quic" json:"quic"`
	IPVersion int32  `parquet:"ip_version" json:"ip_version"`
	// SrcIP and DstIP are the client and server addresses: empty unless the extractor was asked to
	// keep them, or keyed prefix-preserving pseudonyms.
	SrcIP   string `parquet:"src_ip" json:"src_ip"`
	DstIP   string `parquet:"dst_ip" json:"dst_ip"`
	SrcPort int32  `parquet:"src_port" json:"src_port"`
	DstPort int32  `parquet:"dst_port" json:"dst_port"`
	// EndReason tells why the flow ended: fin, rst, idle, active, eof (end of input).
	EndReason string `parquet:"end_reason,dict" json:"end_reason"`

	// TLS handshake metadata (empty when not seen). TLSVersion is the negotiated version when the
	// ServerHello was seen ("1.3", "1.2", ...), else the ClientHello's highest offered version.
	SNI        string `parquet:"sni,dict" json:"sni"`
	ALPN       string `parquet:"alpn,dict" json:"alpn"`
	TLSVersion string `parquet:"tls_version,dict" json:"tls_version"`
	JA3        string `parquet:"ja3,dict" json:"ja3"`
	JA3Full    string `parquet:"ja3_full,dict" json:"ja3_full"`
	JA3S       string `parquet:"ja3s,dict" json:"ja3s"`
	JA3SFull   string `parquet:"ja3s_full,dict" json:"ja3s_full"`
	JA4        string `parquet:"ja4,dict" json:"ja4"`
	JA4R       string `parquet:"ja4_r,dict" json:"ja4_r"`
	JA4S       string `parquet:"ja4s,dict" json:"ja4s"`

	// Labels: Label is the class used for training (SNI by default), Service and Category come
	// from label rules ("unknown" when no rule matched).
	Label    string `parquet:"label,dict" json:"label"`
	Service  string `parquet:"service,dict" json:"service"`
	Category string `parquet:"category,dict" json:"category"`

	// Counters.
	PktsFwd         int64   `parquet:"pkts_fwd" json:"pkts_fwd"`
	PktsBwd         int64   `parquet:"pkts_bwd" json:"pkts_bwd"`
	BytesFwd        int64   `parquet:"bytes_fwd" json:"bytes_fwd"`
	BytesBwd        int64   `parquet:"bytes_bwd" json:"bytes_bwd"`
	PayloadBytesFwd int64   `parquet:"payload_bytes_fwd" json:"payload_bytes_fwd"`
	PayloadBytesBwd int64   `parquet:"payload_bytes_bwd" json:"payload_bytes_bwd"`
	DurationS       float64 `parquet:"duration_s" json:"duration_s"`
	PktsPerS        float64 `parquet:"pkts_per_s" json:"pkts_per_s"`
	BytesPerS       float64 `parquet:"bytes_per_s" json:"bytes_per_s"`
	SYN             int32   `parquet:"syn" json:"syn"`
	FIN             int32   `parquet:"fin" json:"fin"`
	RST             int32   `parquet:"rst" json:"rst"`
	PSH             int32   `parquet:"psh" json:"psh"`
	ACK             int32   `parquet:"ack" json:"ack"`
	URG             int32   `parquet:"urg" json:"urg"`

	// Stats are the 48 per-direction statistics (size_*, iat_*, payload_*).
	Stats

	// First-N sequences and Stats are written uncompressed (the other columns zstd): loading
	// decodes them at about 1.4M flows per CPU second instead of 0.38M with zstd, for files
	// about 2.7× larger (1M flows with 100-long sequences: 790 MB instead of 297 MB); see
	// BenchmarkLoad.
	//
	// First-N sequences, each exactly N long (N in the footer, MetaSeqLen), zero-padded:
	// SeqSize is the IP packet length (header included), + client→server, − server→client;
	// SeqPayload the transport payload length; SeqIATUS microseconds since the flow's previous
	// packet (0 for the first; saturates at MaxInt32); SeqDir +1/−1.
	SeqSize    []int32 `parquet:"seq_size,list,uncompressed" json:"seq_size"`
	SeqPayload []int32 `parquet:"seq_payload,list,uncompressed" json:"seq_payload"`
	SeqIATUS   []int32 `parquet:"seq_iat_us,list,uncompressed" json:"seq_iat_us"`
	SeqDir     []int32 `parquet:"seq_dir,list,uncompressed" json:"seq_dir"`

	// Extra holds imported features that are not part of the fixed schema (for example ISCX's
	// time-based features); their names are in the footer under MetaExtraNames. Empty for
	// extracted flows.
	Extra []float32 `parquet:"extra,list" json:"extra,omitempty"`
}
