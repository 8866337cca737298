#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Integration: the deployment files parse and hang together: Kubernetes manifests (kubectl offline + a schema check), the systemd unit (systemd-analyze verify), make install, and the example configs (fringe daemon --check).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/lib/netns.sh"

require_cmd timeout "$PYTHON"
"$PYTHON" -c 'import yaml' 2>/dev/null || missing_dep "needs python3-yaml"
FRINGE=$ROOT/build/fringe
[ -x "$FRINGE" ] || skip "build/fringe is not built (run make)"
K8S=$ROOT/deploy/kubernetes
harness_tmpdir

step "Kubernetes manifests: kubectl parses them offline"
if command -v kubectl >/dev/null 2>&1; then
	# No cluster: an empty kubeconfig, and only commands that never ask a server.
	: >"$TMPD/kubeconfig"
	export KUBECONFIG=$TMPD/kubeconfig
	timeout 60 kubectl kustomize "$K8S" >"$TMPD/all.yaml" 2>"$TMPD/kubectl.err" ||
		fail "kubectl kustomize: $(cat "$TMPD/kubectl.err")"
	timeout 60 kubectl label --local --dry-run=client -o name -f "$TMPD/all.yaml" \
		fringe.test/parsed=yes >"$TMPD/objects" 2>"$TMPD/kubectl.err" ||
		fail "kubectl cannot decode the manifests: $(cat "$TMPD/kubectl.err")"
	info "kubectl $(timeout 10 kubectl version --client 2>/dev/null | head -n 1): $(tr '\n' ' ' <"$TMPD/objects")"
	for o in namespace/fringe configmap/fringe-config configmap/fringe-policy configmap/fringe-nodes \
		daemonset.apps/fringe; do
		grep -qx "$o" "$TMPD/objects" || fail "kubectl did not find $o"
	done
else
	info "no kubectl here: the schema check below is the parser"
	cat "$K8S"/namespace.yaml <(echo ---) "$K8S"/configmap.yaml <(echo ---) "$K8S"/daemonset.yaml >"$TMPD/all.yaml"
fi

step "Kubernetes manifests: schema and consistency"
mkdir -p "$TMPD/cm"
"$PYTHON" - "$TMPD/all.yaml" "$TMPD/cm" <<'EOF' || fail "schema check failed (above)"
import os, re, sys, yaml

docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
out = sys.argv[2]
errors = []

def err(path, msg):
    errors.append("%s: %s" % (path, msg))

STR, INT, BOOL = "string", "integer", "boolean"
def enum(*v): return ("enum", v)
STRMAP = ("map", STR)
INTORSTR = "int-or-string"

META = {"name": STR, "namespace": STR, "labels": STRMAP, "annotations": STRMAP}
PROBE = {"httpGet": {"path": STR, "port": INTORSTR, "host": STR, "scheme": enum("HTTP", "HTTPS")},
         "initialDelaySeconds": INT, "periodSeconds": INT, "timeoutSeconds": INT,
         "failureThreshold": INT, "successThreshold": INT}
CONTAINER = {
    "name": STR, "image": STR, "imagePullPolicy": enum("Always", "IfNotPresent", "Never"),
    "command": [STR], "args": [STR],
    "ports": [{"name": STR, "containerPort": INT, "hostPort": INT, "protocol": enum("TCP", "UDP", "SCTP")}],
    "readinessProbe": PROBE, "livenessProbe": PROBE,
    "resources": {"requests": STRMAP, "limits": STRMAP},
    "securityContext": {"privileged": BOOL, "allowPrivilegeEscalation": BOOL,
                        "readOnlyRootFilesystem": BOOL, "runAsUser": INT, "runAsNonRoot": BOOL,
                        "capabilities": {"add": [STR], "drop": [STR]},
                        "seccompProfile": {"type": enum("RuntimeDefault", "Unconfined", "Localhost"),
                                           "localhostProfile": STR}},
    "volumeMounts": [{"name": STR, "mountPath": STR, "readOnly": BOOL, "subPath": STR,
                      "mountPropagation": enum("None", "HostToContainer", "Bidirectional")}],
    "env": [{"name": STR, "value": STR}],
}
VOLUME = {"name": STR,
          "hostPath": {"path": STR, "type": enum("", "Directory", "DirectoryOrCreate", "File")},
          "configMap": {"name": STR, "defaultMode": INT, "optional": BOOL,
                        "items": [{"key": STR, "path": STR}]},
          "secret": {"secretName": STR, "defaultMode": INT, "optional": BOOL,
                     "items": [{"key": STR, "path": STR}]},
          "emptyDir": {"medium": enum("", "Memory"), "sizeLimit": STR}}
POD = {"hostNetwork": BOOL,
       "dnsPolicy": enum("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"),
       "priorityClassName": STR, "automountServiceAccountToken": BOOL, "serviceAccountName": STR,
       "terminationGracePeriodSeconds": INT, "nodeSelector": STRMAP,
       "tolerations": [{"operator": enum("Exists", "Equal"), "key": STR, "value": STR, "effect": STR}],
       "containers": [CONTAINER], "volumes": [VOLUME]}
SCHEMAS = {
    ("v1", "Namespace"): {"apiVersion": STR, "kind": STR, "metadata": META},
    ("v1", "ConfigMap"): {"apiVersion": STR, "kind": STR, "metadata": META, "data": STRMAP},
    ("apps/v1", "DaemonSet"): {
        "apiVersion": STR, "kind": STR, "metadata": META,
        "spec": {"selector": {"matchLabels": STRMAP},
                 "updateStrategy": {"type": enum("RollingUpdate", "OnDelete"),
                                    "rollingUpdate": {"maxUnavailable": INTORSTR, "maxSurge": INTORSTR}},
                 "minReadySeconds": INT,
                 "template": {"metadata": META, "spec": POD}}},
}
REQUIRED = {"containers": ["name", "image"], "ports": ["containerPort"],
            "volumes": ["name"], "volumeMounts": ["name", "mountPath"]}

def check(v, s, path):
    """Types and unknown keys (a misspelt field is an error, as with kubectl --validate)."""
    if isinstance(s, dict):
        if not isinstance(v, dict):
            return err(path, "expected an object")
        for k, sub in v.items():
            if k not in s:
                err(path, "unknown field '%s'" % k)
            else:
                check(sub, s[k], "%s.%s" % (path, k))
        for k in REQUIRED.get(path.rsplit(".", 1)[-1].split("[")[0], []):
            if k not in v:
                err(path, "missing '%s'" % k)
    elif isinstance(s, list):
        if not isinstance(v, list):
            return err(path, "expected a list")
        for i, item in enumerate(v):
            check(item, s[0], "%s[%d]" % (path, i))
    elif isinstance(s, tuple) and s[0] == "map":
        if not isinstance(v, dict) or not all(isinstance(x, str) for x in v.values()):
            err(path, "expected a map of strings (quote numbers and booleans)")
    elif isinstance(s, tuple) and s[0] == "enum":
        if v not in s[1]:
            err(path, "'%s' is not one of %s" % (v, ", ".join(s[1])))
    elif s == STR:
        if not isinstance(v, str): err(path, "expected a string")
    elif s == INT:
        if not isinstance(v, int) or isinstance(v, bool): err(path, "expected an integer")
    elif s == BOOL:
        if not isinstance(v, bool): err(path, "expected a boolean")
    elif s == INTORSTR:
        if not isinstance(v, (int, str)) or isinstance(v, bool): err(path, "expected an integer or a string")

DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
objs = {}
for d in docs:
    key = (d.get("apiVersion"), d.get("kind"))
    name = (d.get("metadata") or {}).get("name", "?")
    where = "%s/%s" % (d.get("kind"), name)
    if key == ("kustomize.config.k8s.io/v1beta1", "Kustomization"):
        continue
    if key not in SCHEMAS:
        err(where, "unexpected apiVersion/kind %s" % (key,))
        continue
    check(d, SCHEMAS[key], where)
    if not DNS1123.match(name) or len(name) > 63:
        err(where, "name is not a DNS label")
    objs[(d["kind"], name)] = d

ds = objs.get(("DaemonSet", "fringe"))
if not ds:
    err("DaemonSet/fringe", "missing")
    print("\n".join(errors)); sys.exit(1)
ns = ds["metadata"].get("namespace")
if ("Namespace", ns) not in objs:
    err("DaemonSet/fringe", "namespace '%s' is not defined" % ns)
tmpl = ds["spec"]["template"]
pod = tmpl["spec"]
for k, v in ds["spec"]["selector"]["matchLabels"].items():
    if tmpl["metadata"].get("labels", {}).get(k) != v:
        err("DaemonSet/fringe", "selector %s=%s does not match the template's labels" % (k, v))
if pod.get("hostNetwork") is not True:
    err("DaemonSet/fringe", "hostNetwork must be true (XDP attaches to the node's interfaces)")
c = pod["containers"][0]
sc = c.get("securityContext", {})
caps = set(sc.get("capabilities", {}).get("add", []))
if sc.get("privileged"):
    err("container fringe", "must not be privileged: capabilities only")
if not {"BPF", "NET_ADMIN", "PERFMON"} <= caps:
    err("container fringe", "capabilities must include BPF, NET_ADMIN, PERFMON (have %s)" % sorted(caps))
if caps - {"BPF", "NET_ADMIN", "PERFMON", "SYS_ADMIN"}:
    err("container fringe", "capabilities beyond the needed ones: %s" % sorted(caps - {"BPF", "NET_ADMIN", "PERFMON", "SYS_ADMIN"}))
if "ALL" not in sc.get("capabilities", {}).get("drop", []):
    err("container fringe", "capabilities must drop ALL first")
vols = {v["name"]: v for v in pod.get("volumes", [])}
mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
for m in c.get("volumeMounts", []):
    if m["name"] not in vols:
        err("container fringe", "mount of unknown volume '%s'" % m["name"])
bpf = mounts.get("/sys/fs/bpf")
if not bpf or vols.get(bpf["name"], {}).get("hostPath", {}).get("path") != "/sys/fs/bpf":
    err("DaemonSet/fringe", "the host's bpffs (hostPath /sys/fs/bpf) must be mounted at /sys/fs/bpf")
files = {}	# path in the container -> content, from the ConfigMaps
for path, m in mounts.items():
    cmv = vols.get(m["name"], {}).get("configMap")
    if not cmv:
        continue
    cm = objs.get(("ConfigMap", cmv["name"]))
    if not cm:
        err("volume %s" % m["name"], "ConfigMap '%s' is not defined" % cmv["name"])
        continue
    if cm["metadata"].get("namespace") != ns:
        err("ConfigMap/%s" % cmv["name"], "not in namespace %s" % ns)
    for k, v in cm.get("data", {}).items():
        files[os.path.join(path, k)] = v
ann = tmpl["metadata"].get("annotations", {})
ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
if ann.get("prometheus.io/scrape") != "true":
    err("DaemonSet/fringe", "no prometheus.io/scrape: \"true\" annotation")
if ann.get("prometheus.io/path", "/metrics") != "/metrics":
    err("DaemonSet/fringe", "prometheus.io/path is not /metrics")
if str(ports.get("metrics")) != ann.get("prometheus.io/port"):
    err("DaemonSet/fringe", "prometheus.io/port %s is not the metrics port %s" % (ann.get("prometheus.io/port"), ports.get("metrics")))
for probe in ("readinessProbe", "livenessProbe"):
    p = c.get(probe, {}).get("httpGet", {}).get("port")
    if p is not None and p not in ports and p not in ports.values():
        err("container fringe", "%s port %s is not a container port" % (probe, p))
cmd = c.get("command", []) + c.get("args", [])
if "--config" not in cmd:
    err("container fringe", "no --config in the command")
else:
    conf = cmd[cmd.index("--config") + 1]
    if conf not in files:
        err("container fringe", "--config %s is in no ConfigMap mount" % conf)
    else:
        words = {}
        for line in files[conf].splitlines():
            t = line.split("#", 1)[0].split()
            if t:
                words.setdefault(t[0], []).append(t[1:])
        for kw in ("policy", "nodes"):
            for args in words.get(kw, []):
                if args and args[0] not in files:
                    err("fringe.conf", "%s %s is in no ConfigMap mount" % (kw, args[0]))
        for args in words.get("metrics", []):
            if args and args[0].rsplit(":", 1)[-1] != str(ports.get("metrics")):
                err("fringe.conf", "metrics %s does not listen on the metrics port %s" % (args[0], ports.get("metrics")))
        for args in words.get("pin-dir", []):
            if args and not args[0].startswith("/sys/fs/bpf/"):
                err("fringe.conf", "pin-dir %s is not on the host's bpffs mount" % args[0])
        # One ConfigMap for every node: the overlay's members announce themselves,
        # the static nodes file says `self auto`, the etcd credentials are mounted.
        if "cluster" not in words or "announce" not in words:
            err("fringe.conf", "the overlay needs 'cluster etcd ...' and 'announce' (one config for every node)")
        for args in words.get("cluster", []):
            for kw in ("ca", "cert", "key"):
                if kw in args:
                    f = args[args.index(kw) + 1]
                    d = os.path.dirname(f)
                    if d not in mounts or not (vols.get(mounts[d]["name"], {}).get("secret") or
                                               vols.get(mounts[d]["name"], {}).get("configMap")):
                        err("fringe.conf", "cluster %s %s is in no Secret or ConfigMap mount" % (kw, f))
        for args in words.get("nodes", []):
            if args and args[0] in files and not re.search(r"^\s*self\s+auto\b", files[args[0]], re.M):
                err(args[0], "a nodes file shared by every node must say 'self auto'")
# Hand the files to fringe itself (they are checked next).
for path, content in files.items():
    dst = os.path.join(out, path.lstrip("/"))
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(dst, "w") as f:
        f.write(content)
print("objects: %s" % ", ".join("%s/%s" % k for k in sorted(objs)))
print("files from ConfigMaps: %s" % ", ".join(sorted(files)))
if errors:
    print("\n".join(errors))
    sys.exit(1)
EOF
CMCONF=$(find "$TMPD/cm" -name fringe.conf)
[ -n "$CMCONF" ] || fail "no fringe.conf among the ConfigMaps"
# The config names its files by their paths in the pod: point them into the copy.
sed -i "s|/etc/fringe/|$TMPD/cm/etc/fringe/|g" "$CMCONF"
timeout 30 "$FRINGE" daemon --config "$CMCONF" --check >"$TMPD/out" 2>&1 ||
	fail "the ConfigMaps' config or policy does not pass fringe daemon --check: $(cat "$TMPD/out")"
info "$(cat "$TMPD/out")"

step "examples/fringe.conf passes fringe daemon --check"
cp "$ROOT/examples/fringe.conf" "$TMPD/fringe.conf"
cp "$ROOT/examples/iot-gateway.policy" "$TMPD/fringe.policy"
timeout 30 "$FRINGE" daemon --config "$TMPD/fringe.conf" --check >"$TMPD/out" 2>&1 ||
	fail "examples/fringe.conf: $(cat "$TMPD/out")"
info "$(cat "$TMPD/out")"

step "make install: binary, man page, unit, example config"
DEST=$TMPD/root
timeout 120 make -s -C "$ROOT" install DESTDIR="$DEST" >"$TMPD/install.log" 2>&1 ||
	fail "make install: $(tail -n 5 "$TMPD/install.log")"
for f in usr/local/sbin/fringe usr/local/share/man/man8/fringe.8 lib/systemd/system/fringe.service \
	etc/fringe/fringe.conf; do
	[ -e "$DEST/$f" ] || fail "make install did not install /$f"
done
echo "# mine" >"$DEST/etc/fringe/fringe.conf"
timeout 120 make -s -C "$ROOT" install DESTDIR="$DEST" >"$TMPD/install.log" 2>&1 || fail "second make install failed"
[ "$(cat "$DEST/etc/fringe/fringe.conf")" = "# mine" ] || fail "make install overwrote an existing /etc/fringe/fringe.conf"
info "ok: $(find "$DEST" -type f | wc -l) files; an existing config is kept"

step "systemd unit: systemd-analyze verify"
if command -v systemd-analyze >/dev/null 2>&1; then
	UNIT=$DEST/lib/systemd/system/fringe.service
	grep -qx 'ExecStart=/usr/local/sbin/fringe daemon --config /etc/fringe/fringe.conf' "$UNIT" ||
		fail "unexpected ExecStart in the unit"
	# shellcheck disable=SC2016 # $MAINPID is systemd's, literally
	for k in 'Type=simple' 'ProtectSystem=strict' 'ReadWritePaths=/sys/fs/bpf' 'NoNewPrivileges=yes' \
		'ProtectHome=yes' 'PrivateTmp=yes' 'ExecReload=/bin/kill -HUP $MAINPID' \
		'RestrictAddressFamilies=AF_INET AF_INET6 AF_NETLINK AF_UNIX'; do
		grep -qxF "$k" "$UNIT" || fail "the unit lacks '$k'"
	done
	CAPS=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
	[ "$CAPS" = "CAP_BPF CAP_NET_ADMIN CAP_PERFMON CAP_SYS_ADMIN" ] || fail "unexpected capabilities: $CAPS"
	# verify needs ExecStart to exist: the same unit, pointing at the installed binary.
	mkdir -p "$TMPD/unit"
	sed "s|^ExecStart=/usr/local/sbin/fringe |ExecStart=$DEST/usr/local/sbin/fringe |" "$UNIT" \
		>"$TMPD/unit/fringe.service"
	MANPATH=$DEST/usr/local/share/man timeout 60 systemd-analyze verify "$TMPD/unit/fringe.service" \
		>"$TMPD/verify.out" 2>&1 || fail "systemd-analyze verify: $(cat "$TMPD/verify.out")"
	# It only warns about unknown settings and system calls: any output is a failure.
	[ ! -s "$TMPD/verify.out" ] || fail "systemd-analyze verify: $(cat "$TMPD/verify.out")"
	info "ok: systemd-analyze verify is silent"
else
	info "no systemd-analyze here: unit not verified"
fi

harness_done
