/**
 * The stem: what turns the image into the first stage's map. The paper's is a "patchify" layer, a
 * non-overlapping 4x4 stride-4 conv then LayerNorm (Sec. 2.2). timm adds overlapping stems (its
 * `stem_type`): two 3x3 stride-2 convs, also stride 4, whose outputs see overlapping 7x7 windows, in the
 * spirit of "Early convolutions help transformers see better" (Xiao et al., 2021). On 32x32 images, where
 * every 4x4 patch is an eighth of the image's width, the overlap keeps the edges between patches.
 */
import { Conv2d } from '../nn/conv';
import { LayerNorm } from '../nn/norm';
import { GELU } from '../nn/activation';
import { Sequential } from '../nn/module';

/**
 * 'patch': the paper's patchify stem, stemPatchSize wide. 'overlap': 3x3 stride-2 conv to dims[0], 3x3
 * stride-2 conv, LayerNorm. 'overlap_tiered': the same with dims[0] / 2 channels between the convs.
 * 'overlap_act': 'overlap' with a GELU between the convs.
 */
export type StemType = 'patch' | 'overlap' | 'overlap_tiered' | 'overlap_act';

export const STEM_TYPES: readonly StemType[] = ['patch', 'overlap', 'overlap_tiered', 'overlap_act'];

/** timm's make_divisible: the nearest multiple of `divisor`, at least `divisor`, and not below 90% of v. */
export function makeDivisible(v: number, divisor = 8): number {
  let out = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (out < 0.9 * v) out += divisor;
  return out;
}

/** The stem's total stride. */
export function stemStride(type: StemType, patchSize: number): number {
  return type === 'patch' ? patchSize : 4;
}

/** downsample_layers.0 of the official layout; the overlapping stems' convs are its children 0 and 1 (or 0 and 2). */
export function createStem(type: StemType, inChans: number, dim: number, patchSize: number): Sequential {
  if (!STEM_TYPES.includes(type)) throw new Error(`unknown stem type "${type}" (${STEM_TYPES.join(' | ')})`);
  if (type === 'patch') {
    return new Sequential([new Conv2d(inChans, dim, { kernelSize: patchSize, stride: patchSize }), new LayerNorm(dim)]);
  }
  const mid = type === 'overlap_tiered' ? makeDivisible(Math.floor(dim / 2)) : dim;
  const conv = (cin: number, cout: number): Conv2d => new Conv2d(cin, cout, { kernelSize: 3, stride: 2, padding: 1 });
  return new Sequential([
    conv(inChans, mid),
    ...(type === 'overlap_act' ? [new GELU()] : []),
    conv(mid, dim),
    new LayerNorm(dim),
  ]);
}
