# SPDX-License-Identifier: GPL-2.0
# The micro-cloud test topology (source after netns.sh and fringe.sh): nodes on one underlay bridge, a workload behind each.
#
#                         fabric:  br0 (a Linux bridge; tcpdump here sees the VXLAN)
#            f1 ─────────────── f2 ─────────────── f3 ─────────────── f4        veth ports of br0
#             │                  │                  │                  │
#   n1  ul 10.99.0.1    n2  ul 10.99.0.2    n3  ul 10.99.0.3    n4  ul 10.99.0.4        underlay
#       fringe on ul+wl     fringe on ul+wl     fringe on ul+wl     vxlan0 (Linux, static FDB)
#       wl 10.200.1.1       wl 10.200.2.1       wl 10.200.3.1       wl 10.200.4.1
#             │                  │                  │                  │
#   w1  eth0 10.200.1.10  w2 eth0 10.200.2.10  w3 eth0 10.200.3.10  w4 eth0 10.200.4.10   workloads
#
# Node I: namespace nI, underlay veth "ul" (10.99.0.I/24, MAC 02:99:00:00:00:II) whose
# peer fI is a port of br0 in namespace "fabric"; workload-facing veth "wl"
# (10.200.I.1/24, 02:c8:II:00:00:01) whose peer eth0 (10.200.I.10, 02:c8:II:00:00:0a)
# sits in namespace wI, default route via 10.200.I.1. Node I owns the overlay
# prefix 10.200.I.0/24. Workload links have MTU 1450: 1500 less VXLAN's 50.
#
# cluster_up N [LINUX...]   build it; the nodes listed in LINUX run a Linux vxlan
#                           device (VNI 1) with static FDB, neighbour and route
#                           entries instead of fringe; the others get a pin dir
#                           of their own (CL_PIN[I]) and fringe on ul and wl
# cluster_nodes_file I FILE write node I's nodes file (self nI); CL_VNI[I] and
#                           CL_EXTRA_PREFIX[I] (",CIDR..." appended) are honoured;
#                           Linux nodes and odd fringe nodes carry `mac`, the
#                           even fringe nodes leave it to the neighbour table
# frn I ARGS...             fringe inside nI on its pin dir (time-bounded)
# cl_ping I J [ARGS]        ping w_J from w_I (3 packets), quietly
# cl_ip I                   the workload address of node I
#
# cl_daemon_start I CONF    node I's `fringe daemon --config CONF` with host name nI (its
#                           own UTS namespace, as a machine has); log $TMPD/dI.log,
#                           PID in CL_DPID[I]
# cl_daemon_kill I          kill -9 it (a crash)
# cl_names I                the names in node I's overlay table, sorted, on one line
# cl_log_ms LOG REGEX [MS]  the time (Unix ms, the daemon's own timestamp) of LOG's
#                           first line matching REGEX at or after MS; empty if none
#
# CL_N, CL_LINUX[I] (1: Linux node), CL_PIN[I] are set by cluster_up.
#
# Set before cluster_up: CL_UL6=1 puts the underlay on IPv6 (fd99::I/64, the
# Linux peers' vxlan devices over IPv6, workload links 1430: IPv6's outer
# header is 20 bytes longer); CL_INNER6=1 gives every workload an IPv6
# address too (fd00:200:I::10, cl_ip6) and every node the prefix
# fd00:200:I::/64.

CL_N=0
CL_UL6=${CL_UL6:-0}
CL_INNER6=${CL_INNER6:-0}
declare -a CL_LINUX=() CL_PIN=() CL_VNI=() CL_EXTRA_PREFIX=() CL_DPID=()

cl_hex() { printf '%02x' "$1"; }
cl_ip() { printf '10.200.%d.10' "$1"; }
cl_ip6() { printf 'fd00:200:%x::10' "$1"; }
cl_ul_ip() {
	if [ "$CL_UL6" = 1 ]; then printf 'fd99::%x' "$1"; else printf '10.99.0.%d' "$1"; fi
}
cl_ul_mac() { printf '02:99:00:00:00:%s' "$(cl_hex "$1")"; }
# The workloads' MTU: the underlay's 1500 less VXLAN's outer headers.
cl_wl_mtu() { if [ "$CL_UL6" = 1 ]; then echo 1430; else echo 1450; fi; }

frn() {
	local i=$1; shift
	ip netns exec "$(ns "n$i")" timeout 60 "$FRINGE" --pin-dir "${CL_PIN[$i]}" "$@"
}

cl_ping() {
	local i=$1 j=$2; shift 2
	timeout 20 ip netns exec "$(ns "w$i")" ping -c 3 -i 0.2 -W 2 "$@" "$(cl_ip "$j")" >/dev/null 2>&1
}

# _cl_node I: the namespaces and links of node I and its workload.
_cl_node() {
	local i=$1 h
	h=$(cl_hex "$i")
	ns_add "n$i"
	ns_add "w$i"
	veth_add "n$i" ul "$(cl_ul_ip "$i")/$([ "$CL_UL6" = 1 ] && echo 64 || echo 24)" \
		"$(cl_ul_mac "$i")" fabric "f$i" - -
	ip -n "$(ns fabric)" link set "f$i" master br0
	veth_add "n$i" wl "10.200.$i.1/24" "02:c8:$h:00:00:01" "w$i" eth0 "$(cl_ip "$i")/24" "02:c8:$h:00:00:0a"
	ip -n "$(ns "n$i")" link set wl mtu "$(cl_wl_mtu)"
	ip -n "$(ns "w$i")" link set eth0 mtu "$(cl_wl_mtu)"
	ip -n "$(ns "w$i")" route add default via "10.200.$i.1"
	if [ "$CL_INNER6" = 1 ]; then
		ip -n "$(ns "n$i")" addr add "fd00:200:$(printf %x "$i")::1/64" dev wl nodad
		ip -n "$(ns "w$i")" addr add "$(cl_ip6 "$i")/64" dev eth0 nodad
		ip -n "$(ns "w$i")" -6 route add default via "fd00:200:$(printf %x "$i")::1"
	fi
	# Routing inside the node (fringe's FIB lookups need forwarding on), never outside it.
	nsx "n$i" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv6.conf.all.forwarding=1 >/dev/null
	# XDP_REDIRECT hands frames over without the kernel's checksum offload
	# state, so the senders compute checksums themselves (a NIC would).
	nsx "w$i" ethtool -K eth0 tx off >/dev/null 2>&1 || true
}

# _cl_linux I: a Linux vxlan device toward every other node, flannel-style.
_cl_linux() {
	local i=$1 j n mac
	n=$(ns "n$i")
	mac=$(cl_ul_mac "$i")
	ip -n "$n" link add vxlan0 address "$mac" type vxlan id 1 local "$(cl_ul_ip "$i")" dev ul \
		dstport 4789 nolearning || fail "cannot create vxlan0 in n$i"
	ip -n "$n" link set vxlan0 mtu "$(cl_wl_mtu)" up
	nsx "n$i" ethtool -K ul tx off >/dev/null 2>&1 || true
	for ((j = 1; j <= CL_N; j++)); do
		[ "$j" -eq "$i" ] && continue
		bridge -n "$n" fdb append "$(cl_ul_mac "$j")" dev vxlan0 dst "$(cl_ul_ip "$j")"
		ip -n "$n" neigh add "10.200.$j.0" lladdr "$(cl_ul_mac "$j")" dev vxlan0 nud permanent
		ip -n "$n" route add "10.200.$j.0/24" via "10.200.$j.0" dev vxlan0 onlink
		if [ "$CL_INNER6" = 1 ]; then
			ip -n "$n" -6 neigh add "fd00:200:$(printf %x "$j")::" lladdr "$(cl_ul_mac "$j")" \
				dev vxlan0 nud permanent
			ip -n "$n" -6 route add "fd00:200:$(printf %x "$j")::/64" \
				via "fd00:200:$(printf %x "$j")::" dev vxlan0 onlink
		fi
	done
}

cluster_up() {
	local n=$1 i l; shift
	CL_N=$n
	for ((i = 1; i <= n; i++)); do
		CL_LINUX[i]=0
	done
	for l in "$@"; do
		CL_LINUX[l]=1
	done
	ns_add fabric
	ip -n "$(ns fabric)" link add br0 type bridge
	ip -n "$(ns fabric)" link set br0 up
	for ((i = 1; i <= n; i++)); do
		_cl_node "$i"
	done
	for ((i = 1; i <= n; i++)); do
		if [ "${CL_LINUX[$i]}" = 1 ]; then
			_cl_linux "$i"
		else
			pin_mount
			CL_PIN[i]=$PIN
		fi
	done
}

# shellcheck disable=SC2120 # the nodes are optional
# cluster_attach [I...]: fringe on ul and wl of the given (default: every fringe) node,
# two at a time (verifying the program is what takes the time).
cluster_attach() {
	local i nodes=("$@") pids=() rc=0 p
	[ ${#nodes[@]} -gt 0 ] || for ((i = 1; i <= CL_N; i++)); do
		[ "${CL_LINUX[$i]}" = 1 ] || nodes+=("$i")
	done
	for i in "${nodes[@]}"; do
		(frn "$i" attach ul --mode native >/dev/null && frn "$i" attach wl --mode native >/dev/null) &
		pids+=($!)
		if [ ${#pids[@]} -ge 2 ]; then
			wait "${pids[0]}" || rc=1
			pids=("${pids[@]:1}")
		fi
	done
	for p in "${pids[@]}"; do
		wait "$p" || rc=1
	done
	return $rc
}

cluster_nodes_file() {
	local self=$1 file=$2 j
	{
		echo "# nodes file of n$self (written by scripts/lib/cluster.sh)"
		echo "self n$self"
		for ((j = 1; j <= CL_N; j++)); do
			printf 'node n%d underlay %s' "$j" "$(cl_ul_ip "$j")"
			if [ "${CL_LINUX[$j]}" = 1 ] || [ $((j % 2)) -eq 1 ]; then
				printf ' mac %s' "$(cl_ul_mac "$j")"
			fi
			printf ' prefix 10.200.%d.0/24%s' "$j" "${CL_EXTRA_PREFIX[$j]:-}"
			[ "$CL_INNER6" = 1 ] && printf ',fd00:200:%x::/64' "$j"
			[ -n "${CL_VNI[$j]:-}" ] && printf ' vni %s' "${CL_VNI[$j]}"
			echo
		done
	} >"$file"
}

cl_daemon_start() {
	local i=$1 conf=$2
	ns_bg "n$i" "$TMPD/d$i.log" unshare --uts sh -c \
		"hostname n$i && exec $FRINGE --pin-dir ${CL_PIN[$i]} daemon --config $conf"
	CL_DPID[i]=$BG_PID
}

cl_daemon_kill() {
	kill -KILL "${CL_DPID[$1]}" 2>/dev/null || true
	wait "${CL_DPID[$1]}" 2>/dev/null || true
}

cl_names() {
	frn "$1" nodes show --json 2>/dev/null |
		"$PYTHON" -c 'import json,sys; print(" ".join(sorted(n["name"] for n in json.load(sys.stdin)["nodes"])))'
}

cl_log_ms() {
	"$PYTHON" - "$1" "$2" "${3:-0}" <<'EOF'
import datetime, re, sys
pat, since = re.compile(sys.argv[2]), int(sys.argv[3])
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z ", line)
    if not m or not pat.search(line):
        continue
    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
    ms = int(t.timestamp() * 1000)
    if ms >= since:
        print(ms)
        break
EOF
}
