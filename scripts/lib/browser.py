#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# Drive headless Chromium over the DevTools protocol (a pipe, no port): load the dashboard, read its DOM, take screenshots.
"""
browser.py URL --out DIR [options]

Loads URL in Debian's chromium (headless, as root: --no-sandbox) through the
DevTools protocol on a pipe, waits until the page has refreshed itself twice
(document.body.dataset.updates), lets it run --settle seconds, and writes
DIR/report.json:

  requests   every URL the page asked for (to check that none leaves its origin)
  responses  [url, status] of each answer
  console    console messages, exceptions and log entries of level error/warning
  dom        {data-k: {"v": data-v or null, "text": textContent}} of the page
  before, after   the output of --stats-cmd (JSON) run just before the page's
             last two refreshes and just after the DOM was read, so that every
             counter shown lies between them ("within one refresh")
  phone      the layout at 390x844: page width against viewport width

and DIR/dashboard.png (desktop, 1280 wide, whole page) and
DIR/dashboard-phone.png.  --auth USER:PASS sends basic credentials with
every request; --spki HASH trusts the server's key (a test CA is not in the
system store).  Exits 1 when the page does not come up.
"""
import argparse
import base64
import json
import os
import select
import shlex
import shutil
import subprocess
import sys
import tempfile
import time


class Browser:
    def __init__(self, argv, timeout):
        self.deadline = time.monotonic() + timeout
        r_chrome, w_ours = os.pipe()   # we write commands on w_ours; chromium reads fd 3
        r_ours, w_chrome = os.pipe()   # chromium writes fd 4; we read r_ours
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(ARGS.out, 'chromium.log'), 'wb'),
            pass_fds=(3, 4), preexec_fn=lambda: self._fds(r_chrome, w_chrome))
        os.close(r_chrome)
        os.close(w_chrome)
        self.w, self.r = w_ours, r_ours
        self.buf = b''
        self.next_id = 0
        self.events = []

    @staticmethod
    def _fds(r, w):
        # In the child: its command pipe on fd 3, its answer pipe on fd 4.
        if w == 3:
            w = os.dup(w)
        for fd, want in ((r, 3), (w, 4)):
            if fd != want:
                os.dup2(fd, want)
            os.set_inheritable(want, True)

    def _read_msg(self, until):
        while b'\0' not in self.buf:
            left = until - time.monotonic()
            if left <= 0:
                raise TimeoutError('no answer from chromium')
            ready, _, _ = select.select([self.r], [], [], left)
            if ready:
                chunk = os.read(self.r, 1 << 20)
                if not chunk:
                    raise EOFError('chromium closed the pipe')
                self.buf += chunk
        msg, self.buf = self.buf.split(b'\0', 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=20):
        self.next_id += 1
        msg = {'id': self.next_id, 'method': method, 'params': params or {}}
        if session:
            msg['sessionId'] = session
        os.write(self.w, json.dumps(msg).encode() + b'\0')
        until = min(self.deadline, time.monotonic() + timeout)
        while True:
            m = self._read_msg(until)
            if m.get('id') == self.next_id:
                if 'error' in m:
                    raise RuntimeError('%s: %s' % (method, m['error']))
                return m.get('result', {})
            self.events.append(m)

    def pump(self, seconds):
        until = time.monotonic() + seconds
        try:
            while True:
                self.events.append(self._read_msg(until))
        except TimeoutError:
            pass

    def close(self):
        try:
            self.call('Browser.close', timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def evaluate(b, s, expr):
    r = b.call('Runtime.evaluate', {'expression': expr, 'returnByValue': True}, s)
    if 'exceptionDetails' in r:
        raise RuntimeError('evaluate %s: %s' % (expr, r['exceptionDetails']))
    return r['result'].get('value')


def updates(b, s):
    v = evaluate(b, s, 'document.body ? Number(document.body.dataset.updates || 0) : 0')
    return int(v or 0)


def wait_updates(b, s, n, timeout):
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        if updates(b, s) >= n:
            return True
        b.pump(0.1)
    return False


def screenshot(b, s, path):
    m = b.call('Page.getLayoutMetrics', None, s)
    size = m.get('cssContentSize') or m['contentSize']
    shot = b.call('Page.captureScreenshot', {
        'format': 'png', 'captureBeyondViewport': True,
        'clip': {'x': 0, 'y': 0, 'width': size['width'], 'height': min(size['height'], 6000), 'scale': 1}}, s)
    with open(path, 'wb') as f:
        f.write(base64.b64decode(shot['data']))


def stats(cmd):
    if not cmd:
        return None
    return json.loads(subprocess.run(shlex.split(cmd), check=True, capture_output=True, timeout=30).stdout)


DOM_JS = '''JSON.stringify(Object.fromEntries([...document.querySelectorAll('[data-k]')].map(
    e => [e.dataset.k, {v: e.dataset.v === undefined ? null : e.dataset.v, text: e.textContent}])))'''


def main():
    os.makedirs(ARGS.out, exist_ok=True)
    profile = tempfile.mkdtemp(prefix='fringe-chromium-')
    argv = ARGS.prefix + [ARGS.chromium, '--headless', '--no-sandbox', '--disable-gpu',
                          '--disable-background-networking', '--disable-component-update',
                          '--disable-sync', '--no-first-run', '--no-default-browser-check',
                          '--disable-extensions', '--disable-dev-shm-usage', '--mute-audio',
                          '--remote-debugging-pipe', '--user-data-dir=' + profile,
                          '--window-size=1280,900']
    if ARGS.spki:
        argv.append('--ignore-certificate-errors-spki-list=' + ARGS.spki)
    b = Browser(argv, ARGS.timeout)
    report = {'url': ARGS.url}
    rc = 0
    try:
        target = b.call('Target.createTarget', {'url': 'about:blank'})['targetId']
        s = b.call('Target.attachToTarget', {'targetId': target, 'flatten': True})['sessionId']
        for dom in ('Page', 'Runtime', 'Log', 'Network'):
            b.call(dom + '.enable', None, s)
        if ARGS.auth:
            b.call('Network.setExtraHTTPHeaders', {'headers': {
                'Authorization': 'Basic ' + base64.b64encode(ARGS.auth.encode()).decode()}}, s)
        b.call('Emulation.setDeviceMetricsOverride',
               {'width': 1280, 'height': 900, 'deviceScaleFactor': 1, 'mobile': False}, s)
        nav = b.call('Page.navigate', {'url': ARGS.url}, s)
        if nav.get('errorText'):
            raise RuntimeError('cannot load %s: %s' % (ARGS.url, nav['errorText']))
        if not wait_updates(b, s, 2, ARGS.timeout / 3):
            raise RuntimeError('the page did not refresh twice: updates=%d' % updates(b, s))
        b.pump(ARGS.settle)   # let the charts fill
        report['before'] = stats(ARGS.stats_cmd)
        # Two more refreshes: the second one started after `before` was taken.
        n = updates(b, s)
        if not wait_updates(b, s, n + 2, ARGS.timeout / 3):
            raise RuntimeError('the page stopped refreshing at %d updates' % updates(b, s))
        report['dom'] = json.loads(evaluate(b, s, DOM_JS))
        report['after'] = stats(ARGS.stats_cmd)
        report['text'] = evaluate(b, s, 'document.body.innerText')
        screenshot(b, s, os.path.join(ARGS.out, 'dashboard.png'))
        # A phone: one column, nothing wider than the screen.
        b.call('Emulation.setDeviceMetricsOverride',
               {'width': 390, 'height': 844, 'deviceScaleFactor': 2, 'mobile': True}, s)
        n = updates(b, s)
        wait_updates(b, s, n + 1, ARGS.timeout / 4)
        report['phone'] = json.loads(evaluate(b, s, '''JSON.stringify({
            viewport: window.innerWidth, page: document.documentElement.scrollWidth,
            columns: getComputedStyle(document.querySelector('main')).gridTemplateColumns.split(' ').length})'''))
        screenshot(b, s, os.path.join(ARGS.out, 'dashboard-phone.png'))
        b.pump(0.3)
    except Exception as e:
        report['failure'] = str(e)
        rc = 1
    finally:
        b.close()
        shutil.rmtree(profile, ignore_errors=True)
    ev = [e for e in b.events if 'method' in e]
    report['requests'] = [e['params']['request']['url'] for e in ev if e['method'] == 'Network.requestWillBeSent']
    report['responses'] = [[e['params']['response']['url'], e['params']['response']['status']]
                           for e in ev if e['method'] == 'Network.responseReceived']
    con = []
    for e in ev:
        p = e['params']
        if e['method'] == 'Runtime.consoleAPICalled' and p['type'] in ('error', 'warning', 'assert'):
            con.append('console.%s: %s' % (p['type'], ' '.join(str(a.get('value', a.get('description', ''))) for a in p['args'])))
        elif e['method'] == 'Runtime.exceptionThrown':
            d = p['exceptionDetails']
            con.append('exception: %s %s' % (d.get('text', ''), d.get('exception', {}).get('description', '')))
        elif e['method'] == 'Log.entryAdded' and p['entry']['level'] in ('error', 'warning'):
            con.append('log.%s: %s %s' % (p['entry']['level'], p['entry']['text'], p['entry'].get('url', '')))
        elif e['method'] == 'Network.loadingFailed':
            con.append('network: %s %s' % (p.get('errorText', ''), p.get('blockedReason', '')))
    report['console'] = con
    with open(os.path.join(ARGS.out, 'report.json'), 'w') as f:
        json.dump(report, f, indent=1)
    if rc:
        print('browser.py: %s' % report['failure'], file=sys.stderr)
    return rc


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    ap.add_argument('url')
    ap.add_argument('--out', required=True)
    ap.add_argument('--auth')
    ap.add_argument('--spki')
    ap.add_argument('--stats-cmd')
    ap.add_argument('--timeout', type=float, default=90)
    ap.add_argument('--settle', type=float, default=0, help='seconds to let the page run before reading it')
    ap.add_argument('--chromium', default='chromium')
    ap.add_argument('--prefix', default='', help='a command to run chromium through (ip netns exec NS)')
    ARGS = ap.parse_args()
    ARGS.prefix = shlex.split(ARGS.prefix)
    sys.exit(main())
