# SPDX-License-Identifier: GPL-2.0
"""A device's and a server's side of integration tests, one JSON line per probe.

  netprobe.py resolve SERVER NAME PORT [SRC]  look NAME up (A, over UDP) at SERVER,
                                              then at once connect to its last address
  netprobe.py connect ADDR PORT [SRC]         open a TCP connection (2 s)
  netprobe.py udp SRC DST PORT TEXT           send one datagram from SRC
  netprobe.py serve-tcp ADDR PORT             accept and close, forever
  netprobe.py serve-udp ADDR PORT             print "SRC TEXT" per datagram, forever
"""
import json
import random
import socket
import struct
import sys


def query(server, name, timeout=2.0):
    """The A records of name and the CNAME targets of the answer, asked of server."""
    qid = random.randrange(65536)
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    q += struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(q, (server, 53))
        while True:
            a, _ = s.recvfrom(4096)
            if struct.unpack(">H", a[:2])[0] == qid:
                break
    except socket.timeout:
        return [], []
    finally:
        s.close()

    def skip_name(off):
        while a[off] and a[off] < 0xc0:
            off += a[off] + 1
        return off + (2 if a[off] >= 0xc0 else 1)

    def read_name(off):
        labels = []
        while a[off]:
            if a[off] >= 0xc0:
                off = struct.unpack(">H", a[off:off + 2])[0] & 0x3fff
                continue
            labels.append(a[off + 1:off + 1 + a[off]].decode())
            off += a[off] + 1
        return ".".join(labels)

    addrs, cnames = [], []
    off = len(q)
    for _ in range(struct.unpack(">H", a[6:8])[0]):
        off = skip_name(off)
        rtype, _, _, rdlen = struct.unpack(">HHIH", a[off:off + 10])
        off += 10
        if rtype == 1 and rdlen == 4:
            addrs.append(socket.inet_ntoa(a[off:off + 4]))
        elif rtype == 5:
            cnames.append(read_name(off))
        off += rdlen
    return addrs, cnames


def connect(addr, port, src=None, timeout=2.0):
    try:
        socket.create_connection((addr, port), timeout=timeout,
                                 source_address=(src, 0) if src else None).close()
        return True
    except OSError:
        return False


def main(argv):
    what = argv[1]
    if what == "resolve":
        server, name, port = argv[2], argv[3], int(argv[4])
        addrs, cnames = query(server, name)
        ok = bool(addrs) and connect(addrs[-1], port, argv[5] if len(argv) > 5 else None)
        print(json.dumps({"addrs": addrs, "cnames": cnames, "connected": ok}))
    elif what == "connect":
        ok = connect(argv[2], int(argv[3]), argv[4] if len(argv) > 4 else None)
        print(json.dumps({"connected": ok}))
    elif what == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((argv[2], 0))
        s.sendto(argv[5].encode(), (argv[3], int(argv[4])))
    elif what == "serve-tcp":
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((argv[2], int(argv[3])))
        s.listen(64)
        while True:
            s.accept()[0].close()
    elif what == "serve-udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((argv[2], int(argv[3])))
        while True:
            data, peer = s.recvfrom(2048)
            print(peer[0], data.decode(errors="replace"), flush=True)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
