/**
 * Notebook 01, "ConvNeXt against the Transformers": ConvNeXt-T/B beside Swin-T/B and ViT-S/B (DeiT-S/B) at
 * 224², with our exact counts, the paper's quoted V100 throughput and ImageNet-1K top-1, our measured CPU
 * throughput, and the check of the paper's claim that at equal FLOPs ConvNeXt-T is at least as fast as Swin-T.
 */
import { tf } from '../backend';
import { type Classifier, complexity, createModel } from '../convnext';
import { nativeStatus, withoutNativeOps } from '../native';
import { withoutInit } from '../nn';
import { familyBenchModesText } from './family';
import { fmt, listWords } from './markdown';
import type { Mode } from './mode';
import { paperRow } from './paper';
import { type SpeedPlan, type SpeedResult, allLoads, imagesPerSecondRange, loadRange, measureSpeeds } from './speed';
import { type Row, vsPaper } from './table';

export interface TransformerPaperRow {
  /** Registry name. */
  model: string;
  /** Name in our tables. */
  label: string;
  /** Name in the paper's Table 1 (DeiT for the ViTs: same architecture, DeiT's training recipe). */
  paperName: string;
  /** "#param." in millions, as printed. */
  paramsM: number;
  /** "FLOPs" in G, as printed (multiply-accumulates). */
  gflops: number;
  /** Inference throughput on one V100 GPU (image/s), ConvNeXt paper's Table 1. */
  throughput: number;
  /** ImageNet-1K top-1 (%), trained on ImageNet-1K at 224². */
  top1: number;
  /** The same model's V100 throughput in the Swin paper's Table 1 (Liu et al. 2021), a separate measurement. */
  swinPaperThroughput?: number;
}

const convnextRow = (model: string, label: string): TransformerPaperRow => {
  const p = paperRow(model, 224);
  if (!p) throw new Error(`no Table 1 row for ${model}`);
  return { model, label, paperName: label, paramsM: p.paramsM, gflops: p.gflops, throughput: p.throughput, top1: p.top1 };
};

/**
 * The six models, T-sized then B-sized, with the figures quoted from the ImageNet-1K part of Table 1 of
 * Liu et al. 2022 (arXiv:2201.03545v2), which measured every row's throughput on one V100 in one setting.
 * The Swin paper's own Table 1 (arXiv:2103.14030) prints other V100 figures for the same models
 * (`swinPaperThroughput`); they are kept here for reference, not mixed into the comparison.
 */
export const TRANSFORMER_COMPARISON: readonly TransformerPaperRow[] = [
  convnextRow('convnext_tiny', 'ConvNeXt-T'),
  { model: 'swin_tiny_patch4_window7_224', label: 'Swin-T', paperName: 'Swin-T', paramsM: 28, gflops: 4.5, throughput: 757.9, top1: 81.3, swinPaperThroughput: 755.2 },
  { model: 'vit_small_patch16_224', label: 'ViT-S/16', paperName: 'DeiT-S', paramsM: 22, gflops: 4.6, throughput: 978.5, top1: 79.8, swinPaperThroughput: 940.4 },
  convnextRow('convnext_base', 'ConvNeXt-B'),
  { model: 'swin_base_patch4_window7_224', label: 'Swin-B', paperName: 'Swin-B', paramsM: 88, gflops: 15.4, throughput: 286.6, top1: 83.5, swinPaperThroughput: 278.1 },
  { model: 'vit_base_patch16_224', label: 'ViT-B/16', paperName: 'DeiT-B', paramsM: 87, gflops: 17.6, throughput: 302.1, top1: 81.8, swinPaperThroughput: 292.3 },
];

/** The source line under the comparison table. */
export const TRANSFORMER_PAPER_NOTE = 'paper columns quoted from Liu et al. 2022, "A ConvNet for the 2020s", Table 1 (ImageNet-1K rows, ' +
  'throughput on one V100 GPU; the ViT rows are DeiT-S / DeiT-B, Touvron et al. 2021: the same networks as ViT-S/16 and ViT-B/16, ' +
  'trained with DeiT\'s recipe). The Swin paper (Liu et al. 2021, Table 1) measured the same models at ' +
  TRANSFORMER_COMPARISON.filter((r) => r.swinPaperThroughput).map((r) => `${r.swinPaperThroughput} (${r.paperName})`).join(', ') +
  ' images/s. Ours: this machine\'s CPU (see 00-environment), TensorFlow.js; median images/s of the timed passes, their min–max beside it.';

const labelOf = (model: string) => TRANSFORMER_COMPARISON.find((r) => r.model === model)?.label ?? model;

/** What the section measures in each mode. */
export const TRANSFORMER_BENCH: Record<Mode, SpeedPlan> = {
  smoke: {
    models: ['convnext_tiny', 'swin_tiny_patch4_window7_224', 'vit_small_patch16_224'], size: 64, batches: [1, 2], rounds: 1,
    timing: { warmup: 1, minIters: 1, maxIters: 1, minSeconds: 0 },
  },
  quick: {
    models: TRANSFORMER_COMPARISON.map((r) => r.model), size: 224, batches: [1, 16], rounds: 2,
    timing: { warmup: 1, minIters: 2, maxIters: 10, minSeconds: 1 },
  },
  full: {
    models: TRANSFORMER_COMPARISON.map((r) => r.model), size: 224, batches: [1, 64], rounds: 3,
    timing: { warmup: 2, minIters: 5, maxIters: 50, minSeconds: 5 },
  },
};

/** The table of what each mode measures here, in Markdown, from `TRANSFORMER_BENCH`. */
export function transformerBenchModesText(): string {
  return familyBenchModesText(TRANSFORMER_BENCH, labelOf, 'models');
}

export interface TransformerCount {
  model: string;
  params: number;
  /** MACs at 224². */
  macs: number;
  /** MACs at the measured input size (the same at 224²). */
  macsMeasured: number;
}

/** Params and MACs of the six models at 224² and at `measuredSize` (shapes only). */
export function countTransformers(measuredSize = 224): TransformerCount[] {
  return TRANSFORMER_COMPARISON.map(({ model }) => {
    const m = withoutInit(() => createModel(model));
    try {
      const macs = complexity(m, 224).macs;
      return { model, params: m.numParams(), macs, macsMeasured: measuredSize === 224 ? macs : complexity(m, measuredSize).macs };
    } finally {
      m.dispose();
    }
  });
}

/** Times the plan's models (see speed.ts: rounds, warm-up, median with min–max, load average). */
export function measureTransformerSpeed(plan: SpeedPlan): SpeedResult[] {
  return measureSpeeds(plan);
}

/** One row per model: counts beside the paper's, the paper's quoted throughput and top-1, ours per batch size. */
export function transformerRows(counted: TransformerCount[], speed: SpeedResult[]): Row[] {
  const batches = [...new Set(speed.map((r) => r.batchSize))].sort((a, b) => a - b);
  const maxBatch = batches[batches.length - 1];
  return TRANSFORMER_COMPARISON.map((p) => {
    const c = counted.find((x) => x.model === p.model);
    const row: Row = {
      model: p.label,
      'Table 1 name': p.paperName,
      ...vsPaper('params, M', p.paramsM, c ? c.params / 1e6 : null),
      ...vsPaper('GFLOPs', p.gflops, c ? c.macs / 1e9 : null),
      'top-1 % (paper)': p.top1,
      'V100 images/s (paper)': p.throughput,
    };
    for (const b of batches) {
      const r = speed.find((x) => x.model === p.model && x.batchSize === b);
      const range = r ? imagesPerSecondRange(r) : undefined;
      row[`CPU images/s, batch ${b} (ours)`] = r?.stats.imagesPerSecond ?? null;
      row[`batch ${b} min–max`] = range ? `${fmt(range[0], 1)}–${fmt(range[1], 1)}` : '—';
    }
    const big = speed.find((x) => x.model === p.model && x.batchSize === maxBatch);
    row[`GMAC/s, batch ${maxBatch} (ours)`] = big && c ? (c.macsMeasured * big.stats.imagesPerSecond) / 1e9 : null;
    return row;
  });
}

export interface OpProfile {
  model: string;
  /** Ops TensorFlow.js dispatched for one forward pass (the fused native kernels are not among them). */
  ops: number;
  /** Elements those ops wrote, × 4 bytes. */
  bytesWritten: number;
  /** Ops per kind, most frequent first. */
  byKind: Array<[string, number]>;
}

/** What TensorFlow.js runs for one forward pass of batch 1 at `size`, after a first one: op count and bytes written (tf.profile). */
export async function opProfile(model: string, size: number, opts: { plainOps?: boolean; create?: (n: string) => Classifier } = {}): Promise<OpProfile> {
  const m = (opts.create ?? ((n: string) => withoutInit(() => createModel(n))))(model);
  m.eval();
  const x = tf.zeros([1, size, size, 3]) as tf.Tensor4D;
  try {
    const forward = () => {
      const y = tf.tidy(() => m.forward(x));
      y.dataSync();
      y.dispose();
    };
    // The first forward pass also lays out weights and masks, once per model: not part of a pass.
    const run = async () => {
      forward();
      return tf.profile(forward);
    };
    const info = await (opts.plainOps ? withoutNativeOps(run) : run());
    const counts = new Map<string, number>();
    let elements = 0;
    for (const k of info.kernels) {
      counts.set(k.name, (counts.get(k.name) ?? 0) + 1);
      for (const s of k.outputShapes as Array<number[] | undefined>) elements += s ? s.reduce((a, d) => a * d, 1) : 0;
    }
    return { model, ops: info.kernels.length, bytesWritten: 4 * elements, byKind: [...counts].sort((a, b) => b[1] - a[1]) };
  } finally {
    x.dispose();
    m.dispose();
  }
}

export interface KernelEvidence {
  /** ConvNeXt-T as it runs (fused block kernels where available). */
  convnext: OpProfile;
  /** ConvNeXt-T on plain TensorFlow.js ops only. */
  convnextPlain: OpProfile;
  swin: OpProfile;
  nativeOn: boolean;
}

/** The op profiles the verdict explains the speed with: ConvNeXt-T fused and plain, Swin-T as it runs. */
export async function kernelEvidence(size: number): Promise<KernelEvidence> {
  return {
    convnext: await opProfile('convnext_tiny', size),
    convnextPlain: await opProfile('convnext_tiny', size, { plainOps: true }),
    swin: await opProfile('swin_tiny_patch4_window7_224', size),
    nativeOn: nativeStatus().enabled,
  };
}

/** Whether two measurements' min–max ranges of images/s overlap. */
function overlap(a: SpeedResult, b: SpeedResult): boolean {
  const [alo, ahi] = imagesPerSecondRange(a);
  const [blo, bhi] = imagesPerSecondRange(b);
  return alo <= bhi && blo <= ahi;
}

const MB = (bytes: number) => `${fmt(bytes / 1e6, 0)} MB`;

/**
 * The verdict on the paper's claim (ConvNeXt-T at least as fast as Swin-T at equal FLOPs: 774.7 against
 * 757.9 images/s on a V100), written from the measurements, and why, from the op profiles.
 */
export function transformerVerdict(speed: SpeedResult[], counted: TransformerCount[], ev?: KernelEvidence): string {
  const cx = 'convnext_tiny';
  const sw = 'swin_tiny_patch4_window7_224';
  const paperC = TRANSFORMER_COMPARISON.find((r) => r.model === cx)!;
  const paperS = TRANSFORMER_COMPARISON.find((r) => r.model === sw)!;
  const batches = [...new Set(speed.map((r) => r.batchSize))].sort((a, b) => a - b);
  const per = batches.flatMap((b) => {
    const c = speed.find((r) => r.model === cx && r.batchSize === b);
    const s = speed.find((r) => r.model === sw && r.batchSize === b);
    return c && s ? [{ b, c, s, ratio: c.stats.imagesPerSecond / s.stats.imagesPerSecond, overlap: overlap(c, s) }] : [];
  });
  if (per.length === 0) throw new Error('ConvNeXt-T and Swin-T were not both measured');
  const holds = per.filter((p) => p.ratio >= 1);
  const size = per[0].c.size;
  const verdict = holds.length === per.length ? 'holds on this CPU' : holds.length === 0 ? 'does not hold on this CPU' :
    `holds on this CPU at batch ${listWords(holds.map((p) => String(p.b)))} but not at batch ${listWords(per.filter((p) => p.ratio < 1).map((p) => String(p.b)))}`;
  const range = (r: SpeedResult) => imagesPerSecondRange(r).map((x) => fmt(x, 1)).join('–');
  const lines: string[] = [];
  const unsettled = per.every((p) => p.overlap)
    ? ' by the medians, but the spread of the timed passes is wider than the gap at every batch size, so this run alone does not settle it'
    : '';
  lines.push(`**The paper's claim ${verdict}${unsettled}.** Table 1 has ConvNeXt-T at ${paperC.throughput} and Swin-T at ${paperS.throughput} images/s ` +
    `on a V100 (quoted); here, at ${size}²:`);
  lines.push('');
  for (const p of per) {
    lines.push(`* batch ${p.b}: ConvNeXt-T **${fmt(p.c.stats.imagesPerSecond, 1)}** images/s (min–max ${range(p.c)}) against Swin-T's ` +
      `**${fmt(p.s.stats.imagesPerSecond, 1)}** (${range(p.s)}): ConvNeXt-T is **${fmt(p.ratio, 2)}×** as fast` +
      (p.overlap ? '; the two ranges overlap, so at this batch size the order is within run-to-run noise.' : '; the ranges do not overlap.'));
  }
  const cc = counted.find((r) => r.model === cx);
  const cs = counted.find((r) => r.model === sw);
  const big = per[per.length - 1];
  if (cc && cs) {
    const gc = (cc.macsMeasured * big.c.stats.imagesPerSecond) / 1e9;
    const gs = (cs.macsMeasured * big.s.stats.imagesPerSecond) / 1e9;
    lines.push('');
    lines.push(`The two do almost the same arithmetic: ${fmt(cc.macs / 1e9, 2)} against ${fmt(cs.macs / 1e9, 2)} GMACs per image at 224² (our counts). ` +
      `So the gap is in how fast each turns MACs into images: at batch ${big.b} ConvNeXt-T sustains ${fmt(gc, 1)} GMAC/s and Swin-T ${fmt(gs, 1)} GMAC/s.`);
  }
  if (size !== 224) {
    lines.push('');
    lines.push(`Measured at ${size}², not the paper's 224²: there Swin pads each stage's map up to whole 7×7 windows, so these figures ` +
      'exercise the code more than they test the claim.');
  }
  const loads = allLoads(speed.filter((r) => r.model === cx || r.model === sw));
  lines.push('');
  lines.push(`(1-minute load average while these were timed: ${loadRange(loads)}; both were timed in the same rounds, in turn.)`);
  if (ev) {
    lines.push('');
    const kinds = (p: OpProfile, names: string[]) => listWords(names.map((n) => `${p.byKind.find(([k]) => k === n)?.[1] ?? 0} ${n}`));
    const faster = big.ratio >= 1;
    const bytesRatio = ev.convnextPlain.bytesWritten / ev.swin.bytesWritten;
    const similar = Math.abs(bytesRatio - 1) <= 0.25;
    const plainWords = similar ? `about as much as Swin-T (${fmt(bytesRatio, 2)}×)` : `${fmt(bytesRatio, 2)}× Swin-T's bytes`;
    const why = ev.nativeOn
      ? `**Why:** in eval mode each ConvNeXt block runs as three fused native kernels of this library (depthwise 7×7 convolution with ` +
        'LayerNorm; Linear with bias and GELU; Linear with bias, layer scale and the residual), so for one ' +
        `${size}² image TensorFlow.js itself dispatches only ${ev.convnext.ops} ops for ConvNeXt-T (stem, downsampling, head), writing ` +
        `${MB(ev.convnext.bytesWritten)}. Swin-T's window attention has no such kernel (its LayerNorms use the fused one): it is assembled from plain ` +
        `TensorFlow.js ops, ${ev.swin.ops} of them per image (${kinds(ev.swin, ['Reshape', 'Transpose', 'BatchMatMul', 'SplitV', 'Concat', 'Softmax'])}), ` +
        `each writing its whole result back to memory, ${MB(ev.swin.bytesWritten)} in all. The cyclic shift (split and concatenate), the window ` +
        'partition and reverse (reshape and transpose), the head split, the relative position bias gather, the mask, the softmax and the two ' +
        'batched matmuls over 7×7 windows are small, memory-bound steps: the CPU spends them moving data rather than multiplying. On plain ops ' +
        `ConvNeXt-T would dispatch ${ev.convnextPlain.ops} ops writing ${MB(ev.convnextPlain.bytesWritten)}, ${plainWords}` +
        (!faster
          ? ', and even with its fused kernels ConvNeXt-T does not come out ahead in this run.'
          : similar
            ? ', so what puts ConvNeXt-T ahead on this CPU is mostly the fused kernels, i.e. the implementation more than the architecture: the ' +
              `paper's V100 margin (${fmt((paperC.throughput / paperS.throughput - 1) * 100, 1)}%) was measured with PyTorch's GPU kernels on both sides.`
            : bytesRatio < 1
              ? ', so both count here: the fused kernels, and a network that moves less data even on plain ops.'
              : ', so its lead here comes from the fused kernels alone.')
      : `**Why:** the fused native kernels are off in this run (see 00-environment), so ConvNeXt-T and Swin-T both run on plain TensorFlow.js ops: ` +
        `${ev.convnextPlain.ops} ops writing ${MB(ev.convnextPlain.bytesWritten)} against ${ev.swin.ops} ops writing ${MB(ev.swin.bytesWritten)} for one ${size}² image. ` +
        'Swin-T\'s reshapes and transposes (window partition and reverse, cyclic shift) and its attention maps are memory traffic that the same ' +
        'MACs in convolutions and Linears do not need.';
    lines.push(why);
  }
  return lines.join('\n');
}

/** One line on the other pairs: which model of each size class was fastest at each batch size. */
export function transformerRanking(speed: SpeedResult[]): string {
  const classes: Array<[string, string[]]> = [
    ['T-sized (4.5–4.6 GFLOPs)', ['convnext_tiny', 'swin_tiny_patch4_window7_224', 'vit_small_patch16_224']],
    ['B-sized (15.4–17.6 GFLOPs)', ['convnext_base', 'swin_base_patch4_window7_224', 'vit_base_patch16_224']],
  ];
  const batches = [...new Set(speed.map((r) => r.batchSize))].sort((a, b) => a - b);
  const lines: string[] = [];
  for (const [name, models] of classes) {
    const parts = batches.flatMap((b) => {
      const rows = models.flatMap((m) => speed.filter((r) => r.model === m && r.batchSize === b));
      if (rows.length < 2) return [];
      rows.sort((x, y) => y.stats.imagesPerSecond - x.stats.imagesPerSecond);
      return [`batch ${b}: ${rows.map((r) => `${labelOf(r.model)} ${fmt(r.stats.imagesPerSecond, 1)}`).join(' > ')}`];
    });
    if (parts.length) lines.push(`* **${name}**, images/s: ${parts.join('; ')}.`);
  }
  return lines.join('\n');
}
