# SPDX-License-Identifier: GPL-2.0
# The IoT-gateway test topology (source after netns.sh): devices and a cloud, routed by a gw namespace.
#
#   sensor1  eth0 10.77.1.10   02:77:01:00:00:0a --- gw-s1   10.77.1.1   02:77:01:00:00:01 \
#   sensor2  eth0 10.77.2.10   02:77:02:00:00:0a --- gw-s2   10.77.2.1   02:77:02:00:00:01  gw
#   scanner  eth0 10.77.3.10   02:77:03:00:00:0a --- gw-scan 10.77.3.1   02:77:03:00:00:01  (ip_forward=1)
#   cloud    eth0 10.77.100.10 02:77:64:00:00:0a --- gw-up   10.77.100.1 02:77:64:00:00:01 /
#
# IPv6 runs alongside on fd77:N::/64 with the same host numbers (::1 gw, ::10 device).
# fringe attaches to gw's device-facing interfaces (GW_DEVICE_IFS); gw-up is the uplink.
# examples/iot-gateway.policy names these addresses and MACs: keep them in step.

GW_NS=$(ns gw)
SENSOR1_NS=$(ns sensor1)
SENSOR2_NS=$(ns sensor2)
SCANNER_NS=$(ns scanner)
CLOUD_NS=$(ns cloud)

GW_IF_SENSOR1=gw-s1
GW_IF_SENSOR2=gw-s2
GW_IF_SCANNER=gw-scan
GW_IF_UPLINK=gw-up
GW_DEVICE_IFS="$GW_IF_SENSOR1 $GW_IF_SENSOR2 $GW_IF_SCANNER"
DEV_IF=eth0			# the interface name inside each device namespace

SENSOR1_IP=10.77.1.10	SENSOR1_IP6=fd77:1::10	SENSOR1_MAC=02:77:01:00:00:0a
SENSOR2_IP=10.77.2.10	SENSOR2_IP6=fd77:2::10	SENSOR2_MAC=02:77:02:00:00:0a
SCANNER_IP=10.77.3.10	SCANNER_IP6=fd77:3::10	SCANNER_MAC=02:77:03:00:00:0a
CLOUD_IP=10.77.100.10	CLOUD_IP6=fd77:100::10	CLOUD_MAC=02:77:64:00:00:0a
SENSOR1_NET=10.77.1.0/24	SENSOR2_NET=10.77.2.0/24	SCANNER_NET=10.77.3.0/24	CLOUD_NET=10.77.100.0/24
GW_SENSOR1_IP=10.77.1.1		GW_SENSOR1_MAC=02:77:01:00:00:01
GW_SENSOR2_IP=10.77.2.1		GW_SENSOR2_MAC=02:77:02:00:00:01
GW_SCANNER_IP=10.77.3.1		GW_SCANNER_MAC=02:77:03:00:00:01
GW_UPLINK_IP=10.77.100.1	GW_UPLINK_MAC=02:77:64:00:00:01
export GW_NS SENSOR1_NS SENSOR2_NS SCANNER_NS CLOUD_NS \
	GW_IF_SENSOR1 GW_IF_SENSOR2 GW_IF_SCANNER GW_IF_UPLINK GW_DEVICE_IFS DEV_IF \
	SENSOR1_IP SENSOR2_IP SCANNER_IP CLOUD_IP SENSOR1_IP6 SENSOR2_IP6 SCANNER_IP6 CLOUD_IP6 \
	SENSOR1_MAC SENSOR2_MAC SCANNER_MAC CLOUD_MAC \
	SENSOR1_NET SENSOR2_NET SCANNER_NET CLOUD_NET \
	GW_SENSOR1_IP GW_SENSOR2_IP GW_SCANNER_IP GW_UPLINK_IP \
	GW_SENSOR1_MAC GW_SENSOR2_MAC GW_SCANNER_MAC GW_UPLINK_MAC

# _gw_link DEVICE NET GW_IF: one device namespace on subnet 10.77.NET.0/24.
_gw_link() {
	local dev=$1 net=$2 gwif=$3 hex
	hex=$(printf '%02x' "$net")
	ns_add "$dev"
	veth_add gw "$gwif" "10.77.$net.1/24" "02:77:$hex:00:00:01" \
		"$dev" "$DEV_IF" "10.77.$net.10/24" "02:77:$hex:00:00:0a"
	ip -n "$(ns gw)" -6 addr add "fd77:$net::1/64" dev "$gwif" nodad
	ip -n "$(ns "$dev")" -6 addr add "fd77:$net::10/64" dev "$DEV_IF" nodad
	# Devices know only their gateway: everything else goes through gw.
	ip -n "$(ns "$dev")" route add default via "10.77.$net.1"
	ip -n "$(ns "$dev")" -6 route add default via "fd77:$net::1"
}

# gw_topology_up: build all five namespaces and the four links.
gw_topology_up() {
	ns_add gw
	# Forwarding is switched on inside gw only; the root namespace is untouched.
	nsx gw sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	_gw_link sensor1 1 "$GW_IF_SENSOR1"
	_gw_link sensor2 2 "$GW_IF_SENSOR2"
	_gw_link scanner 3 "$GW_IF_SCANNER"
	_gw_link cloud 100 "$GW_IF_UPLINK"
}

# gw_topology_check: every device reaches the cloud (run before fringe attaches).
gw_topology_check() {
	local d
	for d in sensor1 sensor2 scanner; do
		timeout 10 ip netns exec "$(ns "$d")" ping -c 1 -W 2 "$CLOUD_IP" >/dev/null ||
			fail "topology: $d cannot ping cloud $CLOUD_IP"
		timeout 10 ip netns exec "$(ns "$d")" ping -6 -c 1 -W 2 "$CLOUD_IP6" >/dev/null ||
			fail "topology: $d cannot ping cloud $CLOUD_IP6"
	done
}
