/**
 * The notebooks' helpers: prose generated from a run's numbers, the "Running this notebook" block, and the
 * rows, traces and run logic the notebook cells call (hand-computed cases, no training).
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROADMAP, roadmapStep, type RoadmapStep } from '../../src/convnext';
import type { RunRecord } from '../../src/experiments/cached-run';
import { type AblationResult, ablationBudget, benchmarkRun, reportedTop1, tinyConfig } from '../../src/experiments/recipe-report';
import { DECISIVE_TRANSITIONS, compareTrends, estimateReplayMinutes, replayPlan, type ReplayPlan, type ReplayResult } from '../../src/experiments/roadmap-replay';
import { configHash } from '../../src/train/config';
import { ABLATION_SETTINGS, type AblationRuns, type RowSummary, meanStd } from '../../src/experiments/study-ablation';
import { type BenchFile, benchCaseRows, benchSummaryText, latestFullBench, realDataRows } from '../../src/notebook/bench';
import {
  type FamilyCount, FAMILY_BENCH, familyBenchModesText, familyScatterLayout, logAxisTicks, matchesPaper, throughputBars, throughputFindings,
  throughputRows,
} from '../../src/notebook/family';
import type { SpeedResult } from '../../src/notebook/speed';
import {
  type KernelEvidence, type TransformerCount, TRANSFORMER_BENCH, TRANSFORMER_COMPARISON, transformerRanking, transformerRows, transformerVerdict,
} from '../../src/notebook/transformers';
import { timingStats } from '../../src/util/timing';
import { fmt, listWords, mdText, runningThisNotebookText, signed } from '../../src/notebook/markdown';
import { paperRow } from '../../src/notebook/paper';
import { ablationFindings, benchmarkRows, twoSigmaPoints } from '../../src/notebook/recipe';
import { type StepCount, flopsAgreementText, flopsGapPercent, replayFindings, verdictLines } from '../../src/notebook/roadmap';
import { ablationTimingText, bestModuleRow } from '../../src/notebook/study';
import type { TrainConfig } from '../../src/train/config';
type EpochRecord = RunRecord['metrics'][number];

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} ≠ ${b}`);

describe('notebook prose', () => {
  it('formats numbers as the tables do, with a true minus sign for differences', () => {
    assert.equal(fmt(1234.567, 1), '1,234.6');
    assert.equal(fmt(undefined), '—');
    assert.equal(fmt(NaN), '—');
    assert.equal(signed(3.14), '+3.1');
    assert.equal(signed(-2.94), '−2.9');
    assert.equal(signed(-0.04), '0.0');
    assert.equal(listWords([]), '—');
    assert.equal(listWords(['a', 'b', 'c']), 'a, b and c');
    assert.equal(mdText`top-1 ${fmt(80.844, 2)}% in ${3} epochs`, 'top-1 80.84% in 3 epochs');
  });

  it('renders one "Running this notebook" block, naming the notebook, the mode of this run and extra notes', () => {
    const text = runningThisNotebookText('03-training-recipe', { mode: 'smoke', notes: ['Runs are cached.'] });
    const lines = text.split('\n');
    assert.ok(lines.every((l) => l.startsWith('>')), text);
    assert.ok(text.includes('`npm run report -- --only 03` executes it headless into `reports/03-training-recipe.html`'));
    assert.ok(text.includes('`smoke` (seconds, what the tests run) | `quick` (default) | `full` (paper scale)'));
    assert.ok(text.includes('this run: **`smoke`**'));
    assert.equal(lines[lines.length - 2], '>');
    assert.equal(lines[lines.length - 1], '> Runs are cached.');
    const custom = runningThisNotebookText('02-modernization-roadmap', { mode: 'quick', modes: { smoke: 'three steps' } });
    assert.ok(custom.includes('`smoke` (three steps) | `quick` (default)'));
  });
});

describe('notebook 01 helpers', () => {
  it('checks our exact counts against the figures the paper rounds to', () => {
    const tiny: FamilyCount = { model: 'convnext_tiny', size: 224, params: 28_589_128, macs: 4_455_110_656, paper: paperRow('convnext_tiny', 224) };
    assert.equal(matchesPaper(tiny), 'yes');
    // 45.12G rounds to 45.1, the paper's ImageNet-1K row prints 45.0.
    const base384: FamilyCount = { model: 'convnext_base', size: 384, params: 88_591_464, macs: 45_122_117_632, paper: paperRow('convnext_base', 384) };
    assert.equal(matchesPaper(base384), 'NO');
    assert.equal(matchesPaper({ ...tiny, paper: undefined }), '—');
  });

  /** A speed result whose timed passes took `ms` milliseconds each (median, min, max follow from them). */
  const speed = (model: string, batchSize: number, ms: number[], load = [1.5]): SpeedResult =>
    ({ model, size: 224, batchSize, stats: timingStats(ms, batchSize), load });
  const count = (model: string, gmacs: number): FamilyCount => ({ model, size: 224, params: 1e6, macs: gmacs * 1e9 });

  it('draws one bar series per batch size: median images/s with the min–max as error bars', () => {
    // atto b1: 100, 80, 125 ms → median 100 ms = 10 img/s, range 8–12.5.
    const traces = throughputBars([speed('convnext_atto', 1, [100, 80, 125]), speed('convnext_atto', 8, [200]),
      speed('convnext_tiny', 1, [500]), speed('convnext_tiny', 8, [1600])]);
    assert.deepEqual(traces.map((t) => [t.name, t.x, t.y]), [
      ['batch 1', ['atto', 'tiny'], [10, 2]],
      ['batch 8', ['atto', 'tiny'], [40, 5]],
    ]);
    const err = traces[0].error_y as { array: number[]; arrayminus: number[] };
    close(err.array[0], 2.5);
    close(err.arrayminus[0], 2);
  });

  it('shows the median with its min–max, the number of timed passes and the load in the throughput table', () => {
    const [row] = throughputRows([speed('convnext_tiny', 8, [400, 500, 1000, 390], [3.2, 4.75])]);
    assert.equal(row['ms per batch: median (min–max)'], '450.0 (390.0–1,000.0)');
    close(row['images/s (ours)'] as number, 8000 / 450);
    assert.equal(row['images/s (paper)'], 774.7);
    assert.equal(row['images/s min–max'], '8.0–20.5');
    assert.equal(row['timed passes'], 4);
    assert.equal(row['load average (1 min)'], '3.20–4.75');
  });

  it('flags variants out of MAC order and batches slower per image, inside or outside the spread, and a busy machine', () => {
    const counted = [count('convnext_atto', 0.55), count('convnext_femto', 0.79), count('convnext_tiny', 4.47)];
    const text = throughputFindings([
      // batch 1: atto 50 img/s (40–66.7) is slower than femto 55.6 (50–62.5): overlapping ranges.
      speed('convnext_atto', 1, [20, 25, 15], [3.5]), speed('convnext_femto', 1, [18, 16, 20], [2.0]), speed('convnext_tiny', 1, [100]),
      // batch 8: atto 160, femto 200 with disjoint ranges; tiny at batch 8 is 8 img/s, below its 10 at batch 1, disjoint.
      speed('convnext_atto', 8, [50]), speed('convnext_femto', 8, [40]), speed('convnext_tiny', 8, [1000]),
    ], counted, 2);
    assert.equal(text, [
      '* **Load average while measuring: 1.50–3.50** on 2 cores (1-minute `os.loadavg()` as each round began); above the core count, ' +
        'so other work shared the CPU and the figures can be off by tens of percent.',
      '* **Out of MAC order:** femto faster than atto at batch 1 (55.6 against 50.0 images/s; within the spread of the passes) and femto ' +
        'faster than atto at batch 8 (200.0 against 160.0 images/s; outside the spread of the passes). Inside the spread, the order is noise; ' +
        'outside it, either the machine\'s load changed between the two measurements or the smaller variant uses the CPU less well.',
      '* **Slower per image at a larger batch:** tiny at batch 8 (8.0 against 10.0 images/s at batch 1; outside the spread).',
    ].join('\n'));
    const calm = throughputFindings([speed('convnext_atto', 1, [10], [0.5]), speed('convnext_tiny', 1, [50], [0.7]),
      speed('convnext_atto', 8, [40], [0.5]), speed('convnext_tiny', 8, [200], [0.7])], counted, 2);
    assert.equal(calm, [
      '* **Load average while measuring: 0.50–0.70** on 2 cores (1-minute `os.loadavg()` as each round began).',
      '* **Throughput falls as the MACs grow** at every batch size measured, variant after variant.',
      '* **A larger batch is never slower per image** than batch 1 here.',
    ].join('\n'));
  });

  it('writes the table of modes from the plans themselves', () => {
    const text = familyBenchModesText();
    assert.ok(text.includes('| smoke | atto | 64² | 2 | 1 untimed + 2 timed passes, × 1 round |'), text);
    assert.ok(text.includes('| quick | atto, femto, pico, nano, tiny | 224² | 1, 8 | 1 untimed + ≥ 3 (≤ 20) timed passes and ≥ 1 s, × 2 rounds |'), text);
    assert.equal(FAMILY_BENCH.full.models.length, 9);
  });

  it('ticks the log-log chart at 1-2-5 over the data, with no minor ticks', () => {
    const t = logAxisTicks(3.7, 350);
    assert.deepEqual(t.tickvals, [2, 5, 10, 20, 50, 100, 200, 500]);
    assert.deepEqual(t.ticktext, ['2', '5', '10', '20', '50', '100', '200', '500']);
    assert.equal(t.minor.ticks, '');
    assert.deepEqual(logAxisTicks(0.55, 60.9).tickvals, [0.5, 1, 2, 5, 10, 20, 50, 100]);
    assert.deepEqual(logAxisTicks(10, 10).tickvals, [10]);
    assert.throws(() => logAxisTicks(0, 1), /not positive/);
    const layout = familyScatterLayout([count('convnext_atto', 0.55), { ...count('convnext_tiny', 4.47), params: 28.6e6 }]);
    const x = layout.xaxis as { type: string; tickvals: number[]; title: { text: string } };
    assert.equal(x.type, 'log');
    assert.deepEqual(x.tickvals, [1, 2, 5, 10, 20, 50]);
    assert.equal(x.title.text, 'parameters (M, log scale)');
  });
});

describe('notebook 01: ConvNeXt against the Transformers', () => {
  const cx = 'convnext_tiny';
  const sw = 'swin_tiny_patch4_window7_224';
  const vs = 'vit_small_patch16_224';
  const speed = (model: string, batchSize: number, ms: number[], load = [2]): SpeedResult =>
    ({ model, size: 224, batchSize, stats: timingStats(ms, batchSize), load });
  const counted: TransformerCount[] = [
    { model: cx, params: 28_589_128, macs: 4.4555e9, macsMeasured: 4.4555e9 },
    { model: sw, params: 28_288_354, macs: 4.4906e9, macsMeasured: 4.4906e9 },
  ];
  const ev: KernelEvidence = {
    convnext: { model: cx, ops: 24, bytesWritten: 11.3e6, byKind: [['Reshape', 7]] },
    convnextPlain: { model: cx, ops: 642, bytesWritten: 489.7e6, byKind: [] },
    swin: { model: sw, ops: 672, bytesWritten: 548.6e6, byKind: [['Reshape', 262], ['Transpose', 63], ['BatchMatMul', 76], ['SplitV', 20], ['Concat', 20], ['Softmax', 12]] },
    nativeOn: true,
  };

  it('quotes Table 1 for the six models and measures the T-sized three in smoke mode', () => {
    assert.deepEqual(TRANSFORMER_COMPARISON.map((r) => [r.label, r.throughput, r.top1]), [
      ['ConvNeXt-T', 774.7, 82.1], ['Swin-T', 757.9, 81.3], ['ViT-S/16', 978.5, 79.8],
      ['ConvNeXt-B', 292.1, 83.8], ['Swin-B', 286.6, 83.5], ['ViT-B/16', 302.1, 81.8],
    ]);
    assert.deepEqual(TRANSFORMER_BENCH.smoke.models, [cx, sw, vs]);
    assert.deepEqual(TRANSFORMER_BENCH.quick.batches, [1, 16]);
    assert.equal(TRANSFORMER_BENCH.quick.models.length, 6);
  });

  it('puts our counts beside the paper\'s, and our images/s with their min–max and GMAC/s per batch size', () => {
    const rows = transformerRows(counted, [speed(cx, 1, [50, 40, 60]), speed(cx, 16, [800]), speed(sw, 1, [100])]);
    assert.equal(rows.length, 6);
    const [c, s, v] = rows;
    assert.equal(c.model, 'ConvNeXt-T');
    assert.equal(c['params, M (paper)'], 29);
    close(c['params, M (ours)'] as number, 28.589128);
    close(c['CPU images/s, batch 1 (ours)'] as number, 20);
    assert.equal(c['batch 1 min–max'], '16.7–25.0');
    close(c['GMAC/s, batch 16 (ours)'] as number, 4.4555 * 20);
    assert.equal(s['CPU images/s, batch 16 (ours)'], null);
    assert.equal(s['batch 16 min–max'], '—');
    assert.equal(v['Table 1 name'], 'DeiT-S');
    assert.equal(v['params, M (ours)'], null);
  });

  it('says plainly whether ConvNeXt-T is at least as fast as Swin-T, per batch size, with the spread and why', () => {
    const text = transformerVerdict([speed(cx, 1, [50, 45, 55], [3.1]), speed(sw, 1, [100, 90, 110], [3.4]),
      speed(cx, 16, [800]), speed(sw, 16, [1600])], counted, ev);
    const lines = text.split('\n');
    assert.equal(lines[0], '**The paper\'s claim holds on this CPU.** Table 1 has ConvNeXt-T at 774.7 and Swin-T at 757.9 images/s on a V100 (quoted); here, at 224²:');
    assert.equal(lines[2], '* batch 1: ConvNeXt-T **20.0** images/s (min–max 18.2–22.2) against Swin-T\'s **10.0** (9.1–11.1): ' +
      'ConvNeXt-T is **2.00×** as fast; the ranges do not overlap.');
    assert.ok(text.includes('4.46 against 4.49 GMACs per image'), text);
    assert.ok(text.includes('at batch 16 ConvNeXt-T sustains 89.1 GMAC/s and Swin-T 44.9 GMAC/s'), text);
    assert.ok(text.includes('load average while these were timed: 2.00–3.40'), text);
    assert.ok(text.includes('only 24 ops for ConvNeXt-T'), text);
    assert.ok(text.includes('672 of them per image (262 Reshape, 63 Transpose, 76 BatchMatMul, 20 SplitV, 20 Concat and 12 Softmax)'), text);
    assert.ok(text.includes('642 ops writing 490 MB, about as much as Swin-T (0.89×), so what puts ConvNeXt-T ahead'), text);
    assert.ok(text.includes('V100 margin (2.2%)'), text);

    const mixed = transformerVerdict([speed(cx, 1, [100, 90, 110]), speed(sw, 1, [95]), speed(cx, 16, [800]), speed(sw, 16, [1600])], counted);
    assert.ok(mixed.startsWith('**The paper\'s claim holds on this CPU at batch 16 but not at batch 1.**'), mixed);
    assert.ok(mixed.includes('the two ranges overlap, so at this batch size the order is within run-to-run noise'), mixed);
    assert.ok(!mixed.includes('**Why:**'));
    assert.ok(!mixed.includes('Measured at'));
    const small = transformerVerdict([{ ...speed(cx, 1, [10]), size: 64 }, { ...speed(sw, 1, [40]), size: 64 }], counted,
      { ...ev, convnextPlain: { ...ev.convnextPlain, bytesWritten: 200e6 } });
    assert.ok(small.includes('Measured at 64², not the paper\'s 224²'), small);
    assert.ok(small.includes('0.36× Swin-T\'s bytes, so both count here: the fused kernels, and a network that moves less data even on plain ops.'), small);
    const noisy = transformerVerdict([speed(cx, 1, [50, 20, 200]), speed(sw, 1, [60])], counted);
    assert.ok(noisy.startsWith('**The paper\'s claim holds on this CPU by the medians, but the spread of the timed passes is wider than the gap ' +
      'at every batch size, so this run alone does not settle it.**'), noisy);
    const no = transformerVerdict([speed(cx, 1, [100]), speed(sw, 1, [50])], counted, { ...ev, nativeOn: false });
    assert.ok(no.startsWith('**The paper\'s claim does not hold on this CPU.**'), no);
    assert.ok(no.includes('the fused native kernels are off in this run'), no);
    assert.throws(() => transformerVerdict([speed(cx, 1, [1])], counted), /not both measured/);
  });

  it('ranks each size class at each batch size', () => {
    const text = transformerRanking([speed(cx, 1, [50]), speed(sw, 1, [100]), speed(vs, 1, [40]), speed('convnext_base', 1, [200])]);
    assert.equal(text, '* **T-sized (4.5–4.6 GFLOPs)**, images/s: batch 1: ViT-S/16 25.0 > ConvNeXt-T 20.0 > Swin-T 10.0.');
  });
});

describe('notebook 02 helpers', () => {
  const step = (id: string, gflops: number): RoadmapStep => ({ ...roadmapStep('01-resnet50'), id, title: `step ${id}`, paper: { gflops } });
  const count = (macs: number): StepCount => ({ params: 0, macs, parts: { stem: 0, blocks: 0, shortcuts: 0, downsampling: 0, head: 0 }, layout: [] });

  it('says how many steps land near the paper\'s FLOPs and which do not', () => {
    close(flopsGapPercent(4.146e9, 4.46), -7.0403587443946);
    const steps = [step('01-a', 4.5), step('02-b', 4.15), step('03-c', 4.46)];
    const built = new Map([['01-a', count(4.5e9)], ['02-b', count(4.14e9)], ['03-c', count(4.146e9)]]);
    // Gaps: 0%, −0.24%, −7.04%.
    assert.equal(flopsAgreementText(built, steps),
      '2 of the 3 steps land within 0.24% of the paper\'s FLOPs (1 within 0.00%). Step 03 (step 03-c) is 7.0% below the paper.');
  });

  it('writes the replay\'s findings from its results, transition by transition over seeds', () => {
    const s = (id: string) => ROADMAP.find((x) => x.id === id)!;
    const result = (id: string, seeds: number[], trainMinutes: number, cachedRuns: number): ReplayResult => ({
      step: s(id), config: {} as TrainConfig, runDir: id, cached: cachedRuns === seeds.length, cachedRuns, params: 0, macs: 0,
      top1: meanStd(seeds).mean, top1Stat: meanStd(seeds), top1Seeds: seeds, trainMinutes, evalImagesPerSec: 0,
    });
    const replay = [result('01-resnet50', [40, 41, 42], 1.5, 3), result('02-stage-ratio', [45, 46, 47], 2.25, 0), result('03-patchify-stem', [44, 46, 48], 0.5, 3)];
    const plan = { ...replayPlan('smoke'), trainImages: 6000, valImages: 6000, epochs: 2, batchSize: 64 } as ReplayPlan;
    const trends = compareTrends(replay, plan.transitions);
    // 02 − 01: +5.0, SE = sqrt(1/3 + 1/3) = 0.816, resolved; 03 − 02: 0.0 ± sqrt(4/3 + 1/3) = 1.29, not resolved.
    close(trends[0].se, Math.sqrt(2 / 3));
    close(trends[0].noise, 2 * Math.sqrt(2 / 3));
    assert.deepEqual(trends.map((t) => t.verdict), ['reproduces', 'not resolved']);
    const text = replayFindings(replay, trends, plan).replace(/\n(?![*\n])/g, ' ');
    const paper02 = s('02-stage-ratio').paper.top1! - s('01-resnet50').paper.top1!;
    assert.ok(text.includes('3 steps × 2 seeds = 9 runs, 4.3 minutes of training in all'), text);
    assert.ok(text.includes('6 of 9 read from the cache'), text);
    assert.ok(text.includes('12,000 training images (186 updates)'), text);
    assert.ok(text.includes('between 41.0% and 46.0%'), text);
    assert.ok(text.includes('std of a step\'s top-1 is 1.0–2.0 points'), text);
    assert.ok(text.includes(`**Reproduces the paper's direction:** stage ratio (01→02; ours +5.0 ± 0.8, paper ${signed(paper02)})`), text);
    assert.ok(text.includes('**Reverses it:** none.'), text);
    assert.ok(text.includes('**Not resolved here** (within 2·SE): "patchify" stem (02→03; ours 0.0 ± 1.3'), text);
    assert.ok(text.includes('reaches 41.0 ± 1.0% and "patchify" stem (03) 46.0 ± 2.0%, above it'), text);
    assert.equal(verdictLines(trends), 'reproduces: 01→02\nreverses: —\npaper flat: —\nnot resolved: 02→03');
  });

  it('plans the replay\'s budget per mode: the decisive transitions × 3 seeds in quick mode', () => {
    const q = replayPlan('quick');
    assert.equal(q.trainImages, 6_000);
    assert.equal(q.valImages, 10_000);
    assert.equal(q.epochs, 2);
    assert.equal(q.batchSize, 64);
    assert.deepEqual(q.seeds, [0, 1, 2]);
    assert.deepEqual(q.steps.map((x) => x.id.slice(0, 2)), ['01', '02', '03', '05', '06', '07', '09', '13', '14', '15', '16']);
    assert.deepEqual(q.transitions.map((t) => t.key), DECISIVE_TRANSITIONS.map((t) => t.key));
    assert.equal(q.runs.length, 33);
    assert.equal(new Set(q.runs.map((r) => configHash(r.config))).size, 33, 'one cached run per step and seed');
    assert.equal(q.runs[1].config.recipe?.seed, 1);
    // Estimated from the measured 0.22–1.71 ms per training image.
    const e = estimateReplayMinutes(q);
    const images = 6_000 * 2 + 10_000 / 3;
    close(e.low, (33 * images * 0.22) / 60_000);
    close(e.high, (33 * images * 1.71) / 60_000);
    const smoke = replayPlan('smoke');
    assert.equal(smoke.valImages, 20);
    assert.deepEqual(smoke.transitions.map((t) => t.key), ['stage-ratio', 'patchify']);
    const full = replayPlan('full');
    assert.equal(full.valImages, 50_000);
    assert.equal(full.transitions.length, 15, 'every step against its parent');
  });
});

/** A finished run record with one epoch and an evaluation. */
function fakeRun(dir: string, o: { top1: number; ema?: number; count?: number; trainLoss?: number; epochs?: number; rate?: number; seconds?: number }): RunRecord & { cached: boolean } {
  const summary = (top1: number) => ({ count: o.count ?? 3000, top1, top5: 1, loss: 1, imagesPerSec: 500, perClass: [], macro: { precision: 0, recall: 0, f1: 0 }, confusion: [] });
  return {
    dir, cached: true, finished: true,
    metrics: [{ epoch: 1, step: 10, lr: 0, trainLoss: o.trainLoss ?? 1, trainTop1: null, trainSeconds: o.seconds ?? 20, trainImagesPerSec: o.rate ?? 500 } as EpochRecord],
    summary: { final: {} as never, trainMinutes: 1, epochsDone: o.epochs ?? 3 },
    eval: { classes: Array.from({ length: 10 }, (_, i) => `c${i}`), model: summary(o.top1), ...(o.ema !== undefined ? { ema: summary(o.ema) } : {}) },
  };
}

describe('notebook 03 helpers', () => {
  const ablation = (name: string, optimizer: 'adamw' | 'sgd', r: RunRecord & { cached: boolean }, evalEma = false): AblationResult => ({
    a: { name, change: name, config: { model: {}, data: {}, recipe: { optimizer, evalEma } } as TrainConfig }, r, top1: reportedTop1(r, evalEma),
  });

  it('reports the better of live and EMA weights only for runs that evaluate the EMA', () => {
    const r = fakeRun('x', { top1: 0.199, ema: 0.212 });
    assert.equal(reportedTop1(r, true), 0.212);
    assert.equal(reportedTop1(r, false), 0.199);
  });

  it('writes the ablation\'s findings from its results', () => {
    const results = [
      ablation('paper', 'adamw', fakeRun('p', { top1: 0.199, ema: 0.2 }), true),
      ablation('no-mixup', 'adamw', fakeRun('m', { top1: 0.35 })),
      ablation('sgd', 'sgd', fakeRun('s', { top1: 0.1, trainLoss: 1.2e10 })),
    ];
    // Mean top-1 (0.2 + 0.35 + 0.1) / 3 = 0.21667 on 3,000 images: 2σ = 200·sqrt(2·0.21667·0.78333/3000) = 2.13 points.
    close(twoSigmaPoints(0.65 / 3, 3000), 2.1274, 1e-3);
    const text = ablationFindings(results);
    assert.ok(text.startsWith('**This run:** 10,000 training images × 3 epoch(s), 3,000 test images, one seed; ' +
      'two binomial standard errors of a difference are about ±2.1 points here.'), text);
    assert.ok(text.includes('**Against the paper\'s recipe (20.0%):** no-mixup +15.0, sgd −10.0 points; beyond the noise: no-mixup and sgd.'), text);
    assert.ok(text.includes('**AdamW rows:** best no-mixup (35.0%), weakest paper (20.0%).'), text);
    assert.ok(text.includes('live / EMA weights reach 19.9% / 20.0%'), text);
    assert.ok(text.includes('**SGD:** top-1 10.0% (chance: 10%), final training loss 1.2e+10.'), text);
  });

  it('reuses a finished benchmark run outside smoke mode, with its flip-TTA evaluation', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convnext-bench-run-'));
    try {
      const run = fakeRun(dir, { top1: 0.8084 });
      fs.writeFileSync(path.join(dir, 'eval.json'), JSON.stringify(run.eval));
      fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ ...run.summary, trainMinutes: 29.5, epochsDone: 10 }));
      fs.writeFileSync(path.join(dir, 'metrics.json'), JSON.stringify(run.metrics));
      fs.writeFileSync(path.join(dir, 'eval-cifar10-flip-tta.json'), JSON.stringify({ ...run.eval, model: { ...run.eval!.model, top1: 0.8212 } }));
      const b = await benchmarkRun({ model: {}, data: {} } as TrainConfig, 'quick', { mainDir: dir, cacheRoot: path.join(dir, 'cache'), trainRoot: 'unused/train' });
      assert.equal(b.reused, true);
      assert.equal(b.message, `reusing the finished benchmark run in ${dir} (trained 29.5 min); not retraining`);
      close(b.tta!.top1, 0.8212);
      const rows = benchmarkRows(b);
      assert.equal(rows[0]['value (ours)'], 80.84);
      close(rows[1]['value (ours)'] as number, 82.12);
      assert.equal(rows[4]['value (ours)'], '10 × 10000');
      assert.ok(!fs.existsSync(path.join(dir, 'cache')), 'nothing was trained');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cuts the benchmark to the ablation budget of each mode', () => {
    const benchmark = { model: { name: 'm' }, data: { name: 'cifar10' }, recipe: { epochs: 10, warmupSteps: 150 } } as TrainConfig;
    const quick = ablationBudget(benchmark, 'quick', 'data/cifar10/train');
    assert.deepEqual([quick.data.perClass, quick.data.valPerClass, quick.recipe!.epochs, quick.recipe!.warmupSteps], [1000, 300, 3, 30]);
    const smoke = ablationBudget(benchmark, 'smoke', 'data/cifar10/train');
    assert.deepEqual(smoke, tinyConfig(benchmark, 'data/cifar10/train', 4, 2));
    assert.equal(smoke.data.val, 'data/cifar10/test');
    assert.equal(benchmark.recipe!.epochs, 10, 'the benchmark config is not modified');
  });
});

describe('notebook 04 helpers', () => {
  const stat = (mean: number) => meanStd([mean]);
  const row = (key: string, valAcc: number, rate: number): RowSummary => ({
    key, label: key, params: 0, macs: 0, trainLoss: stat(1), trainAcc: stat(1), valLoss: stat(1), valAcc: stat(valAcc),
    trainImagesPerSec: stat(rate), evalImagesPerSec: stat(1),
  });

  it('says how long the ablation trained and how fast the attention rows run against the plain model', () => {
    const r = (minutes: number, cached: boolean) => ({ ...fakeRun('r', { top1: 0.5 }), cached, summary: { final: {} as never, trainMinutes: minutes, epochsDone: 5 } });
    const runs = {
      rows: { convnext: [r(2, true), r(2, false)], cbam: [r(4, true)], se_ff: [r(3.5, true)], ff: [r(1, true)] },
      pretrain: r(1.5, true), transfer: [r(2, true)],
    } as unknown as AblationRuns;
    const rows = [row('convnext', 0.7, 300), row('cbam', 0.72, 150), row('se_ff', 0.69, 120), row('ff', 0.6, 280)];
    assert.equal(ablationTimingText(runs, rows, ABLATION_SETTINGS.quick),
      '**This run (quick mode):** 7 training runs (pretraining included), 16.0 minutes of training in all as measured when each ' +
      'run trained (6 of them read back from `runs/study-ablation/`). The plain model trains at 300 images/s at batch 64, ' +
      'the rows with attention modules at 120–150 images/s (0.40–0.50× the plain rate).');
    const best = bestModuleRow([...rows, row('transfer', 0.9, 1)], runs);
    assert.equal(best.row.key, 'cbam');
    assert.equal(best.runs, runs.rows.cbam);
  });
});

describe('notebook 05 helpers', () => {
  const stats = (median: number, ips: number) => ({ minMs: median - 1, medianMs: median, maxMs: median + 2, imagesPerSecond: ips });
  const bench = (mode: string, backend = 'node'): BenchFile => ({
    mode, createdAt: '2026-11-28T13:51:11Z', machine: { cpu: 'CPU', cores: 2, loadAverageBefore: [0.5] }, software: { backend, torch: '2.13' },
    threads: { torch: 2 }, nativeKernels: { enabled: true },
    cases: [{ case: { name: 'convnext_tiny 224px b1 inference', model: 'convnext_tiny', size: 224, batch: 1, mode: 'eval' },
      ours: { ...stats(86, 11.6), gflops: 100 }, torch: { ...stats(86.5, 11.56), checkMaxAbsDiff: 2.4e-5 }, ratio: 1.006 }],
    realData: [{ case: 'convnext_atto 64px b64 train step', dataset: 'flowers5', loaderWorkers: 1, syntheticImagesPerSecond: 300,
      realImagesPerSecond: 294, ratio: 0.98, blockRatios: [0.98, 0.965, 0.99] }],
  });

  it('picks the newest full CPU bench, skipping subsets and GPU runs', () => {
    const all = [{ file: 'gpu', results: bench('full', 'node-gpu') }, { file: 'sub', results: bench('subset') }, { file: 'a', results: bench('full') }, { file: 'b', results: bench('full') }];
    assert.equal(latestFullBench(all)?.file, 'a');
    assert.equal(latestFullBench([{ file: 'q', results: bench('quick') }]), undefined);
  });

  it('tabulates cases beside PyTorch and the paper, and real-data runs with their block range', () => {
    const [c] = benchCaseRows(bench('full'));
    assert.equal(c['img/s (paper)'], '774.7 (V100 GPU, Table 1)');
    assert.equal(c['step ms (min / median / max)'], '85 / 86 / 88');
    assert.equal(c['|Δ logits| vs PyTorch'], '2.4e-5');
    const [d] = realDataRows(bench('full'));
    assert.equal(d['per block'], '0.96–0.99');
    assert.equal(d.target, '≥ 0.95');
    assert.equal(benchSummaryText('/repo/bench/results/full-x.json', bench('full')), '**In bench/results/full-x.json** (2026-11-28T13:51:11Z):\n\n' +
      '* ours / PyTorch: convnext_tiny 224px b1 inference 1.01× (86 against 87 ms median).\n' +
      '* training on real data / synthetic: convnext_atto 64px b64 train step 0.98.');
  });
});
