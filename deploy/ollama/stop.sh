#!/usr/bin/env bash
# Stops what start.sh started in a run directory (the gateway, then Ollama and its runner) and
# removes the model store. Logs stay for the report. Safe to run twice.
#
#   stop.sh [--run DIR]
set -uo pipefail

run="${OLLAMA_RUN:-${TMPDIR:-/tmp}/arcert-ollama}"
[[ "${1:-}" == --run ]] && run="$2"

# stop_group ends the process group start.sh created with setsid (its leader's pid is the group
# id), politely first, and waits at most ten seconds before killing it.
stop_group() {
	local pidfile="$1" pid
	[[ -f "$pidfile" ]] || return 0
	pid="$(cat "$pidfile")"
	# The whole group, even when its leader is gone: ollama serve may have died and left its runner.
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 -- "-$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 -- "-$pid" 2>/dev/null; then
		echo "stop.sh: $pidfile ($pid) did not stop in 10s; killing it" >&2
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	fi
	rm -f "$pidfile"
}

stop_group "$run/gateway.pid"
stop_group "$run/ollama.pid"
rm -rf "$run/models"
echo "stopped ollama in $run"
