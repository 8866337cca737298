# SPDX-License-Identifier: GPL-2.0
# A real etcd cluster for tests (source after netns.sh and cluster.sh): one member per namespace on the fabric bridge, TLS with client certificates.
#
# etcd_certs DIR N           a CA, a certificate per member (server and peer, IP SAN)
#                            and a client certificate (client.pem/client.key), all
#                            made here with openssl; ETCD_CERTS=DIR
# etcd_up N                  members e1..eN: namespace eI, address 10.99.0.(200+I) on
#                            br0 of namespace fabric (cluster_up first), client-cert
#                            auth on the client and the peer ports; waits for health
# etcd_stop I [SIGNAL]       stop member I (SIGKILL by default: a crash)
# etcd_start I               start member I again (its data dir is kept)
# etcd_urls                  the client URLs, comma-separated
# ectl ARGS...               etcdctl (v3) as the client certificate, from e1's... any
#                            running member's namespace
# etcd_gw PATH JSON          POST JSON to the v3 gateway of a running member (curl)
#
# ETCD_N, ETCD_PID[I], ETCD_DIR are set by etcd_up.

ETCD_N=0
ETCD_CERTS=
ETCD_DIR=
declare -a ETCD_PID=()

etcd_ip() { printf '10.99.0.%d' $((200 + $1)); }

etcd_urls() {
	local i out=
	for ((i = 1; i <= ETCD_N; i++)); do
		out+="${out:+,}https://$(etcd_ip "$i"):2379"
	done
	printf '%s' "$out"
}

etcd_certs() {
	local d=$1 n=$2 i
	mkdir -p "$d"
	ETCD_CERTS=$d
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj /CN=fringe-test-ca -keyout "$d/ca.key" -out "$d/ca.pem" >/dev/null 2>&1 ||
		fail "openssl: cannot make the CA"
	for ((i = 1; i <= n; i++)); do
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-subj "/CN=e$i" -keyout "$d/e$i.key" -out "$d/e$i.csr" >/dev/null 2>&1 &&
			openssl x509 -req -in "$d/e$i.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
				-days 2 -out "$d/e$i.pem" -extfile <(printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$(etcd_ip "$i")") \
				>/dev/null 2>&1 || fail "openssl: cannot make e$i's certificate"
	done
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-subj /CN=fringe -keyout "$d/client.key" -out "$d/client.csr" >/dev/null 2>&1 &&
		openssl x509 -req -in "$d/client.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
			-days 2 -out "$d/client.pem" -extfile <(printf 'extendedKeyUsage=clientAuth\n') \
			>/dev/null 2>&1 || fail "openssl: cannot make the client certificate"
	# A stranger: a certificate from another CA, which etcd must refuse.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj /CN=stranger -keyout "$d/stranger.key" -out "$d/stranger.pem" >/dev/null 2>&1 ||
		fail "openssl: cannot make the stranger's certificate"
}

_etcd_cluster_flag() {
	local i out=
	for ((i = 1; i <= ETCD_N; i++)); do
		out+="${out:+,}e$i=https://$(etcd_ip "$i"):2380"
	done
	printf '%s' "$out"
}

etcd_start() {
	local i=$1 ip d=$ETCD_CERTS
	ip=$(etcd_ip "$i")
	ns_bg "e$i" "$ETCD_DIR/e$i.log" etcd --name "e$i" --data-dir "$ETCD_DIR/e$i.data" \
		--listen-client-urls "https://$ip:2379" --advertise-client-urls "https://$ip:2379" \
		--listen-peer-urls "https://$ip:2380" --initial-advertise-peer-urls "https://$ip:2380" \
		--initial-cluster "$(_etcd_cluster_flag)" --initial-cluster-state new \
		--initial-cluster-token "fringe-test-$NS_PREFIX" \
		--client-cert-auth --trusted-ca-file "$d/ca.pem" --cert-file "$d/e$i.pem" --key-file "$d/e$i.key" \
		--peer-client-cert-auth --peer-trusted-ca-file "$d/ca.pem" --peer-cert-file "$d/e$i.pem" \
		--peer-key-file "$d/e$i.key" \
		--heartbeat-interval 100 --election-timeout 1000 --max-txn-ops 1000 \
		--logger zap --log-outputs stderr --log-level warn
	ETCD_PID[i]=$BG_PID
}

etcd_stop() {
	local i=$1 sig=${2:-KILL}
	[ -n "${ETCD_PID[$i]:-}" ] || return 0
	kill "-$sig" "${ETCD_PID[$i]}" 2>/dev/null || true
	wait "${ETCD_PID[$i]}" 2>/dev/null || true
	ETCD_PID[i]=
}

# The namespace of a running member, for the clients.
_etcd_any() {
	local i
	for ((i = 1; i <= ETCD_N; i++)); do
		[ -n "${ETCD_PID[$i]:-}" ] && { echo "e$i"; return; }
	done
	echo e1
}

ectl() {
	nsx "$(_etcd_any)" env ETCDCTL_API=3 timeout 20 etcdctl --endpoints "$(etcd_urls)" \
		--cacert "$ETCD_CERTS/ca.pem" --cert "$ETCD_CERTS/client.pem" --key "$ETCD_CERTS/client.key" \
		--dial-timeout 2s --command-timeout 5s "$@"
}

etcd_gw() {
	local m; m=$(_etcd_any)
	nsx "$m" timeout 20 curl -sS --fail-with-body --cacert "$ETCD_CERTS/ca.pem" \
		--cert "$ETCD_CERTS/client.pem" --key "$ETCD_CERTS/client.key" \
		"https://$(etcd_ip "${m#e}"):2379$1" --data-binary "$2"
}

_etcd_healthy() { ectl endpoint health >/dev/null 2>&1; }

etcd_up() {
	local n=$1 i
	ETCD_N=$n
	[ -n "$TMPD" ] || harness_tmpdir
	ETCD_DIR=$TMPD/etcd
	mkdir -p "$ETCD_DIR"
	[ -n "$ETCD_CERTS" ] || etcd_certs "$ETCD_DIR/certs" "$n"
	for ((i = 1; i <= n; i++)); do
		ns_add "e$i"
		veth_add "e$i" ul "$(etcd_ip "$i")/24" - fabric "fe$i" - -
		ip -n "$(ns fabric)" link set "fe$i" master br0
	done
	for ((i = 1; i <= n; i++)); do
		etcd_start "$i"
	done
	wait_until 30 _etcd_healthy || fail "etcd: the $n members did not become healthy: $(tail -n 5 "$ETCD_DIR/e1.log")"
}
