// h5swmr view: the page. One WebSocket brings trees, status, frames and ROI points; the page
// asks for what it shows (dataset, frame, region, size) and colour-maps frames itself.
import { NAMES, lut } from './colormaps.js';
import { ImageView } from './imageview.js';
import * as plot from './plot.js';
import { renderDetails, renderTree, updateRow } from './tree.js';

const $ = (id) => document.getElementById(id);
const S = {
  files: [], file: 0, trees: {}, defaults: {}, selected: {}, statuses: {},
  following: true, frame: null, region: null, size: [512, 512], slice: [],
  header: null, count: 0, roi: null, roiPoints: [], ws: null, connected: false,
  renders: [], retry: 0, limits: [0, 1], ratesDrawn: null,
};

const view = new ImageView($('image'), {
  onRegion: (req) => { S.region = req.region; S.size = req.size; sendView(); },
  onCursor: (text) => { $('cursor').textContent = text || '\u00a0'; },
  onRoi: (rect) => { S.roi = rect; S.roiPoints = []; send({ op: 'roi', rect }); drawRoi(); },
});

// -- connection -------------------------------------------------------------------------------

function connect() {
  const token = new URLSearchParams(location.search).get('token');
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${scheme}://${location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`);
  ws.binaryType = 'arraybuffer';
  S.ws = ws;
  ws.onopen = () => {
    S.connected = true; S.retry = 0;
    badge($('connection'), 'ok', 'connected');
    $('stage').classList.remove('offline');
  };
  ws.onmessage = (e) => (typeof e.data === 'string' ? onText(JSON.parse(e.data)) : onFrame(e.data));
  ws.onclose = () => {
    S.connected = false;
    if (S.ws !== ws) return;
    badge($('connection'), 'bad', 'disconnected: retrying…');
    badge($('writer'), 'wait', 'writer: unknown');
    $('writer-detail').textContent = 'no news while the server is unreachable';
    $('writer-detail').className = 'detail';
    $('stage').classList.add('offline');
    const delay = Math.min(250 * 2 ** S.retry++, 2000);
    setTimeout(connect, delay);
  };
}

function send(message) {
  if (S.ws && S.ws.readyState === WebSocket.OPEN) S.ws.send(JSON.stringify(message));
}

function sendView() {
  const dataset = S.selected[S.file];
  if (!dataset) return;
  send({ op: 'view', file: S.file, dataset, frame: S.following ? null : S.frame,
    region: S.region, size: S.size, slice: S.slice });
}

function badge(el, cls, text) { el.className = `badge ${cls}`; el.textContent = text; }

// -- messages ---------------------------------------------------------------------------------

function onText(m) {
  if (m.type === 'hello') {
    S.files = m.files;
    const sel = $('file');
    sel.innerHTML = m.files.map((f) => `<option value="${f.index}">${f.name}</option>`).join('');
    sel.value = String(S.file);
    sendView();
    if (S.roi) send({ op: 'roi', rect: S.roi });
  } else if (m.type === 'tree') {
    S.trees[m.file] = m.nodes;
    S.defaults[m.file] = m.default;
    if (!S.selected[m.file] && m.default) {
      S.selected[m.file] = m.default;
      if (m.file === S.file) sendView();
    }
    if (m.file === S.file) showTree();
  } else if (m.type === 'status') {
    S.statuses[m.file] = m;
    if (m.file === S.file) showStatus(m);
  } else if (m.type === 'roi') {
    if (m.reset) S.roiPoints = [];
    S.roiPoints.push(...m.points);
    if (S.roiPoints.length > 5000) S.roiPoints.splice(0, S.roiPoints.length - 5000);
    drawRoi();
  } else if (m.type === 'error') {
    $('message').textContent = m.message;
  }
}

function onFrame(buffer) {
  // acknowledge once drawn (or dropped): the server sends the next frame only then, the newest
  // at that moment, so frames never queue up behind a busy page
  try { drawFrame(buffer); } finally { send({ op: 'ack' }); }
}

function drawFrame(buffer) {
  const length = new DataView(buffer).getUint32(0, true);
  const h = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, length)));
  if (h.file !== S.file || h.dataset !== S.selected[S.file]) return; // an answer to an old request
  const data = values(buffer, 4 + length, h);
  S.header = h;
  S.count = Math.max(S.count, h.count); // a frame looked back at carries the count of its time
  $('message').textContent = '';
  const block = { data, dims: h.kind === 'image' ? h.dims : [1, h.dims[0]], region: h.region,
    step: h.step, shape: h.kind === 'image' ? h.shape.slice(-2) : [h.region[3]], kind: h.kind };
  document.body.classList.toggle('line-mode', h.kind === 'line'); // no colours for a line plot
  S.limits = limits(data);
  view.colour = colour();
  view.setBlock(block);
  S.renders.push({ index: h.index, at: performance.timeOrigin + performance.now(), sent: h.sent,
    bytes: buffer.byteLength });
  if (S.renders.length > 5000) S.renders.splice(0, 1000);
  showFrameInfo(h);
  $('colorbar').style.visibility = h.kind === 'image' ? 'visible' : 'hidden';
  drawColorbar();
  drawHistogram(data);
}

/** The values of a frame message as float32: offset + q * scale for the integer encodings. */
function values(buffer, at, h) {
  const n = h.dims.reduce((a, b) => a * b, 1);
  if (h.encoding === '<f4') return new Float32Array(buffer, at, n);
  const q = h.encoding === '<u2' ? new Uint16Array(buffer, at, n) : new Uint8Array(buffer, at, n);
  const out = new Float32Array(n);
  const { offset, scale } = h;
  for (let i = 0; i < n; i++) out[i] = offset + q[i] * scale;
  return out;
}

// -- contrast and colours ---------------------------------------------------------------------

function colour() {
  return { lut: lut($('cmap').value), lo: S.limits[0], hi: S.limits[1], log: $('scale').value === 'log' };
}

function limits(data) {
  const mode = $('auto').value;
  const log = $('scale').value === 'log';
  if (mode === 'manual') {
    const lo = parseFloat($('lo').value), hi = parseFloat($('hi').value);
    return [Number.isFinite(lo) ? lo : 0, Number.isFinite(hi) ? hi : 1];
  }
  const p = parseFloat(mode) / 100;
  const stride = Math.max(1, Math.floor(data.length / 16384)); // enough for 0.1% quantiles
  const sample = [];
  for (let i = 0; i < data.length; i += stride) {
    const v = data[i];
    if (Number.isFinite(v) && (!log || v > 0)) sample.push(v);
  }
  if (!sample.length) return [log ? 1 : 0, log ? 10 : 1];
  const sorted = Float64Array.from(sample).sort();
  const q = (f) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(f * (sorted.length - 1))))];
  let lo = q(p), hi = q(1 - p);
  if (hi <= lo) { lo = sorted[0]; hi = sorted[sorted.length - 1]; }
  if (hi <= lo) hi = lo + (log ? lo : 1);
  // show the limits found, but never under the cursor of someone typing a limit
  if (document.activeElement !== $('lo')) $('lo').value = plot.fmt(lo);
  if (document.activeElement !== $('hi')) $('hi').value = plot.fmt(hi);
  return [lo, hi];
}

function recolour() {
  if (S.header && view.block) S.limits = limits(view.block.data);
  view.setColour(colour());
  drawColorbar();
  if (view.block) drawHistogram(view.block.data);
}

let colorbarKey = '';

function drawColorbar() {
  const canvas = $('colorbar');
  const key = [$('cmap').value, $('scale').value, ...S.limits, canvas.clientWidth, window.devicePixelRatio].join('|');
  if (key === colorbarKey) return; // unchanged: most frames under fixed limits
  colorbarKey = key;
  const [ctx, w, h] = plot.setup(canvas);
  const table = lut($('cmap').value);
  const barH = 12;
  const dpr = window.devicePixelRatio || 1;
  const strip = ctx.createImageData(Math.round(w * dpr), 1);
  for (let x = 0; x < strip.width; x++) {
    const c = Math.round((x / (strip.width - 1)) * 255) * 3;
    strip.data.set([table[c], table[c + 1], table[c + 2], 255], x * 4);
  }
  for (let y = 0; y < Math.round(barH * dpr); y++) ctx.putImageData(strip, 0, y);
  const [lo, hi] = S.limits;
  const log = $('scale').value === 'log' && lo > 0 && hi > 0;
  const a = log ? Math.log10(lo) : lo, b = log ? Math.log10(hi) : hi;
  ctx.fillStyle = '#dde1e8'; ctx.strokeStyle = '#dde1e8'; ctx.font = '10px system-ui'; ctx.textBaseline = 'top';
  const ticks = log ? plot.ticks(a, b, 4).filter((t) => Number.isInteger(t) || b - a < 2) : plot.ticks(a, b, 6);
  for (const t of ticks) {
    const x = ((t - a) / (b - a || 1)) * (w - 1);
    ctx.beginPath(); ctx.moveTo(x + 0.5, barH); ctx.lineTo(x + 0.5, barH + 4); ctx.stroke();
    ctx.textAlign = x < 15 ? 'left' : x > w - 15 ? 'right' : 'center';
    ctx.fillText(plot.fmt(log ? 10 ** t : t), x, barH + 5);
  }
}

function drawHistogram(data) {
  const log = $('scale').value === 'log';
  const stride = Math.max(1, Math.floor(data.length / 65536)); // a sample is enough to draw
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < data.length; i += stride) {
    let v = data[i];
    if (!Number.isFinite(v) || (log && v <= 0)) continue;
    if (log) v = Math.log10(v);
    if (v < lo) lo = v; if (v > hi) hi = v;
  }
  if (lo === Infinity) { plot.bars($('histogram'), [], 0, 1, []); return; }
  if (hi === lo) { hi = lo + 1; }
  const n = 64, counts = new Array(n).fill(0), k = n / (hi - lo);
  for (let i = 0; i < data.length; i += stride) {
    let v = data[i];
    if (!Number.isFinite(v) || (log && v <= 0)) continue;
    if (log) v = Math.log10(v);
    counts[Math.min(n - 1, Math.floor((v - lo) * k))] += stride;
  }
  const marks = S.limits.map((m) => (log ? Math.log10(m) : m));
  plot.bars($('histogram'), counts, lo, hi, marks, (v) => plot.fmt(log ? 10 ** v : v));
}

// -- tree, status, history --------------------------------------------------------------------

function showTree() {
  const nodes = S.trees[S.file] || [];
  renderTree($('tree'), nodes, S.selected[S.file], S.defaults[S.file], select);
  renderDetails($('details'), nodes.find((n) => n.path === S.selected[S.file]));
}

function select(path) {
  S.selected[S.file] = path;
  // limits typed for one dataset rarely suit another: a new dataset starts on automatic contrast
  if ($('auto').value === 'manual') $('auto').value = '0.1';
  S.following = true; S.frame = null; S.region = null; S.slice = []; S.count = 0;
  S.roi = null; S.roiPoints = []; view.roi = null; view.view = null;
  send({ op: 'roi', rect: null });
  $('follow').textContent = 'pause';
  showTree(); drawRoi(); sendView();
}

const STATES = { running: 'writer running', closed: 'file closed', gone: 'writer gone without closing', open: 'writer open (alive?)' };

function showStatus(m) {
  const w = m.writer;
  badge($('writer'), m.error ? 'bad' : w.state, m.error ? 'cannot read' : STATES[w.state] || w.state);
  const detail = $('writer-detail');
  // the recover hint as code the user can copy
  const text = m.error || w.detail;
  const parts = text.split('`');
  detail.textContent = '';
  parts.forEach((part, i) => {
    if (i % 2) { const code = document.createElement('code'); code.textContent = part; detail.append(code); }
    else detail.append(part);
  });
  detail.className = `detail ${w.state === 'gone' || m.error ? 'gone' : ''}`;
  // shapes of the datasets being watched change with every frame, the tree only each second
  const nodes = S.trees[m.file] || [];
  for (const node of nodes) {
    const shape = (m.shapes || {})[node.path];
    if (shape && JSON.stringify(shape) !== JSON.stringify(node.shape)) {
      node.shape = shape;
      updateRow($('tree'), node);
      if (node.path === S.selected[S.file]) renderDetails($('details'), node);
    }
  }
  const count = m.counts[S.selected[S.file]];
  if (count !== undefined) { S.count = count; $('slider').max = String(Math.max(count - 1, 0)); }
  const newest = m.rates && m.rates.length ? m.rates[m.rates.length - 1][0] : null;
  const drawn = `${m.file}|${S.selected[m.file]}|${newest}`;
  if (m.rates && drawn !== S.ratesDrawn) { // a new sample comes every 0.5 s, statuses more often
    S.ratesDrawn = drawn;
    const now = Date.now() / 1000;
    const rates = m.rates.filter((r) => r[0] - now >= -60);
    const xs = rates.map((r) => r[0] - now);
    const opts = { ymin: 0, xrange: [-60, 0], xlabel: (v) => `${plot.fmt(v)} s`, empty: 'no samples yet' };
    plot.lines($('fps'), [{ xs, ys: rates.map((r) => r[1]), color: '#4ea1ff' }], opts);
    plot.lines($('mbps'), [{ xs, ys: rates.map((r) => r[2]), color: '#2fa36b' }], opts);
  }
  if (!S.selected[S.file]) $('message').textContent = 'pick a dataset in the tree';
}

function showFrameInfo(h) {
  const slider = $('slider');
  slider.max = String(Math.max(S.count - 1, 0));
  // while following, both show the newest frame, unless the user is typing or dragging there
  const box = $('frame-box');
  if (S.following && document.activeElement !== slider) slider.value = String(h.index);
  if (S.following && document.activeElement !== box) box.value = String(h.index);
  $('frame-box').max = String(Math.max(S.count - 1, 0));
  let when = '';
  if (h.time) {
    const d = new Date(h.time * 1000);
    when = ` · seen ${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
  }
  const of = h.stacked ? `frame ${h.index} of ${S.count}` : 'whole dataset';
  const bin = h.step > 1 ? ` · binned ${h.step}×${h.step}` : '';
  $('frame-info').textContent = `${of}${when} · ${h.shape.join('×')} ${h.dtype}${bin}`;
  const extra = h.kind === 'image' ? h.shape.length - 2 : 0;
  const slices = $('slice');
  if (slices.childElementCount !== extra) {
    slices.textContent = '';
    for (let a = 0; a < extra; a++) {
      const input = document.createElement('input');
      input.type = 'number'; input.min = '0'; input.value = String(h.slice[a] || 0);
      input.title = `index along frame axis ${a}`;
      input.addEventListener('change', () => { S.slice[a] = parseInt(input.value, 10) || 0; sendView(); });
      const label = document.createElement('label');
      label.append(`axis ${a} `, input);
      slices.appendChild(label);
    }
  }
  [...slices.querySelectorAll('input')].forEach((input, a) => { input.max = String(h.shape[a] - 1); });
}

function drawRoi() {
  const k = parseInt($('roi-stat').value, 10);
  const pts = S.roiPoints;
  plot.lines($('roi-plot'), [{ xs: pts.map((p) => p[0]), ys: pts.map((p) => p[k]), color: '#ff4d4d' }],
    { empty: S.roi ? 'waiting for frames…' : 'press ROI, then drag on the image' });
}

function goTo(index) {
  S.following = false;
  S.frame = Math.max(0, Math.min(index, Math.max(S.count - 1, 0)));
  $('follow').textContent = 'follow';
  $('slider').value = String(S.frame); $('frame-box').value = String(S.frame);
  sendView();
}

// -- controls ---------------------------------------------------------------------------------

$('cmap').innerHTML = NAMES.map((n) => `<option>${n}</option>`).join('');
$('cmap').addEventListener('change', recolour);
$('scale').addEventListener('change', recolour);
let releasing = false;
$('auto').addEventListener('change', () => {
  // automatic limits are shown in the boxes: let go of a box still focused from typing in it
  // (its own change event on blur must not turn the limits manual again)
  if ($('auto').value !== 'manual') {
    releasing = true;
    try { $('lo').blur(); $('hi').blur(); } finally { releasing = false; }
  }
  recolour();
});
for (const id of ['lo', 'hi']) {
  // typing makes the limits manual at once, so a frame arriving meanwhile keeps what is typed
  $(id).addEventListener('input', () => { $('auto').value = 'manual'; });
  $(id).addEventListener('change', () => { if (!releasing) { $('auto').value = 'manual'; recolour(); } });
}
$('fit').addEventListener('click', () => view.fit());
$('roi-mode').addEventListener('click', () => {
  view.roiMode = !view.roiMode;
  $('roi-mode').classList.toggle('on', view.roiMode);
  $('image').classList.toggle('roi', view.roiMode);
});
$('roi-clear').addEventListener('click', () => {
  S.roi = null; S.roiPoints = []; view.roi = null; view.draw(); send({ op: 'roi', rect: null }); drawRoi();
});
$('roi-stat').addEventListener('change', drawRoi);
$('follow').addEventListener('click', () => {
  if (S.following) { goTo(S.header ? S.header.index : 0); return; }
  S.following = true; S.frame = null; $('follow').textContent = 'pause'; sendView();
});
let sliderTimer = 0;
$('slider').addEventListener('input', () => {
  const index = parseInt($('slider').value, 10);
  S.following = false; // at once, so a frame arriving meanwhile does not move the slider back
  clearTimeout(sliderTimer);
  sliderTimer = setTimeout(() => goTo(index), 30);
});
$('frame-box').addEventListener('change', () => goTo(parseInt($('frame-box').value, 10) || 0));
$('file').addEventListener('change', () => {
  S.file = parseInt($('file').value, 10); S.region = null; S.following = true; S.frame = null;
  S.count = 0;
  S.header = null; showTree(); const st = S.statuses[S.file]; if (st) showStatus(st); sendView();
});
window.addEventListener('resize', () => { drawColorbar(); drawRoi(); });

// what tests and the benchmark read
window.h5view = {
  get header() { return S.header; },
  get count() { return S.count; },
  get connected() { return S.connected; },
  get limits() { return S.limits.slice(); },
  get roiPoints() { return S.roiPoints.slice(); },
  renders: S.renders,
  pixelAt: (x, y) => view.pixelAt(x, y),
  lut: (name) => Array.from(lut(name)),
};

drawColorbar(); drawRoi();
plot.lines($('fps'), [], { empty: 'no samples yet' });
plot.lines($('mbps'), [], { empty: 'no samples yet' });
$('message').textContent = 'connecting…';
connect();
