/**
 * Swin's window machinery on NHWC maps (timm's swin_transformer.py): partition into non-overlapping
 * windows and back, the cyclic shift, the shifted-window attention mask and the relative position index.
 */
import { tf } from '../backend';

/** Window height and width. */
export type WindowSize = [height: number, width: number];

/** [B, H, W, C] → [B·nW, wh, ww, C], windows in row-major order image by image (timm's window_partition). */
export function windowPartition(x: tf.Tensor4D, [wh, ww]: WindowSize): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  if (h % wh !== 0 || w % ww !== 0) throw new Error(`window ${wh}x${ww} does not tile a ${h}x${w} map (pad it first)`);
  return tf.tidy(() => x.reshape([b, h / wh, wh, w / ww, ww, c]).transpose([0, 1, 3, 2, 4, 5]).reshape([-1, wh, ww, c]));
}

/** The inverse of windowPartition: [B·nW, wh, ww, C] → [B, H, W, C] (timm's window_reverse). */
export function windowReverse(windows: tf.Tensor4D, [wh, ww]: WindowSize, h: number, w: number): tf.Tensor4D {
  const c = windows.shape[3];
  return tf.tidy(() => windows.reshape([-1, h / wh, w / ww, wh, ww, c]).transpose([0, 1, 3, 2, 4, 5]).reshape([-1, h, w, c]));
}

function rollAxis(x: tf.Tensor4D, shift: number, axis: 1 | 2): tf.Tensor4D {
  const n = x.shape[axis];
  const s = ((shift % n) + n) % n;
  if (s === 0) return x;
  const [head, tail] = tf.split(x, [n - s, s], axis);
  return tf.concat([tail, head], axis) as tf.Tensor4D;
}

/** torch.roll(x, shifts=(dh, dw), dims=(1, 2)) on NHWC: out[i] = x[(i - shift) mod size]. */
export function cyclicShift(x: tf.Tensor4D, dh: number, dw: number): tf.Tensor4D {
  return tf.tidy(() => rollAxis(rollAxis(x, dh, 1), dw, 2));
}

/** Python's slice bounds: negative counts from the end, undefined is the end, clamped to [0, n]. */
function pyBound(i: number | undefined, n: number): number {
  if (i === undefined) return n;
  return Math.min(n, Math.max(0, i < 0 ? n + i : i));
}

/**
 * The shifted-window attention mask of timm's SwinTransformerBlock.get_attn_mask for a (padded) map of
 * hp x wp: the map is labelled in 3 x 3 regions by the slices (0, -w), (-w, -shift), (-shift, end) of each
 * axis, and a pair of tokens in one window may attend only when their labels agree. Returns [nW, N, N]
 * (N = wh·ww) with 0 for allowed pairs and -100 for the rest (timm's value), windows in row-major order.
 */
export function shiftedWindowMask(hp: number, wp: number, [wh, ww]: WindowSize, [sh, sw]: [number, number]): Float32Array {
  const label = new Int32Array(hp * wp);
  let cnt = 0;
  const hs: Array<[number, number | undefined]> = [[0, -wh], [-wh, -sh], [-sh, undefined]];
  const ws: Array<[number, number | undefined]> = [[0, -ww], [-ww, -sw], [-sw, undefined]];
  for (const [h0, h1] of hs) {
    for (const [w0, w1] of ws) {
      for (let y = pyBound(h0, hp); y < pyBound(h1, hp); y++) {
        for (let x = pyBound(w0, wp); x < pyBound(w1, wp); x++) label[y * wp + x] = cnt;
      }
      cnt++;
    }
  }
  const n = wh * ww;
  const nwh = hp / wh;
  const nww = wp / ww;
  const mask = new Float32Array(nwh * nww * n * n);
  const tokens = new Int32Array(n);
  for (let wy = 0; wy < nwh; wy++) {
    for (let wx = 0; wx < nww; wx++) {
      for (let t = 0; t < n; t++) tokens[t] = label[(wy * wh + Math.floor(t / ww)) * wp + wx * ww + (t % ww)];
      const base = (wy * nww + wx) * n * n;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) mask[base + i * n + j] = tokens[i] === tokens[j] ? 0 : -100;
    }
  }
  return mask;
}

/**
 * timm's get_relative_position_index: for tokens i, j of a wh x ww window (row-major), the row of the
 * relative position bias table, (Δy + wh - 1)·(2ww - 1) + (Δx + ww - 1) with Δ = position(i) - position(j).
 * Returns [N·N] row-major over (i, j).
 */
export function relativePositionIndex(wh: number, ww: number): Int32Array {
  const n = wh * ww;
  const out = new Int32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const dy = Math.floor(i / ww) - Math.floor(j / ww);
      const dx = (i % ww) - (j % ww);
      out[i * n + j] = (dy + wh - 1) * (2 * ww - 1) + (dx + ww - 1);
    }
  }
  return out;
}
