#!/usr/bin/env bash
# Fetches CUDA 11.8 headers, stub libraries and NVRTC from Debian bookworm's non-free component
# (package nvidia-cuda-dev and the NVRTC runtime) into a cache directory, without touching the
# system's apt sources: a private apt configuration, `apt-get download`, and extraction of just
# the files a build needs. Prints the root to use as R in CGO_CFLAGS=-I$R/usr/include,
# CGO_LDFLAGS=-L$R/usr/lib/x86_64-linux-gnu/stubs and LD_LIBRARY_PATH=$R/usr/lib/x86_64-linux-gnu.
# Repeat runs find the cache and cost nothing.
set -euo pipefail
CACHE=${ETCH_CUDA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/etch/cuda-11.8}
R=$CACHE/root
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
