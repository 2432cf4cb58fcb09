#!/usr/bin/env bash
# certify.sh [REPORT]: bring the reference deployment up (deploy.sh up), certify it against the
# Core and Resilience profiles with its own target file (deploy/compose/target.yaml: node loss,
# partitions and the rolling restart included), and take it down again whatever the verdict,
# checking that nothing of it is left (containers, networks, volumes). `make certify-deploy` runs
# it; CI runs it after `make test`. Exits with certify's status, or 1 when something is left.
#
# Environment: ARCERT_DEPLOY_PROJECT (default arcert-deploy; the target file names that project),
# ARCERT_CERTIFY_ARGS (extra arguments for `arcert certify`, e.g. "--focus DUR-4").
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
report=${1:-arcert-deploy-report}
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
# shellcheck disable=SC2086 # extra arguments are words
"$arcert" certify --target "$here/target.yaml" --profile core --profile resilience --out "$report" ${ARCERT_CERTIFY_ARGS:-}
