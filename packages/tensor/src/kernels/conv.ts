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
        const x0 = x * sw - pl, inside = dw === 1 && x0 >= 0 && x0 + kw <= w; // the window's kw·c values of a row are adjacent
        for (let i = 0; i < kh; i++) {
          const iy = y * sh - pt + i * dh;
          if (inside && iy >= 0 && iy < h) {
            const dst = row + i * kw * c, src = ((b * h + iy) * w + x0) * c;
            for (let e = 0; e < kw * c; e++) cols[dst + e] = image[src + e]!;
            continue;
          }
          for (let j = 0; j < kw; j++) {
            const ix = x0 + j * dw;
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
      const i0 = firstInside(y, sh, pt, dh), i1 = endInside(y, sh, pt, dh, kh, h);
      for (let x = 0; x < ow; x++) {
        const j0 = firstInside(x, sw, pl, dw), j1 = endInside(x, sw, pl, dw, kw, w);
        const row = ((b * oh + y) * ow + x) * rowLen;
        for (let i = i0; i < i1; i++) {
          for (let j = j0; j < j1; j++) {
            const src = row + (i * kw + j) * c;
            const dst = ((b * h + y * sh - pt + i * dh) * w + x * sw - pl + j * dw) * c;
            for (let ch = 0; ch < c; ch++) image[dst + ch]! += cols[src + ch]!;
          }
        }
      }
    }
  }
}

/**
 * The taps of a window that fall inside the image, along one axis: output position y reads
 * input rows y·stride − padding + i·dilation, which lie in [0, size) exactly for i in
 * [firstInside, endInside). Two numbers, not a pair, so the hot loops allocate nothing.
 */
function firstInside(y: number, stride: number, pad: number, dilation: number): number {
  return Math.max(0, Math.ceil((pad - y * stride) / dilation));
}
function endInside(y: number, stride: number, pad: number, dilation: number, taps: number, size: number): number {
  return Math.max(firstInside(y, stride, pad, dilation), Math.min(taps, Math.ceil((size + pad - y * stride) / dilation)));
}

/**
 * Max pooling. Padding never wins (it counts as −∞, as in TensorFlow). `argmax` receives, for each
 * output, the flat index of the input element chosen, so the gradient is a scatter-add.
 */
export function maxPoolInto(out: Storage, argmax: Int32Array, image: Storage, g: Window2D): void {
  const { n, h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow } = g;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      const i0 = firstInside(y, sh, pt, dh), i1 = endInside(y, sh, pt, dh, kh, h); // padding never wins: only taps inside the image
      for (let x = 0; x < ow; x++) {
        const o = ((b * oh + y) * ow + x) * c;
        const j0 = firstInside(x, sw, pl, dw), j1 = endInside(x, sw, pl, dw, kw, w);
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity, at = -1; // the first maximum wins; a NaN wins over any number
          for (let i = i0; i < i1; i++) {
            for (let j = j0, src = ((b * h + y * sh - pt + i * dh) * w + x * sw - pl + j0 * dw) * c + ch; j < j1; j++, src += dw * c) {
              const v = image[src]!;
              if (v > best || at === -1 || v !== v) { best = v; at = src; }
            }
          }
          out[o + ch] = best;
          argmax[o + ch] = at;
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
  const { n, h, w, c, sh, sw, dh, dw, pt, pl, oh, ow } = g;
  if (adjoint) outOrImage.fill(0);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      const i0 = firstInside(y, sh, pt, dh), i1 = endInside(y, sh, pt, dh, g.kh, h);
      for (let x = 0; x < ow; x++) {
        const j0 = firstInside(x, sw, pl, dw), j1 = endInside(x, sw, pl, dw, g.kw, w);
        const o = ((b * oh + y) * ow + x) * c;
        const count = (i1 - i0) * (j1 - j0);
        const scale = count > 0 ? 1 / count : 0;
        if (!adjoint) outOrImage.fill(0, o, o + c);
        for (let i = i0; i < i1; i++) {
          for (let j = j0; j < j1; j++) {
            const px = ((b * h + y * sh - pt + i * dh) * w + x * sw - pl + j * dw) * c;
            if (adjoint) for (let ch = 0; ch < c; ch++) outOrImage[px + ch]! += imageOrOut[o + ch]! * scale;
            else for (let ch = 0; ch < c; ch++) outOrImage[o + ch]! += imageOrOut[px + ch]! * scale;
          }
        }
      }
    }
  }
}
