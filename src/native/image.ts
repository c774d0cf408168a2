/**
 * The input pipeline's native kernels (image_ops.cc), compiled on first use like the fused TensorFlow
 * kernels but without TensorFlow, so that DataLoader worker threads load them too. Where there is no C++
 * compiler, or with `CONVNEXT_NATIVE=0`, `nativeImageOps()` is undefined and the JavaScript versions run:
 * they give the same bytes.
 */
import * as path from 'path';
import { buildAddon } from './build';

export interface NativeImageOps {
  /** resample.ts's resizeBox into `out` (outHeight x outWidth x 3); arguments as there, checked by the caller. */
  resizeBox(src: Uint8Array, height: number, width: number, outHeight: number, outWidth: number, bicubic: boolean,
    top: number, left: number, boxHeight: number, boxWidth: number, out: Uint8Array): void;
  /** affine.ts's warpAffine into `out`; params are the matrix then the fill, checked by the caller. */
  warpAffine(src: Uint8Array, height: number, width: number, params: Float64Array, bilinear: boolean,
    out: Uint8Array): void;
  /** collate's normalisation of one image into out[offset ...]; lut is 3 x 256 float32s, per channel. */
  normalize(src: Uint8Array, lut: Float32Array, out: Float32Array, offset: number): void;
  /** color.ts's hflip into `out`. */
  hflip(src: Uint8Array, height: number, width: number, out: Uint8Array): void;
  /** mixup.ts's blend of images b and batch-1-b, in place. */
  mixPairs(x: Float32Array, batch: number, lam: number): void;
}

let loaded: NativeImageOps | null | undefined;
let forceJs = 0;

export function nativeImageOps(): NativeImageOps | undefined {
  if (forceJs > 0) return undefined;
  loaded ??= load();
  return loaded ?? undefined;
}

/** Runs `fn` (synchronous) on the JavaScript versions of the kernels, e.g. to compare the two. */
export function withJsImageOps<T>(fn: () => T): T {
  forceJs++;
  try {
    return fn();
  } finally {
    forceJs--;
  }
}

function load(): NativeImageOps | null {
  if (process.env.CONVNEXT_NATIVE === '0') return null;
  try {
    // No fused multiply-adds: the double arithmetic must round as JavaScript's does.
    const source = path.join(__dirname, 'image_ops.cc');
    return require(buildAddon({ name: 'image_ops', source, flags: ['-ffp-contract=off'] })) as NativeImageOps;
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0];
    if (process.env.CONVNEXT_NATIVE === '1') throw new Error(`CONVNEXT_NATIVE=1 but the image kernels failed: ${msg}`);
    process.emitWarning(`convnext-ts: native image kernels unavailable (${msg}); using JavaScript`);
    return null;
  }
}
