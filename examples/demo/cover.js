'use strict';
// A post's cover thumbnail: a generated RGB picture (seeded by the title, so a post always gets
// the same one), box-filtered down to a thumbnail and deflated. Pixel loops in JavaScript: the
// other half of the demo's CPU-heavy handler.
const zlib = require('node:zlib');

function seedOf(text) {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

function picture(seed, size) {
  const px = Buffer.alloc(size * size * 3);
  let h = seed;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      h = (Math.imul(h, 1103515245) + 12345) >>> 0;
      const i = (y * size + x) * 3;
      px[i] = ((x * 255) / size + (h >>> 27)) | 0;
      px[i + 1] = ((y * 255) / size) | 0;
      px[i + 2] = ((x ^ y) + (seed & 255) + (h >>> 29)) & 255;
    }
  }
  return px;
}

function downscale(px, size, out) {
  const f = size / out;
  const o = Buffer.alloc(out * out * 3);
  for (let y = 0; y < out; y++) {
    for (let x = 0; x < out; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) s += px[((y * f + dy) * size + x * f + dx) * 3 + c];
        o[(y * out + x) * 3 + c] = s / (f * f);
      }
    }
  }
  return o;
}

/** `{ width, height, data }`: a deflated RGB thumbnail of the cover generated for `title`, base64. */
function coverThumbnail(title, size = 384, out = 48) {
  const thumb = downscale(picture(seedOf(title), size), size, out);
  return { width: out, height: out, data: zlib.deflateSync(thumb).toString('base64') };
}

module.exports = { coverThumbnail };
