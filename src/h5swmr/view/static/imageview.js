// The frame on a canvas: colour mapping in the browser, zoom (wheel), pan (drag), cursor
// read-out and a rectangle ROI. The server sends float32 blocks already binned to the canvas size;
// this view asks for a new region whenever zoom or pan changes what is on screen.
import { NAN_RGB } from './colormaps.js';
import * as plot from './plot.js';

const MAX_SIDE = 4096;

export class ImageView {
  constructor(canvas, { onRegion, onCursor, onRoi }) {
    this.canvas = canvas;
    this.onRegion = onRegion;
    this.onCursor = onCursor;
    this.onRoi = onRoi;
    this.block = null;
    this.view = null; // null: fit the whole plane; else {scale, cx, cy} in data pixels
    this.colour = { lut: null, lo: 0, hi: 1, log: false };
    this.off = document.createElement('canvas');
    this.roiMode = false;
    this.roi = null; // [y0, y1, x0, x1] in data pixels
    this._drag = null;
    this._regionTimer = 0;
    this._lastRequest = '';
    this._bind();
    new ResizeObserver(() => { this.draw(); this._requestSoon(); }).observe(canvas);
  }

  get dpr() { return window.devicePixelRatio || 1; }

  /** A new block from the server: {data, dims, region, step, shape, kind}. */
  setBlock(block) {
    this.block = block;
    if (block.kind === 'image') this._colourize();
    this.draw();
  }

  setColour(colour) {
    this.colour = colour;
    if (this.block && this.block.kind === 'image') this._colourize();
    this.draw();
  }

  fit() { this.view = null; this.draw(); this._requestSoon(); }

  /** Plane shape [rows, cols] of the shown frame (for the region arithmetic). */
  planeShape() {
    const b = this.block;
    if (!b) return null;
    return b.kind === 'image' ? b.shape.slice(-2) : [1, b.shape[b.shape.length - 1] || 1];
  }

  transform() {
    const shape = this.planeShape();
    const w = this.canvas.clientWidth, h = this.canvas.clientHeight;
    if (!shape) return { scale: 1, cx: 0, cy: 0, w, h };
    const [rows, cols] = shape;
    const fitScale = Math.min(w / cols, h / rows);
    if (this.view === null) return { scale: fitScale, cx: cols / 2, cy: rows / 2, w, h, fitScale };
    return { ...this.view, w, h, fitScale };
  }

  toData(px, py) {
    const t = this.transform();
    return [t.cx + (px - t.w / 2) / t.scale, t.cy + (py - t.h / 2) / t.scale];
  }

  toScreen(x, y) {
    const t = this.transform();
    return [t.w / 2 + (x - t.cx) * t.scale, t.h / 2 + (y - t.cy) * t.scale];
  }

  /** What to ask the server for: the visible region (null: whole plane) and its screen size. */
  request() {
    const shape = this.planeShape();
    const dpr = this.dpr;
    const w = Math.max(1, Math.round(this.canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(this.canvas.clientHeight * dpr));
    if (!shape || !this.block || this.block.kind !== 'image') {
      return { region: null, size: [Math.min(h, MAX_SIDE), Math.min(w, MAX_SIDE)] };
    }
    const [rows, cols] = shape;
    const t = this.transform();
    const [x0, y0] = this.toData(0, 0);
    const [x1, y1] = this.toData(t.w, t.h);
    const r = [Math.max(0, Math.floor(y0)), Math.min(rows, Math.ceil(y1)),
      Math.max(0, Math.floor(x0)), Math.min(cols, Math.ceil(x1))];
    if (r[1] <= r[0] || r[3] <= r[2]) return { region: null, size: [1, 1] };
    const whole = r[0] === 0 && r[2] === 0 && r[1] === rows && r[3] === cols;
    const size = [Math.ceil((r[1] - r[0]) * t.scale * dpr), Math.ceil((r[3] - r[2]) * t.scale * dpr)]
      .map((s) => Math.min(Math.max(s, 1), MAX_SIDE));
    return { region: whole ? null : r, size };
  }

  _colourize() {
    const b = this.block;
    const [rows, cols] = b.dims;
    const { lut, lo, hi, log } = this.colour;
    if (!lut) return;
    if (this.off.width !== cols || this.off.height !== rows) { this.off.width = cols; this.off.height = rows; }
    const ctx = this.off.getContext('2d');
    const img = ctx.createImageData(cols, rows);
    const out = img.data;
    const data = b.data;
    const l0 = log ? Math.log10(lo > 0 ? lo : 1e-12) : lo;
    const l1 = log ? Math.log10(hi > 0 ? hi : 1e-12) : hi;
    const k = l1 > l0 ? 255 / (l1 - l0) : 0;
    for (let i = 0, j = 0; i < data.length; i++, j += 4) {
      let v = data[i];
      let c;
      if (Number.isNaN(v)) {
        out[j] = NAN_RGB[0]; out[j + 1] = NAN_RGB[1]; out[j + 2] = NAN_RGB[2]; out[j + 3] = 255;
        continue;
      }
      if (log) v = v > 0 ? Math.log10(v) : -Infinity;
      c = (v - l0) * k;
      c = c < 0 ? 0 : c > 255 ? 255 : c | 0;
      out[j] = lut[c * 3]; out[j + 1] = lut[c * 3 + 1]; out[j + 2] = lut[c * 3 + 2]; out[j + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }

  draw() {
    const canvas = this.canvas;
    const b = this.block;
    if (b && b.kind === 'line') {
      const xs = Array.from(b.data, (_, i) => b.region[2] + i * b.step + (b.step - 1) / 2);
      plot.lines(canvas, [{ xs, ys: Array.from(b.data), color: '#4ea1ff' }]);
      return;
    }
    const [ctx, w, h] = plot.setup(canvas);
    ctx.fillStyle = '#0c0d10';
    ctx.fillRect(0, 0, w, h);
    if (!b) return;
    const [sx, sy] = this.toScreen(b.region[2], b.region[0]);
    const scale = this.transform().scale;
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.off, 0, 0, b.dims[1], b.dims[0], sx, sy,
      (b.region[3] - b.region[2]) * scale, (b.region[1] - b.region[0]) * scale);
    const rect = this._drag && this._drag.roi ? this._drag.rect : this.roi;
    if (rect) {
      const [ax, ay] = this.toScreen(rect[2], rect[0]);
      const [bx, by] = this.toScreen(rect[3], rect[1]);
      ctx.strokeStyle = '#ff4d4d'; ctx.lineWidth = 1.5; ctx.setLineDash([5, 3]);
      ctx.strokeRect(ax, ay, bx - ax, by - ay); ctx.setLineDash([]);
    }
  }

  _requestSoon() {
    clearTimeout(this._regionTimer);
    this._regionTimer = setTimeout(() => {
      const req = this.request();
      const key = JSON.stringify(req);
      if (key !== this._lastRequest) { this._lastRequest = key; this.onRegion(req); }
    }, 80);
  }

  _bind() {
    const c = this.canvas;
    c.addEventListener('wheel', (e) => {
      if (!this.block || this.block.kind !== 'image') return;
      e.preventDefault();
      const t = this.transform();
      const [dx, dy] = this.toData(e.offsetX, e.offsetY);
      const scale = Math.min(Math.max(t.scale * Math.exp(-e.deltaY * 0.0015), t.fitScale / 4), 64);
      this.view = { scale, cx: dx - (e.offsetX - t.w / 2) / scale, cy: dy - (e.offsetY - t.h / 2) / scale };
      this.draw(); this._requestSoon();
    }, { passive: false });
    c.addEventListener('mousedown', (e) => {
      if (!this.block || this.block.kind !== 'image') return;
      const start = this.toData(e.offsetX, e.offsetY);
      this._drag = { x: e.offsetX, y: e.offsetY, roi: this.roiMode, start, rect: null };
    });
    window.addEventListener('mouseup', () => {
      const d = this._drag;
      this._drag = null;
      if (d && d.roi && d.rect) { this.roi = d.rect; this.onRoi(d.rect); }
      this.draw();
    });
    c.addEventListener('mousemove', (e) => {
      const d = this._drag;
      if (d && d.roi) {
        const [x, y] = this.toData(e.offsetX, e.offsetY);
        const [rows, cols] = this.planeShape();
        const clamp = (v, n) => Math.min(Math.max(v, 0), n);
        const ys = [clamp(Math.floor(Math.min(y, d.start[1])), rows), clamp(Math.ceil(Math.max(y, d.start[1])), rows)];
        const xs = [clamp(Math.floor(Math.min(x, d.start[0])), cols), clamp(Math.ceil(Math.max(x, d.start[0])), cols)];
        if (ys[1] > ys[0] && xs[1] > xs[0]) d.rect = [ys[0], ys[1], xs[0], xs[1]];
        this.draw();
      } else if (d && (e.buttons & 1)) {
        const t = this.transform();
        this.view = { scale: t.scale, cx: t.cx - (e.offsetX - d.x) / t.scale, cy: t.cy - (e.offsetY - d.y) / t.scale };
        d.x = e.offsetX; d.y = e.offsetY;
        this.draw(); this._requestSoon();
      }
      this.onCursor(this.readout(e.offsetX, e.offsetY));
    });
    c.addEventListener('mouseleave', () => this.onCursor(''));
  }

  /** "x 12, y 34: 1234" for the pixel under the cursor (binned blocks say so). */
  readout(px, py) {
    const b = this.block;
    if (!b) return '';
    if (b.kind === 'line') return '';
    const [x, y] = this.toData(px, py).map(Math.floor);
    const [rows, cols] = this.planeShape();
    if (x < 0 || y < 0 || x >= cols || y >= rows) return '';
    const i = Math.floor((y - b.region[0]) / b.step), j = Math.floor((x - b.region[2]) / b.step);
    if (i < 0 || j < 0 || i >= b.dims[0] || j >= b.dims[1]) return `x ${x}, y ${y}`;
    const v = b.data[i * b.dims[1] + j];
    const binned = b.step > 1 ? ` (mean of ${b.step}×${b.step})` : '';
    return `x ${x}, y ${y}: ${plot.fmt(v)}${binned}`;
  }

  /** RGBA on the canvas at the centre of data pixel (x, y): for tests and the benchmark. */
  pixelAt(x, y) {
    const [sx, sy] = this.toScreen(x + 0.5, y + 0.5);
    const dpr = this.dpr;
    const d = this.canvas.getContext('2d').getImageData(Math.floor(sx * dpr), Math.floor(sy * dpr), 1, 1).data;
    return [d[0], d[1], d[2], d[3]];
  }
}
