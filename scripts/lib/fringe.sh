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

# json_doc CODE ARGS...: `fringe --json ARGS` must exit CODE and print exactly
# one JSON object on stdout; on failure it holds a non-empty "error" (and
# "errors" with file, line, col and message for a file's errors) besides a
# "fringe: " line on stderr. The document is left in $TMPD/out.
json_doc() {
	local code=$1; shift
	run_rc fr --json "$@"
	[ "$RC" -eq "$code" ] || fail "fringe --json $* exited $RC, want $code: $(head -c 500 "$TMPD/err")"
	"$PYTHON" - "$TMPD/out" "$code" <<'PY' || fail "fringe --json $*: $(head -c 800 "$TMPD/out")"
import json, sys
text = open(sys.argv[1]).read()
d = json.loads(text)   # one document: trailing data is an error
assert isinstance(d, dict), "not an object"
if sys.argv[2] != "0":
    assert isinstance(d.get("error"), str) and d["error"], "no error message"
    for e in d.get("errors", []):
        assert set(e) >= {"file", "line", "col", "message"}, "bad file error %r" % e
PY
	if [ "$code" -ne 0 ]; then
		grep -q '^fringe: ' "$TMPD/err" || fail "fringe --json $*: no 'fringe: ' line on stderr"
	fi
	info "ok: --json $* (exit $RC)"
}

# test_certs DIR: a CA (DIR/ca.pem) and a server certificate for 127.0.0.1 and
# localhost signed by it (DIR/server.pem, DIR/server.key), made here with openssl.
test_certs() {
	(
		cd "$1"
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
			-subj '/CN=fringe test CA' -keyout ca.key -out ca.pem
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-subj '/CN=fringe test gateway' -keyout server.key -out server.csr
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >ext.cnf
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
			-extfile ext.cnf -out server.pem
	) >"$1/openssl.log" 2>&1 || fail "openssl: $(tail -n 5 "$1/openssl.log")"
}
