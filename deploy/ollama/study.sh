#!/usr/bin/env bash
# The seed study of the tenant-cache requirements against Ollama behind the key gateway: for each
# prompt-cache configuration (multi-slot, one-slot), certify TEN-2 and TEN-3 once per seed, then
# once more with the first seed again (a rerun against a cache the first run warmed: the run's
# nonce must keep its prompts fresh). Prints one line per run and a tally; exits 1 if TEN-3 ever
# PASSes (Ollama's prompt cache is shared by every caller, so a PASS is a false one) or a run
# left no report (the study would prove nothing).
#
#   deploy/ollama/study.sh [OUT]      (SEEDS="1 2 … 10"; run from the module root after
#                                      make certify-ollama has built Ollama and the model)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-arcert-ollama-study}"
seeds="${SEEDS:-1 2 3 4 5 6 7 8 9 10}"
cache="${ARCERT_CACHE:-$HOME/.cache/arcert}"
model="$cache/tiny-llama-seed1.gguf"
run="$(mktemp -d "${TMPDIR:-/tmp}/arcert-ollama-study.XXXXXX")"
[[ -f "$model" ]] || { echo "study.sh: no model at $model: run make certify-ollama first" >&2; exit 2; }
[[ -x bin/arcert ]] || { echo "study.sh: no bin/arcert: run make build first" >&2; exit 2; }
mkdir -p "$out"
trap '"$here/stop.sh" --run "$run" >/dev/null 2>&1 || true; rm -rf "$run"' EXIT
trap 'exit 130' INT TERM

# result DIR ID prints the requirement's result and note from DIR/report.json.
result() {
	python3 -c 'import json,sys
r={q["id"]:q for q in json.load(open(sys.argv[1]))["requirements"]}.get(sys.argv[2],{})
print(r.get("result","NO_REPORT"), "-", r.get("note",""))' "$1/report.json" "$2" 2>/dev/null || echo "NO_REPORT"
}

passes=0 missing=0
for mode in multi-slot one-slot; do
	"$here/start.sh" --model "$model" --mode "$mode" --gateway --run "$run" >/dev/null
	first="${seeds%% *}"
	for seed in $seeds "$first"; do
		dir="$out/$mode-seed$seed"
		[[ -d "$dir" ]] && dir="$dir-rerun"
		bin/arcert certify --target fixtures/targets/ollama-gateway.yaml --profile core --focus TEN-2 --focus TEN-3 \
			--seed "$seed" --no-color --out "$dir" >"$dir.log" 2>&1 || true
		ten3="$(result "$dir" TEN-3)"
		printf '%-10s seed %-3s %-6s TEN-3 %s | TEN-2 %s\n' "$mode" "$seed" "$([[ $dir == *-rerun ]] && echo rerun)" \
			"$ten3" "$(result "$dir" TEN-2)" | tee -a "$out/study.txt"
		[[ "$ten3" != PASS* ]] || passes=$((passes + 1))
		[[ "$ten3" != NO_REPORT* ]] || missing=$((missing + 1))
	done
	"$here/stop.sh" --run "$run" >/dev/null
done
echo "TEN-3 PASS in $passes runs (want 0), $missing runs without a report (want 0); lines in $out/study.txt"
((passes == 0 && missing == 0))
