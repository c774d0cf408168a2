/**
 * The paper's roadmap (Sec. 2, Fig. 2; per-step numbers from appendix Table 10): sixteen named
 * configs from ResNet-50 to ConvNeXt-T, each one option away from its parent.
 */
import { ModernResNetConfig } from './modern-resnet';

export interface PaperFigures {
  /** GFLOPs at 224x224 as printed (the paper's "FLOPs" are multiply-accumulates). */
  gflops: number;
  /** ImageNet-1K top-1 (%) with the paper's modern 300-epoch recipe. */
  top1?: number;
}

export interface RoadmapStep {
  /** e.g. `07-move-up-dwconv` (registered as `roadmap_07_move_up_dwconv`, see roadmapModelName). */
  id: string;
  /** Row label of the paper's Fig. 2 / Table 10. */
  title: string;
  /** Paper section the step belongs to. */
  group: 'baseline' | 'macro design' | 'ResNeXt-ify' | 'inverted bottleneck' | 'large kernel' | 'micro design';
  /** The one change from `parent`, in words. */
  change: string;
  /** The step this one modifies (kernels 9 and 11 are side branches; GELU continues from kernel 7). */
  parent?: string;
  config: ModernResNetConfig;
  paper: PaperFigures;
}

/** torchvision's ResNet-50 (v1.5: the stride sits in the 3x3 conv), 1000 classes. */
export const RESNET50: ModernResNetConfig = {
  depths: [3, 4, 6, 3], dims: [256, 512, 1024, 2048], hiddenRatio: 1 / 4, layout: 'bottleneck',
  stem: 'resnet', stemChannels: 64, stemStride: 2, kernelSize: 3, depthwise: false, act: 'relu',
  activations: 'all', norms: 'all', norm: 'batch', downsampling: 'in-block', layerScaleInitValue: 0,
};

/** torchvision's ResNet-18: basic blocks of two 3x3 convs. */
export const RESNET18: ModernResNetConfig = {
  ...RESNET50, depths: [2, 2, 2, 2], dims: [64, 128, 256, 512], hiddenRatio: 1, layout: 'basic',
};

/** ResNet-200 (timm's layout), the start of the paper's larger regime that ends at ConvNeXt-B. */
export const RESNET200: ModernResNetConfig = { ...RESNET50, depths: [3, 24, 36, 3] };

/** ImageNet-1K top-1 of ResNet-50 with its original 90-epoch recipe (torchvision), Table 10's first row. */
export const RESNET50_ORIGINAL_TOP1 = 76.13;

function chain(): RoadmapStep[] {
  const steps: RoadmapStep[] = [];
  const byId = new Map<string, RoadmapStep>();
  const add = (s: Omit<RoadmapStep, 'config'> & { patch: Partial<ModernResNetConfig> }): void => {
    const base = s.parent ? byId.get(s.parent)?.config : RESNET50;
    if (!base) throw new Error(`roadmap step ${s.id}: unknown parent ${s.parent}`);
    const { patch, ...rest } = s;
    const step: RoadmapStep = { ...rest, config: { ...base, ...patch } };
    steps.push(step);
    byId.set(step.id, step);
  };
  add({ id: '01-resnet50', title: 'ResNet-50', group: 'baseline', change: 'torchvision ResNet-50 trained with the modern recipe',
    patch: {}, paper: { gflops: 4.09, top1: 78.82 } });
  add({ id: '02-stage-ratio', title: 'stage ratio', group: 'macro design', parent: '01-resnet50',
    change: 'blocks per stage 3,4,6,3 → 3,3,9,3 (Swin-T\'s 1:1:3:1)', patch: { depths: [3, 3, 9, 3] },
    paper: { gflops: 4.53, top1: 79.36 } });
  add({ id: '03-patchify-stem', title: '"patchify" stem', group: 'macro design', parent: '02-stage-ratio',
    change: '7x7/2 conv + 3x3/2 max pool → 4x4/4 non-overlapping conv', patch: { stem: 'patchify', stemStride: 4 },
    paper: { gflops: 4.42, top1: 79.51 } });
  add({ id: '04-depthwise-conv', title: 'depthwise conv', group: 'ResNeXt-ify', parent: '03-patchify-stem',
    change: '3x3 conv → 3x3 depthwise conv (groups = channels)', patch: { depthwise: true },
    paper: { gflops: 2.35, top1: 78.28 } });
  add({ id: '05-width-96', title: 'width ↑ (64 → 96)', group: 'ResNeXt-ify', parent: '04-depthwise-conv',
    change: 'stem and bottleneck width 64 → 96 (Swin-T\'s channels)',
    patch: { stemChannels: 96, dims: [384, 768, 1536, 3072] }, paper: { gflops: 5.27, top1: 80.5 } });
  add({ id: '06-inverted-bottleneck', title: 'inverted bottleneck', group: 'inverted bottleneck', parent: '05-width-96',
    change: 'blocks 384→96→384 → 96→384→96 (hidden 4x wider than in/out)',
    patch: { dims: [96, 192, 384, 768], hiddenRatio: 4 }, paper: { gflops: 4.64, top1: 80.64 } });
  add({ id: '07-move-up-dwconv', title: 'move ↑ d3x3', group: 'large kernel', parent: '06-inverted-bottleneck',
    change: 'depthwise conv moved to the top of the block (before the 1x1s)', patch: { layout: 'dw-first' },
    paper: { gflops: 4.07, top1: 79.92 } });
  add({ id: '08-kernel-5', title: 'kernel size → 5', group: 'large kernel', parent: '07-move-up-dwconv',
    change: 'depthwise kernel 3 → 5', patch: { kernelSize: 5 }, paper: { gflops: 4.1, top1: 80.35 } });
  add({ id: '09-kernel-7', title: 'kernel size → 7', group: 'large kernel', parent: '08-kernel-5',
    change: 'depthwise kernel 5 → 7', patch: { kernelSize: 7 }, paper: { gflops: 4.15, top1: 80.57 } });
  add({ id: '10-kernel-9', title: 'kernel size → 9', group: 'large kernel', parent: '09-kernel-7',
    change: 'depthwise kernel 7 → 9 (side branch)', patch: { kernelSize: 9 }, paper: { gflops: 4.21, top1: 80.57 } });
  add({ id: '11-kernel-11', title: 'kernel size → 11', group: 'large kernel', parent: '10-kernel-9',
    change: 'depthwise kernel 9 → 11 (side branch)', patch: { kernelSize: 11 }, paper: { gflops: 4.29, top1: 80.47 } });
  add({ id: '12-gelu', title: 'ReLU ➝ GELU', group: 'micro design', parent: '09-kernel-7',
    change: 'kernel 7 kept; every ReLU → GELU', patch: { act: 'gelu' }, paper: { gflops: 4.15, top1: 80.62 } });
  add({ id: '13-fewer-activations', title: 'fewer activations', group: 'micro design', parent: '12-gelu',
    change: 'one GELU per block, between the two 1x1 convs', patch: { activations: 'one' },
    paper: { gflops: 4.15, top1: 81.27 } });
  add({ id: '14-fewer-norms', title: 'fewer norms', group: 'micro design', parent: '13-fewer-activations',
    change: 'one BN per block, after the depthwise conv', patch: { norms: 'one' }, paper: { gflops: 4.15, top1: 81.41 } });
  add({ id: '15-layer-norm', title: 'BN ➝ LN', group: 'micro design', parent: '14-fewer-norms',
    change: 'every BatchNorm → LayerNorm', patch: { norm: 'layer' }, paper: { gflops: 4.46, top1: 81.47 } });
  add({ id: '16-convnext-t', title: 'separate d.s. conv (ConvNeXt-T)', group: 'micro design', parent: '15-layer-norm',
    change: 'LN + 2x2/2 conv between stages instead of strided blocks; LN after pooling; layer scale (recipe)',
    patch: { downsampling: 'separate', layerScaleInitValue: 1e-6 }, paper: { gflops: 4.49, top1: 81.97 } });
  return steps;
}

export const ROADMAP: readonly RoadmapStep[] = chain();

/** Registry name of a roadmap step, at ImageNet scale or as its 32x32 adaptation. */
export function roadmapModelName(step: Pick<RoadmapStep, 'id'>, scale: 'imagenet' | 'cifar' = 'imagenet'): string {
  return `roadmap_${scale === 'cifar' ? 'cifar_' : ''}${step.id.replace(/-/g, '_')}`;
}

/** A step by its id (`09-kernel-7`) or its model name (`roadmap_09_kernel_7`). */
export function roadmapStep(id: string): RoadmapStep {
  const s = ROADMAP.find((r) => r.id === id || roadmapModelName(r) === id);
  if (!s) throw new Error(`unknown roadmap step "${id}". Steps: ${ROADMAP.map((r) => r.id).join(', ')}`);
  return s;
}

/** The end point of the ResNet-200 regime (grey bars of Fig. 2): ConvNeXt-B, Table 1 of the paper. */
export const CONVNEXT_B_PAPER: PaperFigures = { gflops: 15.4, top1: 83.8 };

/** The options of `config` that differ from `parent`'s, e.g. `{ kernelSize: [5, 7] }`. */
export function configDiff(parent: ModernResNetConfig, config: ModernResNetConfig): Record<string, [unknown, unknown]> {
  const out: Record<string, [unknown, unknown]> = {};
  for (const key of Object.keys(config) as Array<keyof ModernResNetConfig>) {
    if (JSON.stringify(parent[key]) !== JSON.stringify(config[key])) out[key] = [parent[key], config[key]];
  }
  return out;
}

export interface SmallScaleOptions {
  /** Multiplies every width (stem, stage dims) before rounding; 1/4 turns 96 into 24. */
  widthMultiplier: number;
  /** Divides every stage's depth before rounding (at least 1 block): 3 turns 3,4,6,3 into 1,1,2,1. */
  depthDivisor?: number;
  numClasses: number;
}

/**
 * Adapts a 224x224 config to 32x32 images (CIFAR) the same way for every step: all widths scaled by
 * one multiplier, depths optionally divided, and the stem's stride halved (ResNet stem conv 2 → 1
 * before its max pool, patchify 4x4/4 → 2x2/2), so both stems reduce 32 → 16 where they reduce
 * 224 → 56; stages then run at 16, 8, 4, 2 instead of 56, 28, 14, 7. Kernels and every other roadmap
 * option stay as they are.
 */
export function smallScale(c: ModernResNetConfig, o: SmallScaleOptions): ModernResNetConfig {
  const w = (x: number) => Math.max(1, Math.round(x * o.widthMultiplier));
  const d = (x: number) => Math.max(1, Math.round(x / (o.depthDivisor ?? 1)));
  return {
    ...c, dims: c.dims.map(w), depths: c.depths.map(d), stemChannels: w(c.stemChannels),
    stemStride: c.stemStride / 2, numClasses: o.numClasses,
  };
}
