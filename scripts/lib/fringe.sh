# SPDX-License-Identifier: GPL-2.0
# Running fringe from tests (source after netns.sh): inside namespace $FR_NS, on pin dir $PIN.

FRINGE=${FRINGE:-$ROOT/build/fringe}

# fringe inside $FR_NS, on the private pin dir, time-bounded.
fr() { ip netns exec "$FR_NS" timeout 30 "$FRINGE" --pin-dir "$PIN" "$@"; }

# fr_ok ARGS...: must succeed; stdout in $TMPD/out.
fr_ok() {
	run_rc fr "$@"
	[ "$RC" -eq 0 ] || fail "fringe $* exited $RC: $(head -c 2000 "$TMPD/err")"
}

# fr_json FILE ARGS...: must succeed and print one JSON document.
fr_json() {
	local f=$1; shift
	fr_ok "$@"
	cp "$TMPD/out" "$f"
	json_eval "$f" 'len(d)' >/dev/null || fail "fringe $* --json: not JSON: $(head -c 500 "$f")"
}

# q FILE EXPR: a value out of a JSON file (see json_eval in netns.sh).
q() { json_eval "$1" "$2" || fail "cannot evaluate '$2' on $1: $(head -c 500 "$1")"; }

# expect_fail CODE WHAT ARGS...: fringe must exit CODE with a "fringe: " line on stderr.
expect_fail() {
	local code=$1 what=$2; shift 2
	run_rc fr "$@"
	[ "$RC" -eq "$code" ] || fail "$what: fringe $* exited $RC, want $code"
	if [ "$code" -eq 1 ]; then
		grep -q '^fringe: ' "$TMPD/err" ||
			fail "$what: no 'fringe: ' line on stderr: $(head -c 500 "$TMPD/err")"
	fi
	info "ok: $what (exit $RC: $(head -n 1 "$TMPD/err"))"
}

