import type { Storage } from "../ndarray.js";

/**
 * The geometry of a 2-D window sliding over an NHWC image: batch n, input h×w with c channels,
 * a kh×kw window moved by (sh, sw), dilated by (dh, dw), with pt/pl zero rows/columns padded
 * above/left, giving an oh×ow output.
 */
export interface Window2D {
  n: number; h: number; w: number; c: number;
  kh: number; kw: number;
  sh: number; sw: number;
  dh: number; dw: number;
  pt: number; pl: number;
  oh: number; ow: number;
}

/**
 * im2col: cols[(b·oh + y)·ow + x, (i·kw + j)·c + ch] = image[b, y·sh − pt + i·dh, x·sw − pl + j·dw, ch]
 * (0 where the window hangs over the padding). A convolution is then one matmul with the filter
 * reshaped to [kh·kw·c, cout]. The inner loop copies c contiguous channels.
 */
export function im2colInto(cols: Storage, image: Storage, g: Window2D): void {
  const { n, h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow } = g;
  const rowLen = kh * kw * c;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        const row = ((b * oh + y) * ow + x) * rowLen;
        for (let i = 0; i < kh; i++) {
          const iy = y * sh - pt + i * dh;
          for (let j = 0; j < kw; j++) {
            const ix = x * sw - pl + j * dw;
            const dst = row + (i * kw + j) * c;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
              cols.fill(0, dst, dst + c);
              continue;
            }
            const src = ((b * h + iy) * w + ix) * c;
            for (let ch = 0; ch < c; ch++) cols[dst + ch] = image[src + ch]!;
          }
        }
      }
    }
  }
}

/** col2im, the adjoint of im2col: adds every column entry back onto the pixel it came from. */
export function col2imInto(image: Storage, cols: Storage, g: Window2D): void {
  const { n, h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow } = g;
  const rowLen = kh * kw * c;
  image.fill(0);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        const row = ((b * oh + y) * ow + x) * rowLen;
        for (let i = 0; i < kh; i++) {
          const iy = y * sh - pt + i * dh;
          if (iy < 0 || iy >= h) continue;
          for (let j = 0; j < kw; j++) {
            const ix = x * sw - pl + j * dw;
            if (ix < 0 || ix >= w) continue;
            const src = row + (i * kw + j) * c;
            const dst = ((b * h + iy) * w + ix) * c;
            for (let ch = 0; ch < c; ch++) image[dst + ch]! += cols[src + ch]!;
          }
        }
      }
    }
  }
}

/**
 * Max pooling. Padding never wins (it counts as −∞, as in TensorFlow). `argmax` receives, for each
 * output, the flat index of the input element chosen, so the gradient is a scatter-add.
 */
export function maxPoolInto(out: Storage, argmax: Int32Array, image: Storage, g: Window2D): void {
  const { n, h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow } = g;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        const o = ((b * oh + y) * ow + x) * c;
        for (let ch = 0; ch < c; ch++) { out[o + ch] = -Infinity; argmax[o + ch] = -1; }
        for (let i = 0; i < kh; i++) {
          const iy = y * sh - pt + i * dh;
          if (iy < 0 || iy >= h) continue;
          for (let j = 0; j < kw; j++) {
            const ix = x * sw - pl + j * dw;
            if (ix < 0 || ix >= w) continue;
            const src = ((b * h + iy) * w + ix) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = image[src + ch]!;
              if (v > out[o + ch]! || argmax[o + ch] === -1 || v !== v) { out[o + ch] = v; argmax[o + ch] = src + ch; }
            }
          }
        }
      }
    }
  }
}

/** Scatter-adds each output gradient onto the input element its max came from. */
export function maxPoolAdjointInto(dImage: Storage, dOut: Storage, argmax: Int32Array): void {
  dImage.fill(0);
  for (let i = 0, n = dOut.length; i < n; i++) if (argmax[i]! >= 0) dImage[argmax[i]!]! += dOut[i]!;
}

/** Average pooling; the divisor counts only the window positions inside the image (TensorFlow's 'same'). */
export function avgPoolInto(out: Storage, image: Storage, g: Window2D): void {
  windowSum(out, image, g, false);
}

/** The adjoint of avgPoolInto: each output gradient is shared equally by the pixels it averaged. */
export function avgPoolAdjointInto(dImage: Storage, dOut: Storage, g: Window2D): void {
  windowSum(dImage, dOut, g, true);
}

function windowSum(outOrImage: Storage, imageOrOut: Storage, g: Window2D, adjoint: boolean): void {
  const { n, h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow } = g;
  if (adjoint) outOrImage.fill(0);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        const o = ((b * oh + y) * ow + x) * c;
        let count = 0;
        for (let i = 0; i < kh; i++) {
          const iy = y * sh - pt + i * dh;
          if (iy >= 0 && iy < h) for (let j = 0; j < kw; j++) { const ix = x * sw - pl + j * dw; if (ix >= 0 && ix < w) count++; }
        }
        const scale = count > 0 ? 1 / count : 0;
        if (!adjoint) outOrImage.fill(0, o, o + c);
        for (let i = 0; i < kh; i++) {
          const iy = y * sh - pt + i * dh;
          if (iy < 0 || iy >= h) continue;
          for (let j = 0; j < kw; j++) {
            const ix = x * sw - pl + j * dw;
            if (ix < 0 || ix >= w) continue;
            const px = ((b * h + iy) * w + ix) * c;
            if (adjoint) for (let ch = 0; ch < c; ch++) outOrImage[px + ch]! += imageOrOut[o + ch]! * scale;
            else for (let ch = 0; ch < c; ch++) outOrImage[o + ch]! += imageOrOut[px + ch]! * scale;
          }
        }
      }
    }
  }
}
