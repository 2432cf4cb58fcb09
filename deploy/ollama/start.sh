#!/usr/bin/env bash
# Starts Ollama (built by build.sh) with the tiny model, and optionally the nginx key gateway.
#
#   start.sh --model FILE.gguf [--mode one-slot|multi-slot] [--gateway] [--run DIR]
#
# one-slot is Ollama's default (OLLAMA_NUM_PARALLEL=1, llama.cpp runner): one prompt cache,
# which any other prompt evicts. multi-slot is OLLAMA_NEW_ENGINE=1 OLLAMA_NUM_PARALLEL=4
# OLLAMA_MULTIUSER_CACHE=1: several cached prompts at once, shared by every caller. Ollama
# listens on 127.0.0.1:11434, the gateway on 127.0.0.1:11480. Process ids, logs and the model
# store live in the run directory; stop.sh --run DIR stops everything and removes the store.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="${OLLAMA_VERSION:-v0.17.4}"
bin="${OLLAMA_BIN:-${ARCERT_CACHE:-$HOME/.cache/arcert}/ollama-${version}/bin/ollama}"
run="${OLLAMA_RUN:-${TMPDIR:-/tmp}/arcert-ollama}"
mode=one-slot gateway=0 model="" name="${OLLAMA_MODEL_NAME:-arcert-tiny}"
# The targets in fixtures/targets name these addresses; override only for a side experiment.
ollama_addr="${OLLAMA_ADDR:-127.0.0.1:11434}" gateway_addr="${OLLAMA_GATEWAY_ADDR:-127.0.0.1:11480}"
key_a="${OLLAMA_GATEWAY_KEY_A:-arcert-ollama-tenant-a}"
key_b="${OLLAMA_GATEWAY_KEY_B:-arcert-ollama-tenant-b}"

die() { echo "start.sh: $*" >&2; exit 1; }
while (($#)); do
	case "$1" in
	--mode) mode="$2"; shift 2 ;;
	--gateway) gateway=1; shift ;;
	--model) model="$2"; shift 2 ;;
	--name) name="$2"; shift 2 ;;
	--run) run="$2"; shift 2 ;;
	*) die "unknown argument $1 (see the comment at the top of this script)" ;;
	esac
done
[[ -n "$model" && -f "$model" ]] || die "--model FILE.gguf is required and must exist (got '${model}')"
[[ -x "$bin" ]] || die "no ollama binary at $bin: run deploy/ollama/build.sh first"
model="$(cd "$(dirname "$model")" && pwd)/$(basename "$model")"

# port_free fails when something already answers on host:port, so a stale server is never
# certified in place of the one this script starts.
port_free() { ! (exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null; }
# wait_http polls url until it answers 200, for at most $2 seconds, giving up at once if the
# process $3 (when given) has exited.
wait_http() {
	local url="$1" deadline=$((SECONDS + $2)) pid="${3:-}"
	until curl -fs -o /dev/null --max-time 2 "$url" 2>/dev/null; do
		((SECONDS < deadline)) || return 1
		[[ -z "$pid" ]] || kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.2
	done
}

# Checked before anything starts, so a missing tool leaves nothing running behind it.
((gateway == 0)) || command -v nginx >/dev/null || die "nginx is missing: apt-get install -y nginx-light"
port_free "$ollama_addr" || die "$ollama_addr is already in use: stop it first (deploy/ollama/stop.sh --run DIR)"
((gateway == 0)) || port_free "$gateway_addr" || die "$gateway_addr is already in use"

mkdir -p "$run/models"
case "$mode" in
one-slot) engine=(OLLAMA_NUM_PARALLEL=1) ;;
multi-slot) engine=(OLLAMA_NEW_ENGINE=1 OLLAMA_NUM_PARALLEL=4 OLLAMA_MULTIUSER_CACHE=1) ;;
*) die "--mode must be one-slot or multi-slot, not $mode" ;;
esac

# The model stays loaded for the whole run (KEEP_ALIVE=-1): an unload halfway would read as
# a latency fault. setsid gives the server and its runner their own process group, for stop.sh.
env OLLAMA_HOST="$ollama_addr" OLLAMA_MODELS="$run/models" OLLAMA_KEEP_ALIVE=-1 \
	OLLAMA_NOPRUNE=1 HOME="$run" "${engine[@]}" \
	setsid "$bin" serve >"$run/ollama.log" 2>&1 &
echo $! >"$run/ollama.pid"
echo "ollama serve ($mode) pid $(cat "$run/ollama.pid"), log $run/ollama.log"
fail() { echo "start.sh: $*" >&2; tail -n 20 "$run/ollama.log" >&2 || true; "$here/stop.sh" --run "$run" >&2 || true; exit 1; }
wait_http "http://$ollama_addr/api/version" 60 "$(cat "$run/ollama.pid")" || fail "ollama did not answer on $ollama_addr within 60s, or exited"

# One compute thread by default: on two shared cores ggml's second thread spin-waits for the first
# whenever another process holds a core, and 32 tokens took 0.9-3.9 s with two threads against
# 25 ms with one (this 0.85 M-parameter model gains nothing from a second thread).
cat >"$run/Modelfile" <<MF
FROM $model
TEMPLATE "{{ .Prompt }}"
PARAMETER num_ctx 2048
PARAMETER num_thread ${OLLAMA_NUM_THREAD:-1}
MF
OLLAMA_HOST="$ollama_addr" HOME="$run" "$bin" create "$name" -f "$run/Modelfile" >"$run/create.log" 2>&1 ||
	fail "ollama create $name failed: $(tail -n 3 "$run/create.log")"
# Load the model now, so the first certified request does not pay for it.
curl -fsS --max-time 120 "http://$ollama_addr/api/generate" \
	-d "{\"model\":\"$name\",\"prompt\":\"hello\",\"stream\":false,\"keep_alive\":-1,\"options\":{\"num_predict\":1}}" \
	-o "$run/warmup.json" || fail "the model did not load within 120s"
echo "model $name loaded from $model"

if ((gateway)); then
	mkdir -p "$run/nginx"
	sed -e "s|@RUN@|$run/nginx|g" -e "s|@KEY_A@|$key_a|g" -e "s|@KEY_B@|$key_b|g" \
		-e "s|@UPSTREAM@|$ollama_addr|g" -e "s|@LISTEN@|$gateway_addr|g" \
		"$here/gateway.conf.tmpl" >"$run/nginx/gateway.conf"
	nginx -t -q -c "$run/nginx/gateway.conf" -p "$run/nginx" 2>"$run/nginx/test.log" ||
		fail "the gateway config does not load: $(cat "$run/nginx/test.log")"
	setsid nginx -c "$run/nginx/gateway.conf" -p "$run/nginx" >"$run/nginx/stdout.log" 2>&1 &
	echo $! >"$run/gateway.pid"
	wait_http "http://$gateway_addr/healthz" 20 "$(cat "$run/gateway.pid")" || fail "the gateway did not answer on $gateway_addr within 20s, or exited"
	echo "gateway pid $(cat "$run/gateway.pid") on $gateway_addr (tenant-a, tenant-b)"
fi
