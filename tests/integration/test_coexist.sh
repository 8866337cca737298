#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Integration: fringe shares an interface with another libxdp program through libxdp's dispatcher.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/lib/netns.sh"
. "$ROOT/scripts/lib/fringe.sh"

require_root
require_cmd ip xdp-filter timeout "$PYTHON"
[ -x "$FRINGE" ] || skip "build/fringe is not built (run make)"

prog_names() {
	ip -n "$(ns a)" link show dev "$1" | grep -o 'prog/xdp id [0-9]* name [A-Za-z0-9_]*' |
		sed 's/.* name //' || true
}

harness_tmpdir
ns_add a
ns_add b
veth_add a x0 10.79.0.1/24 - b x1 10.79.0.2/24 -
pin_mount
FR_NS=$(ns a)

nsx a env LIBXDP_BPFFS="$PIN" xdp-filter load -m skb x0 >/dev/null 2>&1 || fail "xdp-filter load failed"
harness_on_cleanup "nsx a env LIBXDP_BPFFS=$PIN xdp-filter unload x0 >/dev/null 2>&1"
[[ $(prog_names x0) == *xdp_dispatcher* ]] ||
	skip "this kernel refuses BPF_PROG_TYPE_EXT (freplace) programs, so libxdp cannot run its multi-program dispatcher; fringe attaches alone (test_attach covers the refusal)"

step "the kernel runs libxdp's dispatcher: fringe joins it"
fr_ok attach x0 --mode generic
AFTER=$(prog_names x0)
[[ $AFTER == *xdp_dispatcher* ]] || fail "the dispatcher is gone after attach: $AFTER"
fr_json "$TMPD/status.json" status --json
[ "$(q "$TMPD/status.json" 'd["interfaces"][0]["attached"]')" = True ] ||
	fail "fringe is not attached next to xdp-filter"
fr_ok detach x0
[[ $(prog_names x0) == *xdpfilt* || $(prog_names x0) == *xdp_dispatcher* ]] ||
	fail "detaching fringe removed xdp-filter"
harness_done
