// SPDX-License-Identifier: GPL-2.0
// fringe's dashboard: polls the daemon's read-only JSON API and draws tables and SVG charts.
//
// Every number cell carries data-k (what it is: "rule:icmp:packets") and, for
// counters, data-v (the exact value); the text is that value, grouped by
// thousands.  tests/integration/test_web.sh reads the page through them.
'use strict';

const REFRESH_MS = 2000;	// the daemon reads its maps once per refresh
const HISTORY = 150;		// chart points: five minutes at one per refresh
const TOP_RULES = 10;
const TOP_DEVICES = 20;
const TOP_FLOWS = 10;
const SVG = 'http://www.w3.org/2000/svg';

const state = {
	endpoints: null,	// from /api/v1/: which documents this daemon serves
	prev: null,		// the previous sample: its time and counters
	history: [],		// [{t, pps, dps}] for the chart
	updates: 0,
	failures: 0,
};

// ---- small helpers -----------------------------------------------------------

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...kids) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === null || v === undefined) continue;
		if (k === 'class') e.className = v;
		else e.setAttribute(k, v);
	}
	for (const c of kids) {
		if (c === null || c === undefined) continue;
		e.append(c instanceof Node ? c : String(c));
	}
	return e;
}

function svg(tag, attrs) {
	const e = document.createElementNS(SVG, tag);
	for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
	return e;
}

function grouped(n) {
	return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function bytesText(n) {
	const u = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
	let i = 0;
	while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
	return (i ? n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0) : String(n)) + ' ' + u[i];
}

function rateText(r) {
	if (r === null || r === undefined) return '–';
	if (r === 0) return '0';
	if (r < 10) return r.toFixed(1);
	if (r < 1e4) return grouped(r);
	if (r < 1e7) return (r / 1e3).toFixed(1) + ' k';
	return (r / 1e6).toFixed(1) + ' M';
}

// A counter cell: exact value, grouped.
function num(k, v) {
	return el('td', { class: 'num', 'data-k': k, 'data-v': String(v) }, grouped(v));
}

function rate(k, r, opt) {
	return el('td', { class: 'num rate' + (opt ? ' opt' : ''), 'data-k': k }, rateText(r));
}

function table(id, head, rows, empty) {
	const t = $(id);
	t.replaceChildren();
	// A heading '~name' marks a column a phone may leave out (class "opt").
	t.append(el('thead', null, el('tr', null, ...head.map(h => h[0] === '~'
		? el('th', { scope: 'col', class: 'opt' }, h.slice(1)) : el('th', { scope: 'col' }, h)))));
	const b = el('tbody');
	for (const r of rows) b.append(r);
	if (!rows.length && empty)
		b.append(el('tr', null, el('td', { colspan: String(head.length), class: 'empty' }, empty)));
	t.append(b);
}

async function getJSON(path) {
	const r = await fetch(path, { cache: 'no-store', credentials: 'same-origin' });
	if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
	return r.json();
}

// ---- rates -------------------------------------------------------------------

// Per-second rates of every counter of interest between two samples.
function counters(stats, policy, flows) {
	const c = new Map();
	for (const i of stats.interfaces || []) {
		for (const [v, x] of Object.entries(i.verdicts || {})) c.set('if:' + i.name + ':' + v, x.packets);
		for (const [r, n] of Object.entries(i.drops || {})) c.set('drop:' + i.name + ':' + r, n);
		c.set('spoof:' + i.name, i.spoofed || 0);
	}
	for (const r of (policy && policy.rules) || []) c.set('rule:' + r.name, r.packets);
	if (policy && policy.default) c.set('rule:default', policy.default.packets);
	for (const [a, x] of Object.entries(stats.apps || {})) c.set('app:' + a, x.packets);
	for (const d of stats.devices || []) {
		c.set('dev:' + d.name, d.packets);
		c.set('devspoof:' + d.name, d.spoofed || 0);
	}
	for (const n of (stats.overlay && stats.overlay.nodes) || []) {
		c.set('node:' + n.name + ':tx', n.tx_packets);
		c.set('node:' + n.name + ':rx', n.rx_packets);
	}
	if (stats.samples) {
		c.set('samples:taken', stats.samples.taken);
		c.set('samples:lost', stats.samples.lost);
	}
	return c;
}

function rateOf(key, cur, now) {
	const p = state.prev;
	if (!p || !p.c.has(key) || !cur.has(key)) return null;
	const d = cur.get(key) - p.c.get(key), dt = (now - p.t) / 1000;
	return d >= 0 && dt > 0 ? d / dt : null;	// a reset (new daemon, reloaded rule): unknown
}

// ---- sections ----------------------------------------------------------------

function drawSummary(stats, policy) {
	const gen = policy ? policy.generation : stats.policy_generation;
	const parts = [];
	parts.push(gen ? 'policy generation ' + gen + (policy && policy.loaded_at ? ', loaded ' + policy.loaded_at : '') +
		   (policy ? ', ' + policy.rules.length + ' rules, default ' + policy.default.verdict : '')
		       : 'no policy loaded: every packet passes');
	if (policy && policy.awaiting_confirmation)
		parts.push('awaiting “fringe policy confirm” until ' + policy.awaiting_confirmation.deadline);
	parts.push((stats.interfaces || []).length + ' interface' + ((stats.interfaces || []).length === 1 ? '' : 's'));
	$('summary').textContent = parts.join(' · ');
}

function drawInterfaces(stats, cur, now) {
	const rows = [];
	let pps = 0, dps = 0, known = false;
	for (const i of stats.interfaces || []) {
		const n = i.name, v = i.verdicts || {};
		const drops = Object.values(i.drops || {}).reduce((a, b) => a + b, 0);
		const r = {};
		for (const k of ['pass', 'drop', 'redirect', 'tx']) r[k] = rateOf('if:' + n + ':' + k, cur, now);
		const all = ['pass', 'drop', 'redirect', 'tx'].map(k => r[k]);
		if (all.every(x => x !== null)) {
			known = true;
			pps += all.reduce((a, b) => a + b, 0);
			dps += r.drop;
		}
		const total = ['pass', 'drop', 'redirect', 'tx'].reduce((a, k) => a + ((v[k] || {}).packets || 0), 0);
		rows.push(el('tr', { 'data-iface': n },
			el('th', { scope: 'row' }, n),
			rate('iface:' + n + ':pass:rate', r.pass),
			rate('iface:' + n + ':drop:rate', r.drop),
			rate('iface:' + n + ':redirect:rate', r.redirect, true),
			rate('iface:' + n + ':tx:rate', r.tx, true),
			num('iface:' + n + ':pass:packets', (v.pass || {}).packets || 0),
			el('td', { class: 'num opt', 'data-k': 'iface:' + n + ':drop:packets', 'data-v': String((v.drop || {}).packets || 0) },
			   grouped((v.drop || {}).packets || 0)),
			el('td', { class: 'num opt', 'data-k': 'iface:' + n + ':packets', 'data-v': String(total) }, grouped(total)),
			el('td', { class: 'num opt' }, bytesText(['pass', 'drop', 'redirect', 'tx'].reduce((a, k) => a + ((v[k] || {}).bytes || 0), 0))),
			num('iface:' + n + ':spoofed', i.spoofed || 0)));
	}
	table('iface-table', ['interface', 'pass/s', 'drop/s', '~redirect/s', '~tx/s', 'passed', '~dropped', '~packets', '~bytes', 'spoofed'],
	      rows, 'no interface attached');
	return known ? { pps, dps } : null;
}

function drawChart() {
	const box = $('chart'), h = state.history;
	const W = 600, H = 150;
	// Stretched to the card's width; the lines keep their width (non-scaling-stroke).
	const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img',
			       'aria-label': 'packets and drops per second' });
	const max = Math.max(1, ...h.map(p => p.pps));
	// The points there are, across the width (at least a minute's worth of room).
	const span = Math.max(h.length, 30);
	const x = i => W * (span - h.length + i) / (span - 1);
	const y = v => H - 2 - (H - 4) * v / max;
	for (const f of [0.25, 0.5, 0.75, 1])
		s.append(svg('line', { x1: 0, x2: W, y1: y(max * f), y2: y(max * f), class: 'grid' }));
	const line = (key, cls) => {
		if (h.length < 2) return;
		const pts = h.map((p, i) => x(i).toFixed(1) + ',' + y(p[key]).toFixed(1)).join(' ');
		s.append(svg('polygon', { points: `${x(0).toFixed(1)},${H} ${pts} ${x(h.length - 1).toFixed(1)},${H}`, class: cls + ' area' }));
		s.append(svg('polyline', { points: pts, class: cls }));
	};
	line('pps', 'pps');
	line('dps', 'dps');
	const last = h.length ? h[h.length - 1] : null;
	const legend = el('p', { class: 'legend' },
		el('span', { class: 'key pps' }, 'packets/s ' + (last ? rateText(last.pps) : '–')), ' ',
		el('span', { class: 'key dps' }, 'drops/s ' + (last ? rateText(last.dps) : '–')), ' ',
		el('span', { class: 'axis' }, 'top line ' + rateText(max) + '/s; the last ' +
		   Math.round(span * REFRESH_MS / 1000) + ' s (up to ' + HISTORY * REFRESH_MS / 1000 + ')'));
	box.replaceChildren(s, legend);
}

function drawDrops(stats, cur, now) {
	const by = new Map();
	for (const i of stats.interfaces || [])
		for (const [r, n] of Object.entries(i.drops || {})) {
			const e = by.get(r) || { total: 0, rate: 0, known: true };
			e.total += n;
			const x = rateOf('drop:' + i.name + ':' + r, cur, now);
			if (x === null) e.known = false; else e.rate += x;
			by.set(r, e);
		}
	const list = [...by.entries()].sort((a, b) => b[1].rate - a[1].rate || b[1].total - a[1].total);
	const max = Math.max(1, ...list.map(([, e]) => e.rate));
	const box = $('drop-bars');
	box.replaceChildren();
	if (!list.length) { box.append(el('p', { class: 'empty' }, 'no interface attached')); return; }
	for (const [r, e] of list) {
		const s = svg('svg', { viewBox: '0 0 100 8', preserveAspectRatio: 'none', class: 'bar', 'aria-hidden': 'true' });
		s.append(svg('rect', { x: 0, y: 0, width: (100 * e.rate / max).toFixed(2), height: 8, class: e.rate > 0 ? 'dps' : 'idle' }));
		box.append(el('div', { class: 'barrow' + (e.total ? '' : ' zero') },
			el('span', { class: 'label' }, r),
			s,
			el('span', { class: 'num rate', 'data-k': 'drops:' + r + ':rate' }, (e.known ? rateText(e.rate) : '–') + '/s'),
			el('span', { class: 'num', 'data-k': 'drops:' + r, 'data-v': String(e.total) }, grouped(e.total))));
	}
}

function drawRules(policy, cur, now) {
	if (!policy) return;
	const all = policy.rules.map(r => ({ ...r, rate: rateOf('rule:' + r.name, cur, now) }));
	all.push({ name: 'default', verdict: policy.default.verdict, packets: policy.default.packets,
		   bytes: policy.default.bytes, rate: rateOf('rule:default', cur, now) });
	all.sort((a, b) => (b.rate || 0) - (a.rate || 0) || b.packets - a.packets);
	const top = all.slice(0, TOP_RULES);
	table('rule-table', ['rule', '~verdict', 'packets/s', 'packets', '~bytes'],
	      top.map(r => el('tr', { 'data-rule': r.name },
		      el('th', { scope: 'row' }, r.name),
		      el('td', { class: 'opt verdict ' + r.verdict.split(' ')[0] }, r.verdict + (r.limited ? ' (limited)' : '')),
		      rate('rule:' + r.name + ':rate', r.rate),
		      num('rule:' + r.name + ':packets', r.packets),
		      el('td', { class: 'num opt', 'data-k': 'rule:' + r.name + ':bytes', 'data-v': String(r.bytes) }, bytesText(r.bytes)))),
	      'no rules');
	if (all.length > TOP_RULES)
		$('rule-table').append(el('caption', null, 'top ' + TOP_RULES + ' of ' + all.length + ' by packets/s'));
}

function drawApps(stats, cur, now) {
	const apps = Object.entries(stats.apps || {}).filter(([, x]) => x.packets > 0)
		.map(([a, x]) => ({ name: a, ...x, rate: rateOf('app:' + a, cur, now) }))
		.sort((a, b) => (b.rate || 0) - (a.rate || 0) || b.packets - a.packets);
	table('app-table', ['application', 'packets/s', 'packets', 'bytes'],
	      apps.map(a => el('tr', { 'data-app': a.name },
		      el('th', { scope: 'row' }, a.name),
		      rate('app:' + a.name + ':rate', a.rate),
		      num('app:' + a.name + ':packets', a.packets),
		      el('td', { class: 'num', 'data-k': 'app:' + a.name + ':bytes', 'data-v': String(a.bytes) }, bytesText(a.bytes)))),
	      'no application recognized yet');
}

function drawDevices(stats, cur, now) {
	const spoofing = (stats.interfaces || []).filter(i => i.spoofed > 0);
	const note = $('spoof-note');
	note.replaceChildren();
	for (const i of spoofing) {
		const r = rateOf('spoof:' + i.name, cur, now);
		note.append(el('p', { class: 'alert', 'data-k': 'spoofed:' + i.name, 'data-v': String(i.spoofed) },
			'⚠ spoofing on ' + i.name + ': ' + grouped(i.spoofed) + ' packets claimed a declared device’s address from another MAC' +
			(r ? ' (' + rateText(r) + '/s now)' : '')));
	}
	// A device whose address is being claimed from another MAC comes first, flagged.
	const devs = (stats.devices || []).map(d => ({ ...d, rate: rateOf('dev:' + d.name, cur, now),
						       spoofRate: rateOf('devspoof:' + d.name, cur, now) }))
		.sort((a, b) => (b.spoofed > 0) - (a.spoofed > 0) || (b.rate || 0) - (a.rate || 0) || b.packets - a.packets);
	const rows = devs.slice(0, TOP_DEVICES).map(d => el('tr', { 'data-device': d.name, class: d.spoofed ? 'flagged' : null },
		el('th', { scope: 'row' }, d.name, d.spoofed ? el('span', { class: 'flag', 'data-k': 'flag:device:' + d.name,
			title: grouped(d.spoofed) + ' packets claimed its address from another MAC' },
			' ⚠ spoofed' + (d.spoofRate ? ' (' + rateText(d.spoofRate) + '/s now)' : '')) : null),
		rate('device:' + d.name + ':rate', d.rate),
		num('device:' + d.name + ':packets', d.packets),
		el('td', { class: 'num', 'data-k': 'device:' + d.name + ':bytes', 'data-v': String(d.bytes) }, bytesText(d.bytes)),
		el('td', { class: 'num opt', 'data-k': 'device:' + d.name + ':spoofed', 'data-v': String(d.spoofed || 0) },
			grouped(d.spoofed || 0))));
	table('device-table', ['device', 'packets/s', 'packets', 'bytes', '~spoofed'], rows, 'the policy in force declares no device');
	if (devs.length > TOP_DEVICES)
		$('device-table').append(el('caption', null, 'top ' + TOP_DEVICES + ' of ' + devs.length + ' by packets/s'));
}

function drawOverlay(stats, cur, now) {
	const ov = stats.overlay || {};
	const nodes = ov.nodes || [];
	$('overlay-note').textContent = ov.generation
		? 'self ' + ov.self + (ov.underlay ? ' on ' + ov.underlay.interface + ' (' + ov.underlay.address + ', MTU ' + ov.underlay.mtu + ')' : '') +
		  ', nodes generation ' + ov.generation + (ov.loaded_at ? ', loaded ' + ov.loaded_at : '')
		: 'no nodes file loaded: the overlay is off';
	const rows = nodes.map(n => {
		const tx = rateOf('node:' + n.name + ':tx', cur, now), rx = rateOf('node:' + n.name + ':rx', cur, now);
		let st = n.self ? 'self' : (tx || rx) ? 'active' : 'idle';
		if (n.state) st = n.state;	// richer state, when the daemon gives one
		// Where the node comes from (a nodes file, the cluster's store) and since when.
		const src = n.source ? ' · ' + n.source + (n.age_seconds != null ? ' ' + n.age_seconds + ' s' : '') : '';
		return el('tr', { 'data-node': n.name },
			el('th', { scope: 'row' }, n.name),
			el('td', { class: 'opt' }, n.underlay || ''),
			el('td', { class: 'state ' + st }, st + src + (n.mac_source && !n.self ? ' · mac ' + n.mac_source : '')),
			rate('node:' + n.name + ':tx:rate', tx),
			rate('node:' + n.name + ':rx:rate', rx),
			el('td', { class: 'num opt', 'data-k': 'node:' + n.name + ':tx_packets', 'data-v': String(n.tx_packets) }, grouped(n.tx_packets)),
			el('td', { class: 'num opt', 'data-k': 'node:' + n.name + ':rx_packets', 'data-v': String(n.rx_packets) }, grouped(n.rx_packets)));
	});
	table('node-table', ['node', '~underlay', 'state', 'tx/s', 'rx/s', '~tx packets', '~rx packets'], rows,
	      ov.generation ? 'no nodes' : null);
	$('node-table').hidden = !ov.generation;
}

function drawCluster(cl) {
	const sec = $('cluster');
	if (!cl) { sec.hidden = true; return; }
	sec.hidden = false;
	const bits = [];
	if ('up' in cl) bits.push(cl.up ? 'etcd reachable' : 'etcd UNREACHABLE: the last node table stays in force');
	if (cl.name) bits.push('this node ' + cl.name);
	if (cl.revision !== undefined) bits.push('revision ' + cl.revision);
	if (cl.last_sync_age_seconds != null) bits.push('synced ' + cl.last_sync_age_seconds + ' s ago');
	if (cl.lease) bits.push('lease ' + cl.lease.ttl + ' s, renewed ' + cl.lease.renewed_age_seconds + ' s ago');
	if (cl.records !== undefined) bits.push(cl.records + ' records' + (cl.records_rejected ? ', ' + cl.records_rejected + ' rejected' : ''));
	const note = $('cluster-note');
	note.textContent = bits.join(' · ') || 'the cluster member has not reported yet';
	note.className = 'note' + ('up' in cl && !cl.up ? ' alert' : '');
	const eps = cl.endpoints || [];
	table('cluster-table', ['endpoint', 'health'],
	      eps.map(e => el('tr', null, el('th', { scope: 'row' }, e.url + (e.current ? ' (in use)' : '')),
			      el('td', { class: 'state ' + (e.healthy ? 'active' : 'down') }, e.healthy ? 'healthy' : (e.error || 'unhealthy')))),
	      'no endpoints');
}

function drawSampling(stats, flows, cur, now) {
	const s = stats.samples || { taken: 0, lost: 0 };
	const dl = $('sampling-list');
	const item = (label, k, v, r, cls) => [el('dt', null, label),
		el('dd', { class: cls || null }, el('span', { class: 'num', 'data-k': k, 'data-v': String(v) }, grouped(v)),
		   r === undefined ? null : el('span', { class: 'rate' }, ' (' + rateText(r) + '/s)'))];
	dl.replaceChildren(
		...item('samples taken', 'samples:taken', s.taken, rateOf('samples:taken', cur, now)),
		...item('samples lost', 'samples:lost', s.lost, rateOf('samples:lost', cur, now), s.lost ? 'alert' : null),
		...item('active flows', 'flows:active', stats.flows_active || 0, undefined),
		el('dt', null, 'flow table'), el('dd', null, stats.flows_enabled ? 'on' : 'off (fringe flows --enable)'));
	const list = (flows && flows.flows) || [];
	$('flows-note').textContent = flows && !flows.enabled ? 'the flow table is off: “fringe flows --enable” turns it on' : '';
	const ep = (a, p) => p === null || p === undefined ? a : (a.includes(':') ? '[' + a + ']:' + p : a + ':' + p);
	table('flow-table', ['~interface', 'proto', 'source', 'destination', 'packets', '~bytes', '~verdict', '~rule'],
	      list.slice(0, TOP_FLOWS).map(f => el('tr', null,
		      el('td', { class: 'opt' }, f.ifname), el('td', null, f.proto + (f.app ? ' · ' + f.app : '')),
		      el('td', { class: 'addr' }, ep(f.src, f.sport)), el('td', { class: 'addr' }, ep(f.dst, f.dport)),
		      el('td', { class: 'num' }, grouped(f.packets)), el('td', { class: 'num opt' }, bytesText(f.bytes)),
		      el('td', { class: 'opt verdict ' + f.verdict }, f.verdict), el('td', { class: 'opt' }, f.rule || '?'))),
	      flows && flows.enabled ? 'no flows' : null);
	$('flow-table').hidden = !(flows && flows.enabled);
}

// ---- the loop ----------------------------------------------------------------

function setStatus(text, cls) {
	const s = $('status');
	s.textContent = text;
	s.className = 'status ' + cls;
}

async function refresh() {
	const ep = state.endpoints;
	const want = ['stats', 'policy', 'flows', 'cluster'].filter(k => ep[k]);
	const docs = await Promise.all(want.map(k => getJSON(ep[k] + (k === 'flows' ? '?top=' + TOP_FLOWS : ''))));
	const d = Object.fromEntries(want.map((k, i) => [k, docs[i]]));
	const now = performance.now();
	const cur = counters(d.stats, d.policy, d.flows);
	drawSummary(d.stats, d.policy);
	const tot = drawInterfaces(d.stats, cur, now);
	if (tot) {
		state.history.push(tot);
		if (state.history.length > HISTORY) state.history.shift();
	}
	drawChart();
	drawDrops(d.stats, cur, now);
	drawRules(d.policy, cur, now);
	drawApps(d.stats, cur, now);
	drawDevices(d.stats, cur, now);
	drawOverlay(d.stats, cur, now);
	drawCluster(d.cluster);
	drawSampling(d.stats, d.flows, cur, now);
	state.prev = { t: now, c: cur };
	state.updates++;
	document.body.dataset.updates = String(state.updates);
	setStatus('live · updated ' + new Date().toLocaleTimeString() + ' · every ' + REFRESH_MS / 1000 + ' s', 'ok');
}

async function tick() {
	try {
		if (!state.endpoints) state.endpoints = (await getJSON('/api/v1/')).endpoints;
		await refresh();
		state.failures = 0;
	} catch (e) {
		state.failures++;
		setStatus('cannot reach the daemon (' + e.message + '); retrying', 'bad');
	}
	setTimeout(tick, REFRESH_MS);
}

tick();
