#!/usr/bin/env bash
# Compares `etch extract` (pcap → flows.parquet, with SNI and JA3/JA4) with Debian's tshark
# extracting SNI and JA3 from the same capture. Prints wall-clock and CPU seconds, packets per
# second of each, and the ratios. Usage: bench_tshark.sh CAPTURE [ETCH_BINARY]
set -euo pipefail
cap=${1:?capture}
etch=${2:-bin/etch}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
packets=$(ETCH_BENCH_PCAP=$cap "$etch" extract "$cap" -o "$out/warm.jsonl" --no-tls --seq-len 1 2>&1 | sed -n 's/.* packets=\([0-9]*\).*/\1/p')
cat "$cap" >/dev/null # page cache
TIMEFORMAT='%R %U %S'
# etch: single core for the pipeline (GOMAXPROCS=1: the SHA-256 goroutine shares that core).
etch_t=$( { time GOMAXPROCS=1 "$etch" extract "$cap" -o "$out/flows.parquet" 2>/dev/null; } 2>&1 )
tshark_t=$( { time tshark -r "$cap" -T fields -e tls.handshake.extensions_server_name -e tls.handshake.ja3 >"$out/tshark.tsv" 2>/dev/null; } 2>&1 )
read -r er eu es <<<"$etch_t"
read -r tr tu ts <<<"$tshark_t"
awk -v p="$packets" -v er="$er" -v eu="$eu" -v es="$es" -v tr="$tr" -v tu="$tu" -v ts="$ts" 'BEGIN {
  ec = eu + es; tc = tu + ts
  printf "packets            %d\n", p
  printf "etch extract       wall %.2f s  cpu %.2f s  %.0f pkts/s wall  %.0f pkts/cpu-s\n", er, ec, p/er, p/ec
  printf "tshark -T fields   wall %.2f s  cpu %.2f s  %.0f pkts/s wall  %.0f pkts/cpu-s\n", tr, tc, p/tr, p/tc
  printf "ratio etch/tshark  wall %.1fx  cpu %.1fx\n", tr/er, tc/ec
}'
echo "SNI rows: tshark $(grep -c . "$out/tshark.tsv" || true)"
