#!/usr/bin/env bash
# Fetches CUDA 11.8 headers, stub libraries and NVRTC from Debian bookworm's non-free component
# (package nvidia-cuda-dev and the NVRTC runtime) into a cache directory, without touching the
# system's apt sources: a private apt configuration, `apt-get download`, and extraction of just
# the files a build needs. Prints the root to use as R in CGO_CFLAGS=-I$R/usr/include,
# CGO_LDFLAGS=-L$R/usr/lib/x86_64-linux-gnu/stubs and LD_LIBRARY_PATH=$R/usr/lib/x86_64-linux-gnu.
# Repeat runs find the cache and cost nothing.
#
# With --runtime it also fetches cuBLAS 11 (libcublas11, libcublaslt11; about 250 MB) into the same
# root, for running bin/etch-cuda on a GPU machine that has the NVIDIA driver but no CUDA 11
# toolkit (bin/etch-cuda's rpath points at $R/usr/lib/x86_64-linux-gnu).
set -euo pipefail
CACHE=${ETCH_CUDA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/etch/cuda-11.8}
R=$CACHE/root
if [ "${1:-}" = "--runtime" ]; then
  "$0" >/dev/null
  if [ -f "$R/.runtime-complete" ]; then echo "$R"; exit 0; fi
  APT=$CACHE/apt
  O=(-o "Dir::Etc::SourceList=$APT/sources.list" -o Dir::Etc::SourceParts=/dev/null
     -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache::Archives=$APT/archives"
     -o Dir::State::status=/dev/null -o APT::Sandbox::User=root -q)
  echo "fetch-cuda: downloading libcublas11 and libcublaslt11 (about 250 MB, once)" >&2
  mkdir -p "$APT/lists/partial" "$APT/debs"
  apt-get "${O[@]}" update >/dev/null
  (cd "$APT/debs" && apt-get "${O[@]}" download libcublas11 libcublaslt11 >/dev/null)
  rm -rf "$CACHE/rt.tmp" && mkdir -p "$CACHE/rt.tmp"
  for p in libcublas11 libcublaslt11; do dpkg-deb -x "$APT"/debs/${p}_*.deb "$CACHE/rt.tmp"; done
  cp -a "$CACHE"/rt.tmp/usr/lib/x86_64-linux-gnu/libcublas*.so.11* "$R/usr/lib/x86_64-linux-gnu/"
  rm -rf "$CACHE/rt.tmp" "$APT"/debs/libcublas*.deb
  touch "$R/.runtime-complete"
  echo "$R"
  exit 0
fi
if [ -f "$R/.complete" ]; then echo "$R"; exit 0; fi

APT=$CACHE/apt
mkdir -p "$APT/lists/partial" "$APT/archives/partial" "$APT/debs"
cat > "$APT/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm contrib non-free
SRC
O=(-o "Dir::Etc::SourceList=$APT/sources.list" -o Dir::Etc::SourceParts=/dev/null
   -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache::Archives=$APT/archives"
   -o Dir::State::status=/dev/null -o APT::Sandbox::User=root -q)
echo "fetch-cuda: downloading nvidia-cuda-dev 11.8 and NVRTC (about 800 MB, once)" >&2
apt-get "${O[@]}" update >/dev/null
(cd "$APT/debs" && apt-get "${O[@]}" download nvidia-cuda-dev libnvrtc11.2 libnvrtc-builtins11.8 libcudart11.0 >/dev/null)

rm -rf "$R.tmp" && mkdir -p "$R.tmp"
dpkg-deb --fsys-tarfile "$APT"/debs/nvidia-cuda-dev_*.deb | tar -x -C "$R.tmp" \
  --wildcards './usr/include/*' './usr/lib/x86_64-linux-gnu/stubs/*' \
  './usr/lib/x86_64-linux-gnu/libnvrtc.so' './usr/lib/x86_64-linux-gnu/libcudart.so' \
  './usr/lib/x86_64-linux-gnu/libcublas.so' './usr/lib/x86_64-linux-gnu/libcublasLt.so'
for p in libnvrtc11.2 libnvrtc-builtins11.8 libcudart11.0; do
  dpkg-deb -x "$APT"/debs/${p}_*.deb "$R.tmp"
done
rm -f "$APT"/debs/*.deb
touch "$R.tmp/.complete"
rm -rf "$R" && mv "$R.tmp" "$R"
echo "$R"
