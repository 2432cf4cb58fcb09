#!/usr/bin/env bash
# make certify-ollama: build Ollama (cached), generate the tiny model, certify Ollama in three
# configurations with bin/arcert, then check the verdicts a correct harness must reach
# (deploy/ollama/expect.yaml, internal/tools/verdictcheck). Prints the wall time of each step.
#
#   deploy/ollama/certify.sh [OUT]     (SEED=1 CERTIFY_TIMEOUT=15m; run from the module root)
#
# arcert certify exits 1 whenever a MUST does not pass, which Ollama is expected to do: that is
# recorded, not fatal. What decides this script's exit status is the verdict check.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-arcert-ollama-report}"
seed="${SEED:-1}"
model_seed=1 # the seed the targets' artifact_digest pins
timeout="${CERTIFY_TIMEOUT:-15m}"
cache="${ARCERT_CACHE:-$HOME/.cache/arcert}"
run="$(mktemp -d "${TMPDIR:-/tmp}/arcert-ollama.XXXXXX")"
mkdir -p "$out"
: >"$out/timings.txt"

# Whatever happens, nothing started here outlives the script; the logs were copied to OUT.
trap '"$here/stop.sh" --run "$run" >/dev/null 2>&1 || true; rm -rf "$run"' EXIT
trap 'exit 130' INT TERM

# step NAME CMD... runs a step and records its wall time.
step() {
	local name="$1" start=$SECONDS rc=0
	shift
	echo "== $name"
	"$@" || rc=$?
	printf '%-28s %5ds  exit %d\n' "$name" $((SECONDS - start)) "$rc" | tee -a "$out/timings.txt"
	return "$rc"
}

step build "$here/build.sh"

model="$cache/tiny-llama-seed${model_seed}.gguf"
gen() {
	local digest
	digest="$(go run ./internal/tools/tinymodel -seed "$model_seed" -out "$model")" || return 1
	echo "model $model $digest"
	for t in fixtures/targets/ollama-direct.yaml fixtures/targets/ollama-gateway.yaml; do
		grep -q "artifact_digest: $digest" "$t" || {
			echo "certify.sh: $t does not pin $digest: the generated model changed; update its artifact_digest" >&2
			return 1
		}
	done
}
step model gen

# certify NAME MODE GATEWAY(0|1) TARGET
certify() {
	local name="$1" mode="$2" gw="$3" target="$4" rc=0
	local args=(--model "$model" --mode "$mode" --run "$run")
	((gw)) && args+=(--gateway)
	# set -e does not reach into a function called under ||: every failure is checked by hand.
	"$here/start.sh" "${args[@]}" || return 2
	bin/arcert certify --target "$target" --profile core --seed "$seed" --timeout "$timeout" \
		--no-color --out "$out/$name" 2>&1 | tee "$out/$name.log" || rc=$? # pipefail: arcert's status
	mkdir -p "$out/$name/logs"
	cp "$run"/*.log "$out/$name/logs/" 2>/dev/null || true
	cp "$run"/nginx/*.log "$out/$name/logs/" 2>/dev/null || true
	"$here/stop.sh" --run "$run"
	echo "arcert certify ($name) exited $rc"
	# 0: every MUST passed; 1: some did not (expected here). Anything else is the harness failing.
	((rc <= 1))
}
status=0
step "certify gateway-multi-slot" certify gateway-multi-slot multi-slot 1 fixtures/targets/ollama-gateway.yaml || status=1
step "certify gateway-one-slot" certify gateway-one-slot one-slot 1 fixtures/targets/ollama-gateway.yaml || status=1
step "certify direct" certify direct one-slot 0 fixtures/targets/ollama-direct.yaml || status=1

step verdicts go run ./internal/tools/verdictcheck -expect "$here/expect.yaml" -dir "$out" || status=1
echo
echo "wall time per step (also in $out/timings.txt):"
cat "$out/timings.txt"
exit "$status"
