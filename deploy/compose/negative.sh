#!/usr/bin/env bash
# negative.sh [REPORT]: the reference Compose deployment's own negative controls. For each SHOULD
# that only a deployment can judge (the rolling restart FLT-4, the state-store node loss DUR-4, the
# region network cut FBK-4), and for what only two routers can break (VER-1: router-2 alone on a
# stale policy), bring the deployment up with one line of aruntime.yaml broken on
# purpose, certify it focused on that requirement (certify.sh, which takes it down again and
# checks nothing is left), and check that the verdict is FAIL (negative-expect.yaml). A harness
# that passes these deployments would pass a runtime that breaks the rule. `make
# certify-deploy-negative` runs it; CI runs it after certify-deploy. Reports land in
# REPORT/<control>/. Exits 1 when a control is not failed or something is left behind.
#
# Environment: ARCERT_NEGATIVE_ONLY (a control's name: run that one alone).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
report=$(realpath -m "${1:-arcert-deploy-negative-report}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

controls=(no-drain one-replica slow-health-checks stale-router-2)
if [[ -n ${ARCERT_NEGATIVE_ONLY:-} && ! " ${controls[*]} " =~ " $ARCERT_NEGATIVE_ONLY " ]]; then
	echo "certify-deploy-negative: ARCERT_NEGATIVE_ONLY=$ARCERT_NEGATIVE_ONLY names no control; the controls are: ${controls[*]}" >&2
	exit 2
fi

# control NAME REQUIREMENT FROM TO [FROM TO ...]: the reference configuration with each line FROM
# replaced by the TO after it, certified focused on REQUIREMENT. With ARCERT_BROKEN_ROLE=router-2
# only router-2 reads the broken configuration; every other part reads the reference's.
control() {
	local name=$1 req=$2 config=$work/$1.yaml
	shift 2
	if [[ -n ${ARCERT_NEGATIVE_ONLY:-} && $ARCERT_NEGATIVE_ONLY != "$name" ]]; then
		return 0
	fi
	if (($# == 0 || $# % 2 != 0)); then
		echo "certify-deploy-negative: $name: want FROM TO pairs, got $# line(s)" >&2
		exit 2
	fi
	cp "$here/aruntime.yaml" "$config"
	while (($# >= 2)); do
		local from=$1 to=$2
		shift 2
		# The broken line must be there exactly once, or the control would certify the reference.
		if [[ $(grep -cxF -- "$from" "$config") != 1 ]]; then
			echo "certify-deploy-negative: $name: aruntime.yaml has no single line '$from' to break" >&2
			exit 2
		fi
		awk -v from="$from" -v to="$to" '$0 == from { print to; next } { print }' "$config" >"$config.next"
		mv "$config.next" "$config"
		echo "certify-deploy-negative: $name: '$to' instead of '$from'"
	done
	echo "certify-deploy-negative: $name: certifying $req, which must FAIL"
	rm -rf "${report:?}/$name"
	if [[ ${ARCERT_BROKEN_ROLE:-} == router-2 ]]; then
		ARCERT_ROUTER_2_CONFIG=$config ARCERT_EXPECT= ARCERT_CERTIFY_ARGS="--focus $req" \
			"$here/certify.sh" "$report/$name"
	else
		ARCERT_CONFIG=$config ARCERT_EXPECT= ARCERT_CERTIFY_ARGS="--focus $req" \
			"$here/certify.sh" "$report/$name"
	fi
}

# A router that stops at once: no notice for the balancer (drain_notice), and work still in flight
# cut after 20 ms (drain_timeout) rather than finished, so that a long request cannot lend it the
# notice (the 503 it answers while that work ends) the setting took away: 20 ms is under any gap
# between two of the balancer's probes, even two that a slow round brings closer than 100 ms.
control no-drain FLT-4 \
	"  drain_notice: 1s             # and answers (shed draining, /healthz 503) at least this long first: the" \
	"  drain_notice: 0s" \
	"  drain_timeout: 10s           # shutdown waits this long for in-flight work" \
	"  drain_timeout: 20ms"
control one-replica DUR-4 "  replicas: 3" "  replicas: 1"
control slow-health-checks FBK-4 \
	"  health_interval: 250ms       # how often the router asks each worker for its health" \
	"  health_interval: 10s"
# One router of two left on the policy before the pinned one (a host missed in the last config
# push): every other request is routed under a policy the record does not pin.
ARCERT_BROKEN_ROLE=router-2 control stale-router-2 VER-1 \
	"  policy_version: policy-2026-11-01" "  policy_version: policy-2026-10-01"

if [[ -n ${ARCERT_NEGATIVE_ONLY:-} ]]; then
	echo "certify-deploy-negative: $ARCERT_NEGATIVE_ONLY alone: its report is in $report/$ARCERT_NEGATIVE_ONLY"
	exit 0
fi
(cd "$root" && go run ./internal/tools/verdictcheck -expect "$here/negative-expect.yaml" -dir "$report")
