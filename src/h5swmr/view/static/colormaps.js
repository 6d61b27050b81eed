// Perceptual colour maps as 256-entry lookup tables (RGB bytes), interpolated between anchors
// sampled at 0, 1/8, ..., 1 of matplotlib's maps (viridis, magma, inferno, cividis; CC0).
const ANCHORS = {
  viridis: [[68, 1, 84], [72, 40, 120], [62, 73, 137], [49, 104, 142], [38, 130, 142],
    [31, 158, 137], [53, 183, 121], [110, 206, 88], [253, 231, 37]],
  magma: [[0, 0, 4], [28, 16, 68], [79, 18, 123], [129, 37, 129], [181, 54, 122],
    [229, 80, 100], [251, 135, 97], [254, 194, 135], [252, 253, 191]],
  inferno: [[0, 0, 4], [31, 12, 72], [85, 15, 109], [136, 34, 106], [186, 54, 85],
    [227, 89, 51], [249, 140, 10], [249, 201, 50], [252, 255, 164]],
  cividis: [[0, 34, 78], [18, 53, 112], [59, 73, 108], [87, 93, 109], [114, 113, 115],
    [143, 135, 120], [173, 157, 115], [206, 181, 101], [254, 232, 56]],
  gray: [[0, 0, 0], [255, 255, 255]],
};

export const NAMES = Object.keys(ANCHORS);
export const NAN_RGB = [255, 0, 255];

const cache = new Map();

/** The lookup table of a map: Uint8Array of 256 * 3 bytes. */
export function lut(name) {
  if (cache.has(name)) return cache.get(name);
  const anchors = ANCHORS[name] || ANCHORS.viridis;
  const table = new Uint8Array(256 * 3);
  const spans = anchors.length - 1;
  for (let i = 0; i < 256; i++) {
    const at = (i / 255) * spans;
    const k = Math.min(Math.floor(at), spans - 1);
    const f = at - k;
    for (let c = 0; c < 3; c++) {
      table[i * 3 + c] = Math.round(anchors[k][c] * (1 - f) + anchors[k + 1][c] * f);
    }
  }
  cache.set(name, table);
  return table;
}
