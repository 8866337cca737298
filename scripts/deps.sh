#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian 12 packages fringe needs to build, test and demo (idempotent).
set -euo pipefail

PKGS=(
	make gcc pkg-config
	clang-19 llvm-19            # BPF compiler: clang-14 crashes on __builtin_ctzll for BPF
	libbpf-dev libxdp-dev libelf-dev zlib1g-dev bpftool xdp-tools
	libcmocka-dev libjson-c-dev  # unit tests; JSON output (json-c)
	libpcap-dev                 # pcap reading (policy test) and writing (sample --pcap)
	iproute2 iputils-ping ethtool tcpdump netcat-openbsd
	mosquitto mosquitto-clients # demo: a real MQTT broker and clients
	nftables gnuplot-nox        # bench: the nftables peer and the scaling plot
	python3 python3-scapy       # JSON checks and packet crafting in tests (/usr/bin/python3)
	tshark pmacct               # sFlow decoders for the sampling test (tshark, sfacctd)
	libmicrohttpd-dev libgnutls28-dev # the daemon's HTTP server, its TLS (GnuTLS)
	libclang-rt-19-dev          # fuzzing: libFuzzer, ASan and UBSan runtimes for clang-19 (tests/fuzz)
	libcrypt-dev                # crypt(3) hashes of the listener's users (libxcrypt)
	libmnl-dev                  # rtnetlink (routes, neighbours) through libmnl
	libcurl4-openssl-dev        # the daemon's etcd client (the v3 JSON gateway over HTTP/2 and TLS)
	etcd-server etcd-client     # cluster tests: a real etcd cluster (certificates made with openssl)
	chromium                    # dashboard test and demo: a headless browser
	prometheus curl openssl     # daemon test: promtool, a real Prometheus server, an HTTP client, test certificates
	xxd                         # build: the dashboard's files embedded in the binary
	python3-yaml                # deploy test: schema check of the Kubernetes manifests
	iperf3                      # overlay test: TCP transfers between workloads
	strace                      # daemon start test: holds the daemon in listen() (fault injection)
	dnsmasq-base                # DNS test: a real resolver in a namespace (the program alone, no system service)
	libcoap3-bin mbpoll         # IoT test: coap-client/coap-server, a Modbus/TCP master
	python3-pymodbus python3-serial-asyncio # IoT test: a Modbus/TCP server (its server imports serial_asyncio)
)
# kubectl parses the Kubernetes manifests offline (deploy test); any kubectl already there will do.
command -v kubectl >/dev/null 2>&1 || PKGS+=(kubernetes-client)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]} (run as root to install them)" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || true
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# mosquitto's package starts a system broker; the demo runs its own inside a namespace.
systemctl disable --now mosquitto >/dev/null 2>&1 || true
# Same for prometheus: the daemon test starts its own, on loopback inside a namespace.
systemctl disable --now prometheus >/dev/null 2>&1 || true
# iperf3 can run as a system daemon; the overlay test starts its own inside namespaces.
systemctl disable --now iperf3 >/dev/null 2>&1 || true
# etcd-server starts a system member; the cluster tests run their own inside namespaces.
systemctl disable --now etcd >/dev/null 2>&1 || true
