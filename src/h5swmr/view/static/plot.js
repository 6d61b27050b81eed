// Small canvas plots (lines and bars) with numbered axes: no plotting library, no build step.

const AXIS = '#8b93a3';
const GRID = '#262a33';

/** Prepare a canvas for drawing at the device's pixel ratio; returns [ctx, width, height]. */
export function setup(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
  const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, canvas.clientWidth, canvas.clientHeight);
  return [ctx, canvas.clientWidth, canvas.clientHeight];
}

/** About ``n`` round tick values between lo and hi. */
export function ticks(lo, hi, n = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return out;
}

/** A number in at most ~6 characters. */
export function fmt(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1).replace('e+', 'e');
  if (Number.isInteger(v)) return String(v);
  return v.toPrecision(4).replace(/\.?0+$/, '');
}

function extent(values, fallback) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) if (v !== null && Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (lo === Infinity) return fallback;
  if (lo === hi) { const d = Math.abs(lo) * 0.1 || 1; return [lo - d, hi + d]; }
  return [lo, hi];
}

/** Lines: series = [{xs, ys, color}]; options: xlabel(v) for tick text, ymin (e.g. 0), empty text. */
export function lines(canvas, series, options = {}) {
  const [ctx, w, h] = setup(canvas);
  const left = 44, right = 8, top = 8, bottom = 18;
  const xs = series.flatMap((s) => s.xs);
  const ys = series.flatMap((s) => s.ys);
  if (!xs.length) {
    ctx.fillStyle = AXIS; ctx.font = '11px system-ui';
    ctx.fillText(options.empty || 'no data yet', left, h / 2);
    return;
  }
  const [x0, x1] = options.xrange || extent(xs, [0, 1]);
  let [y0, y1] = extent(ys, [0, 1]);
  if (options.ymin !== undefined) {
    // rates start at 0: the axis runs from ymin unless a value lies below it
    const finite = ys.filter((y) => y !== null && Number.isFinite(y));
    if (finite.every((y) => y >= options.ymin)) { y0 = options.ymin; y1 = Math.max(y1, ...finite, y0 + 1e-9); }
  }
  if (y1 <= y0) y1 = y0 + 1;
  const px = (x) => left + ((x - x0) / (x1 - x0 || 1)) * (w - left - right);
  const py = (y) => h - bottom - ((y - y0) / (y1 - y0 || 1)) * (h - top - bottom);
  axes(ctx, w, h, left, right, top, bottom, x0, x1, y0, y1, px, py, options.xlabel || fmt);
  for (const s of series) {
    ctx.strokeStyle = s.color || '#4ea1ff';
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < s.xs.length; i++) {
      const y = s.ys[i];
      if (y === null || !Number.isFinite(y)) { pen = false; continue; }
      if (pen) ctx.lineTo(px(s.xs[i]), py(y)); else ctx.moveTo(px(s.xs[i]), py(y));
      pen = true;
    }
    ctx.stroke();
    if (s.xs.length < 60) {
      ctx.fillStyle = s.color || '#4ea1ff';
      for (let i = 0; i < s.xs.length; i++) {
        if (s.ys[i] !== null && Number.isFinite(s.ys[i])) ctx.fillRect(px(s.xs[i]) - 1.5, py(s.ys[i]) - 1.5, 3, 3);
      }
    }
  }
}

/** Bars of a histogram: counts over [lo, hi]; marks at the colour limits; log counts. */
export function bars(canvas, counts, lo, hi, marks, xlabel) {
  const [ctx, w, h] = setup(canvas);
  const left = 44, right = 8, top = 8, bottom = 18;
  if (!counts.length || !(hi > lo)) {
    ctx.fillStyle = AXIS; ctx.font = '11px system-ui'; ctx.fillText('no data yet', left, h / 2);
    return;
  }
  const logs = counts.map((c) => Math.log10(1 + c));
  const top1 = Math.max(...logs) || 1;
  const px = (x) => left + ((x - lo) / (hi - lo)) * (w - left - right);
  const py = (v) => h - bottom - (v / top1) * (h - top - bottom);
  // counts on a log scale: ticks at 0, 1, 10, 100, ... (bars are log10(1 + count) high)
  const decades = [0];
  for (let c = 1; Math.log10(1 + c) <= top1 * 1.0001; c *= 10) decades.push(Math.log10(1 + c));
  axes(ctx, w, h, left, right, top, bottom, lo, hi, 0, top1, px, py, xlabel || fmt,
    (v) => fmt(Math.round(10 ** v - 1)), decades.length > 5 ? decades.filter((_, i) => i % 2 === 0) : decades);
  ctx.fillStyle = '#4ea1ff';
  const bw = (w - left - right) / counts.length;
  logs.forEach((v, i) => { const y = py(v); ctx.fillRect(left + i * bw, y, Math.max(bw - 1, 1), h - bottom - y); });
  ctx.strokeStyle = '#d9a441';
  for (const m of marks) {
    if (!(m >= lo && m <= hi)) continue;
    ctx.beginPath(); ctx.moveTo(px(m), top); ctx.lineTo(px(m), h - bottom); ctx.stroke();
  }
}

function axes(ctx, w, h, left, right, top, bottom, x0, x1, y0, y1, px, py, xlabel, ylabel = fmt, yticks = null) {
  ctx.font = '10px system-ui';
  ctx.lineWidth = 1;
  ctx.fillStyle = AXIS;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const t of yticks || ticks(y0, y1, 4)) {
    ctx.strokeStyle = GRID;
    ctx.beginPath(); ctx.moveTo(left, py(t)); ctx.lineTo(w - right, py(t)); ctx.stroke();
    ctx.fillText(ylabel(t), left - 4, py(t));
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  const xt = ticks(x0, x1, Math.max(2, Math.floor((w - left) / 70)));
  for (const t of xt) {
    // a label stays right of the y axis' numbers and inside the canvas
    const text = xlabel(t), half = ctx.measureText(text).width / 2;
    ctx.fillText(text, Math.min(Math.max(px(t), left + half), w - 1 - half), h - bottom + 3);
  }
  ctx.strokeStyle = AXIS;
  ctx.beginPath(); ctx.moveTo(left, top); ctx.lineTo(left, h - bottom); ctx.lineTo(w - right, h - bottom); ctx.stroke();
}
