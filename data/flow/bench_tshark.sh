#!/usr/bin/env bash
# Compares `etch extract` (pcap → flows.parquet, with SNI and JA3/JA4) with Debian's tshark
# extracting SNI and JA3 from the same capture, back to back, each pinned to one core
# (taskset -c $CPU, default 1) with GOMAXPROCS=1, so that etch's SHA-256 of the input shares
# that core. etch runs twice: cold (the input is hashed) and with a warm digest cache
# (--digest-cache, the input's SHA-256 remembered by file identity from the warm-up run).
# Prints wall-clock and CPU seconds, packets per second and the ratios.
# Usage: bench_tshark.sh CAPTURE [ETCH_BINARY]
set -euo pipefail
cap=${1:?capture}
etch=${2:-bin/etch}
cpu=${CPU:-1}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
pin=()
command -v taskset >/dev/null && pin=(taskset -c "$cpu")
# Warm-up: page cache, packet count, and the digest cache entry for the warm run.
packets=$("$etch" extract "$cap" -o "$out/warm.jsonl" --no-tls --seq-len 1 --digest-cache "$out/digests" 2>&1 | sed -n 's/.* packets=\([0-9]*\).*/\1/p')
cat "$cap" >/dev/null
TIMEFORMAT='%R %U %S'
cold_t=$( { time GOMAXPROCS=1 "${pin[@]}" "$etch" extract "$cap" -o "$out/cold.parquet" 2>/dev/null; } 2>&1 )
warm_t=$( { time GOMAXPROCS=1 "${pin[@]}" "$etch" extract "$cap" -o "$out/warm.parquet" --digest-cache "$out/digests" 2>/dev/null; } 2>&1 )
tshark_t=$( { time "${pin[@]}" tshark -r "$cap" -T fields -e tls.handshake.extensions_server_name -e tls.handshake.ja3 >"$out/tshark.tsv" 2>/dev/null; } 2>&1 )
cmp -s "$out/cold.parquet" "$out/warm.parquet" || echo "warning: the cold and warm outputs differ" >&2
read -r cr cu cs <<<"$cold_t"
read -r wr wu ws <<<"$warm_t"
read -r tr tu ts <<<"$tshark_t"
awk -v p="$packets" -v cr="$cr" -v cu="$cu" -v cs="$cs" -v wr="$wr" -v wu="$wu" -v ws="$ws" -v tr="$tr" -v tu="$tu" -v ts="$ts" 'BEGIN {
  cc = cu + cs; wc = wu + ws; tc = tu + ts
  printf "packets                        %d\n", p
  printf "etch extract (hashes input)    wall %.2f s  cpu %.2f s (user %.2f sys %.2f)  %.0f pkts/s wall  %.0f pkts/cpu-s\n", cr, cc, cu, cs, p/cr, p/cc
  printf "etch extract (digest cached)   wall %.2f s  cpu %.2f s (user %.2f sys %.2f)  %.0f pkts/s wall  %.0f pkts/cpu-s\n", wr, wc, wu, ws, p/wr, p/wc
  printf "tshark -T fields               wall %.2f s  cpu %.2f s (user %.2f sys %.2f)  %.0f pkts/s wall  %.0f pkts/cpu-s\n", tr, tc, tu, ts, p/tr, p/tc
  printf "ratio tshark/etch (hashing)    wall %.1fx  cpu %.1fx\n", tr/cr, tc/cc
  printf "ratio tshark/etch (cached)     wall %.1fx  cpu %.1fx\n", tr/wr, tc/wc
}'
echo "SNI rows: tshark $(grep -c . "$out/tshark.tsv" || true)"
