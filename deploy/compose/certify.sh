#!/usr/bin/env bash
# certify.sh [REPORT]: bring the reference deployment up (deploy.sh up), certify it against the
# Core and Resilience profiles with its own target file (deploy/compose/target.yaml: node loss,
# partitions and the rolling restart included), check the verdicts the deployment must reach
# (deploy/compose/expect.yaml, internal/tools/verdictcheck), and take it down again whatever the
# verdict, checking that nothing of it is left (containers, networks, volumes). `make
# certify-deploy` runs it; CI runs it after `make test`. Exits 1 when an expected verdict does not
# hold, when the harness itself fails (certify exits above 1) or when something is left; certify's
# own status (1: some MUST did not pass, as the time-bound ones on a 2-core machine may not) is
# printed, and every verdict is in REPORT.
#
# Environment: ARCERT_DEPLOY_PROJECT (default arcert-deploy; the target file names that project),
# ARCERT_CERTIFY_ARGS (extra arguments for `arcert certify`, e.g. "--focus DUR-4"), ARCERT_EXPECT
# (the expectations file; default expect.yaml; set and empty: check none, as negative.sh does,
# which checks its own after every control).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
report=$(realpath -m "${1:-arcert-deploy-report}")
expect=${ARCERT_EXPECT-$here/expect.yaml}
[[ -z $expect ]] || expect=$(realpath -m "$expect") # from the caller's directory, as ARCERT_CONFIG
project=${ARCERT_DEPLOY_PROJECT:-arcert-deploy}
arcert=$root/bin/arcert
[[ -x $arcert ]] || { echo "certify-deploy: $arcert is missing: run make build" >&2; exit 2; }

# leftovers lists whatever of the project is still there after it was taken down.
leftovers() {
	local filter=label=com.docker.compose.project=$project
	docker ps -aq --filter "$filter"
	docker network ls -q --filter "$filter"
	docker volume ls -q --filter "$filter"
}

finish() {
	local rc=$?
	echo "certify-deploy: taking project $project down"
	"$here/deploy.sh" down >/dev/null 2>&1 || true
	if [[ -n $(leftovers) ]]; then
		echo "certify-deploy: FAILED: project $project left behind:" >&2
		leftovers >&2
		rc=1
	fi
	exit "$rc"
}
trap finish EXIT

"$here/deploy.sh" up
rc=0
# shellcheck disable=SC2086 # extra arguments are words
"$arcert" certify --target "$here/target.yaml" --profile core --profile resilience --no-color --out "$report" ${ARCERT_CERTIFY_ARGS:-} || rc=$?
echo "certify-deploy: arcert certify exited $rc (0: every MUST passed; 1: some did not; above: the harness failed)"
((rc <= 1)) || exit "$rc"
if [[ -z $expect ]]; then
	echo "certify-deploy: no expectations to check (ARCERT_EXPECT is empty)"
	exit 0
fi
(cd "$root" && go run ./internal/tools/verdictcheck -expect "$expect" -dir "$report")
