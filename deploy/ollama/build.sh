#!/usr/bin/env bash
# Builds Ollama from its Go module into the arcert cache, once.
#
# The module zip from the Go proxy leaves out llama/llama.cpp/vendor/ (the go command drops
# vendor directories), so the headers that directory would have held come from Debian
# (nlohmann-json3-dev, libstb-dev) and a stub miniaudio.h (only Ollama's audio code includes it).
# The build takes about six minutes on two cores; a cached binary is reused.
set -euo pipefail

version="${OLLAMA_VERSION:-v0.17.4}"
cache="${ARCERT_CACHE:-$HOME/.cache/arcert}/ollama-${version}"
bin="$cache/bin/ollama"

if [[ -x "$bin" ]]; then
	echo "ollama ${version}: cached at $bin"
	exit 0
fi

need=()
for pkg in nlohmann-json3-dev libstb-dev; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
command -v gcc >/dev/null && command -v g++ >/dev/null || need+=(build-essential)
if ((${#need[@]})); then
	echo "installing Debian packages: ${need[*]}"
	if [[ $(id -u) -ne 0 ]]; then
		echo "error: need root to apt-get install ${need[*]}; install them and rerun" >&2
		exit 1
	fi
	# Refresh the package lists only when a first install attempt cannot find a package.
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" ||
		{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"; }
fi

stub="$cache/stub-include"
mkdir -p "$stub/miniaudio" "$cache/bin"
cat >"$stub/miniaudio/miniaudio.h" <<'H'
/* Stub of miniaudio for Ollama's vendored mtmd-helper.cpp, the only includer: it decodes audio
 * input, which a text model never receives. Every decoder call fails, so audio input is refused
 * rather than decoded. MA_API is defined by the includer (static). */
#ifndef ARCERT_MINIAUDIO_STUB_H
#define ARCERT_MINIAUDIO_STUB_H
#include <stddef.h>
typedef int ma_result;
typedef unsigned long long ma_uint64;
typedef unsigned int ma_uint32;
typedef enum { ma_format_unknown = 0, ma_format_f32 = 5 } ma_format;
#define MA_SUCCESS 0
#define MA_ERROR (-1)
typedef struct { ma_format format; ma_uint32 channels; ma_uint32 sampleRate; } ma_decoder_config;
typedef struct { int unused; } ma_decoder;
static inline ma_decoder_config ma_decoder_config_init(ma_format f, ma_uint32 ch, ma_uint32 rate) {
    ma_decoder_config c; c.format = f; c.channels = ch; c.sampleRate = rate; return c;
}
static inline ma_result ma_decoder_init_memory(const void *d, size_t n, const ma_decoder_config *c, ma_decoder *dec) {
    (void)d; (void)n; (void)c; (void)dec; return MA_ERROR;
}
static inline ma_result ma_decoder_get_length_in_pcm_frames(ma_decoder *dec, ma_uint64 *n) {
    (void)dec; *n = 0; return MA_ERROR;
}
static inline ma_result ma_decoder_read_pcm_frames(ma_decoder *dec, void *out, ma_uint64 n, ma_uint64 *read) {
    (void)dec; (void)out; (void)n; *read = 0; return MA_ERROR;
}
static inline ma_result ma_decoder_uninit(ma_decoder *dec) { (void)dec; return MA_SUCCESS; }
#endif
H

echo "building ollama ${version} into $cache/bin (about 6 minutes on 2 cores)"
start=$(date +%s)
CGO_ENABLED=1 \
	CGO_CPPFLAGS="-I$stub -I/usr/include/stb ${CGO_CPPFLAGS:-}" \
	GOBIN="$cache/bin" \
	go install "github.com/ollama/ollama@${version}"
echo "ollama ${version}: built in $(($(date +%s) - start))s at $bin"
