#!/usr/bin/env bash
# deploy.sh up|down: bring the reference deployment (docker-compose.yaml) up and wait until every
# service is healthy (its dev.arcert.health check passes once; toxiproxy and evidence, which have
# none, running),
# or remove it with its volumes. `make deploy` and `make deploy-down` run it; the images must
# exist (`make images`).
#
# A deployment that does not come up within ARCERT_DEPLOY_TIMEOUT seconds (default 240), or
# whose services crash-loop (restarted 3 times), or whose `docker-compose up` fails, is reported
# service by service with each unhealthy one's last log lines, and then removed entirely:
# containers, networks and volumes. A failed deploy leaves nothing behind.
#
# Environment: ARCERT_DEPLOY_PROJECT (Compose project, default arcert-deploy), ARCERT_CONFIG
# (the runtime configuration every role runs, default ./aruntime.yaml), ARCERT_ROUTER_2_CONFIG
# (router-2's alone, default ARCERT_CONFIG's), and the published host
# ports of docker-compose.yaml (ARCERT_HTTP_PORT, ...).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# A relative ARCERT_CONFIG means the caller's directory, not this one (Compose would resolve it
# against docker-compose.yaml's and, finding nothing, mount an empty directory in its place).
if [[ -n "${ARCERT_CONFIG:-}" ]]; then
	[[ -f "$ARCERT_CONFIG" ]] || { echo "deploy: ARCERT_CONFIG=$ARCERT_CONFIG is not a file" >&2; exit 2; }
	ARCERT_CONFIG=$(cd "$(dirname "$ARCERT_CONFIG")" && pwd)/$(basename "$ARCERT_CONFIG")
	export ARCERT_CONFIG
fi
# router-2 reads the same configuration as every other part, unless ARCERT_ROUTER_2_CONFIG gives
# it one of its own (a negative control: one router of two drifted from the record).
if [[ -n "${ARCERT_ROUTER_2_CONFIG:-}" ]]; then
	[[ -f "$ARCERT_ROUTER_2_CONFIG" ]] || { echo "deploy: ARCERT_ROUTER_2_CONFIG=$ARCERT_ROUTER_2_CONFIG is not a file" >&2; exit 2; }
	ARCERT_ROUTER_2_CONFIG=$(cd "$(dirname "$ARCERT_ROUTER_2_CONFIG")" && pwd)/$(basename "$ARCERT_ROUTER_2_CONFIG")
else
	ARCERT_ROUTER_2_CONFIG=${ARCERT_CONFIG:-$here/aruntime.yaml}
fi
export ARCERT_ROUTER_2_CONFIG
project=${ARCERT_DEPLOY_PROJECT:-arcert-deploy}
timeout_s=${ARCERT_DEPLOY_TIMEOUT:-240}
compose=(docker-compose -p "$project" -f "$here/docker-compose.yaml")
# A crash loop: a service restarted this many times is not going to come up.
max_restarts=3

down() {
	"${compose[@]}" down --volumes --remove-orphans --timeout 5
}

# status prints one line per container of the project: service, state, health, restarts. Health
# is the part's own check (the label dev.arcert.health, run in the container with docker exec:
# healthy once it has passed, "checking" until then), Docker's health where a container has a
# Docker health check, or none. Checks run only while deploying, not periodically: see
# docker-compose.yaml for why the deployment has no Docker health checks.
# status must run in this shell, not a subshell, for `passed` to outlive the call: callers
# redirect it to $statusfile rather than read it through a pipe or process substitution.
declare -A passed=() # "container-id/restart-count" -> 1 once its check passed: a restart checks again
statusfile=$(mktemp)
trap 'rm -f "$statusfile" "$statusfile.err"' EXIT
status() {
	local ids id svc state health restarts check inspected
	ids=$(docker ps -aq --filter "label=com.docker.compose.project=$project")
	[[ -z $ids ]] && return 0
	# shellcheck disable=SC2086 # ids are one per word
	# A container listed a moment ago may be gone (Compose recreating it): the caller polls again.
	if ! inspected=$(docker inspect --format '{{.Id}} {{index .Config.Labels "com.docker.compose.service"}} {{.State.Status}} {{with index .State "Health"}}{{.Status}}{{else}}none{{end}} {{.RestartCount}} {{with index .Config.Labels "dev.arcert.health"}}{{.}}{{end}}' $ids 2>"$statusfile.err"); then
		echo "deploy: docker inspect failed (will ask again): $(cat "$statusfile.err")" >&2
		return 1
	fi
	while read -r id svc state health restarts check; do
		if [[ -n $check && $state == running ]]; then
			# shellcheck disable=SC2086 # the check is a command line, one argument per word
			if [[ -n ${passed[$id/$restarts]:-} ]] || timeout 10 docker exec "$id" $check >/dev/null 2>&1; then
				passed[$id/$restarts]=1
				health=healthy
			else
				health=checking
			fi
		elif [[ -n $check ]]; then
			health=checking
		fi
		echo "$svc $state $health $restarts"
	done <<<"$inspected"
}

# fail reports why the deployment is not up, names every service that is not, with its last log
# lines, removes everything and exits 1.
fail() {
	echo "deploy: FAILED: $1" >&2
	local svc state health restarts
	status >"$statusfile" || true
	while read -r svc state health restarts; do
		if [[ $state == running && ($health == healthy || $health == none) ]]; then
			continue
		fi
		echo "deploy: service $svc is $state (health: $health, restarts: $restarts); its last lines:" >&2
		"${compose[@]}" logs --no-color --tail 15 "$svc" 2>&1 | sed 's/^/    /' >&2 || true
	done <"$statusfile"
	echo "deploy: removing project $project (containers, networks, volumes)" >&2
	down >&2 || true
	exit 1
}

up() {
	cd "$here"
	local services want start up_pid up_rc=running inspect_failures=0
	mapfile -t services < <("${compose[@]}" config --services)
	want=${#services[@]}
	start=$SECONDS
	# Compose creates and starts the services in depends_on order; it runs in the background so
	# that a crash loop or a stuck start is seen while it works, not after.
	"${compose[@]}" up -d --no-build &
	up_pid=$!
	trap 'kill "$up_pid" 2>/dev/null || true; fail "interrupted"' INT TERM
	while :; do
		if [[ $up_rc == running ]] && ! kill -0 "$up_pid" 2>/dev/null; then
			up_rc=0
			wait "$up_pid" || up_rc=$?
			[[ $up_rc == 0 ]] || fail "docker-compose up exited with status $up_rc"
		fi
		local ready=0 svc state health restarts
		if ! status >"$statusfile"; then
			inspect_failures=$((inspect_failures + 1))
			if ((inspect_failures >= 5)); then
				kill "$up_pid" 2>/dev/null || true
				fail "could not read the project's state 5 times in a row"
			fi
			sleep 2
			continue
		fi
		inspect_failures=0
		while read -r svc state health restarts; do
			if ((restarts >= max_restarts)); then
				kill "$up_pid" 2>/dev/null || true
				fail "service $svc restarted $restarts times (a crash loop)"
			fi
			if [[ $state == running && ($health == healthy || $health == none) ]]; then
				ready=$((ready + 1))
			fi
		done <"$statusfile"
		if [[ $up_rc == 0 ]] && ((ready == want)); then
			echo "deploy: project $project is up: $want services healthy or running in $((SECONDS - start))s"
			return 0
		fi
		if ((SECONDS - start >= timeout_s)); then
			kill "$up_pid" 2>/dev/null || true
			fail "not up after ${timeout_s}s ($ready of $want services healthy or running)"
		fi
		sleep 2
	done
}

case ${1:-} in
up) up ;;
down) down ;;
*)
	echo "usage: $0 up|down" >&2
	exit 2
	;;
esac
