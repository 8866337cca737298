#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# Run every query of a Grafana dashboard against a real Prometheus: each must return series, on families the daemon exports.
"""
grafana_check.py DASHBOARD.json PROMETHEUS_URL SCRAPE_FILE [--rate-interval 1m]

For every panel target, annotation and template variable of the dashboard:
the fringe_* metric families it names must be in SCRAPE_FILE (a scrape of
the daemon: its `# TYPE` lines), and the query, with Grafana's variables
replaced ($__rate_interval by --rate-interval, $job/$instance/$interface and
the like by `.*`), must run on PROMETHEUS_URL and, except for annotations
(events, empty while nothing happens), return at least one series.
Prints one line per query; exits 1 when one fails.
"""
import argparse
import json
import re
import sys
import urllib.parse
import urllib.request

FAMILY = re.compile(r'\bfringe_[a-z0-9_]+')


def queries(dash):
    def walk(panels):
        for p in panels:
            yield from walk(p.get('panels', []))
            for t in p.get('targets', []):
                if t.get('expr'):
                    yield 'panel "%s" %s' % (p.get('title'), t.get('refId', '')), t['expr'], True
    yield from walk(dash.get('panels', []))
    for a in dash.get('annotations', {}).get('list', []):
        if a.get('expr'):
            # An event query: empty while nothing happens, but it must be valid.
            yield 'annotation "%s"' % a.get('name'), a['expr'], False
    for v in dash.get('templating', {}).get('list', []):
        q = v.get('query')
        q = q.get('query') if isinstance(q, dict) else q
        if v.get('type') == 'query' and q:
            m = re.fullmatch(r'\s*label_values\((.*),\s*([a-zA-Z_]+)\)\s*', q)
            # label_values(SELECTOR, LABEL): the selector's series must have the label.
            yield 'variable "%s"' % v['name'], ('count by (%s) (%s)' % (m.group(2), m.group(1)) if m else q), True


def substitute(expr, rate_interval):
    expr = expr.replace('$__rate_interval', rate_interval).replace('${__rate_interval}', rate_interval)
    expr = re.sub(r'\$__(interval|range)\b', rate_interval, expr)
    return re.sub(r'\$\{?[A-Za-z_][A-Za-z0-9_]*\}?', '.*', expr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('dashboard')
    ap.add_argument('prometheus')
    ap.add_argument('scrape')
    ap.add_argument('--rate-interval', default='1m')
    a = ap.parse_args()
    dash = json.load(open(a.dashboard))
    exported = set(re.findall(r'^# TYPE (\S+) ', open(a.scrape).read(), re.M))
    bad = n = 0
    for where, expr, want_series in queries(dash):
        n += 1
        missing = sorted(f for f in set(FAMILY.findall(expr)) if f not in exported)
        if missing:
            print('FAIL %s: no such family in the daemon\'s metrics: %s' % (where, ', '.join(missing)))
            bad += 1
            continue
        q = substitute(expr, a.rate_interval)
        url = '%s/api/v1/query?query=%s' % (a.prometheus, urllib.parse.quote(q))
        try:
            d = json.load(urllib.request.urlopen(url, timeout=10))
        except Exception as e:  # a query Prometheus refuses answers 400 with its reason
            body = getattr(e, 'read', lambda: b'')().decode(errors='replace')
            print('FAIL %s: %s %s\n    %s' % (where, e, body[:300], q))
            bad += 1
            continue
        res = d.get('data', {}).get('result', [])
        if d.get('status') != 'success' or (want_series and not res):
            print('FAIL %s: no series\n    %s' % (where, q))
            bad += 1
        else:
            print('ok   %s: %d series' % (where, len(res)))
    print('%d queries, %d failed' % (n, bad))
    return 1 if bad or not n else 0


if __name__ == '__main__':
    sys.exit(main())
