/**
 * The notebooks' helpers: prose generated from a run's numbers, the "Running this notebook" block, and the
 * rows, traces and run logic the notebook cells call (hand-computed cases, no training).
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROADMAP, roadmapStep, type RoadmapStep } from '../src/convnext';
import type { RunRecord } from '../src/experiments/cached-run';
import { type AblationResult, ablationBudget, benchmarkRun, reportedTop1, tinyConfig } from '../src/experiments/recipe-report';
import { compareTrends, replayPlan, type ReplayPlan, type ReplayResult } from '../src/experiments/roadmap-replay';
import { ABLATION_SETTINGS, type AblationRuns, type RowSummary, meanStd } from '../src/experiments/study-ablation';
import { type BenchFile, benchCaseRows, benchSummaryText, latestFullBench, realDataRows } from '../src/notebook/bench';
import { type FamilyCount, matchesPaper, throughputBars } from '../src/notebook/family';
import { fmt, listWords, mdText, runningThisNotebookText, signed } from '../src/notebook/markdown';
import { paperRow } from '../src/notebook/paper';
import { ablationFindings, benchmarkRows, twoSigmaPoints } from '../src/notebook/recipe';
import { type StepCount, flopsAgreementText, flopsGapPercent, replayFindings, verdictLines } from '../src/notebook/roadmap';
import { ablationTimingText, bestModuleRow } from '../src/notebook/study';
import type { TrainConfig } from '../src/train/config';
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

  it('draws one bar series per batch size', () => {
    const r = (model: string, batchSize: number, imagesPerSecond: number) =>
      ({ model, batchSize, imagesPerSecond, size: 64, iterations: 1, msPerBatch: 1, outputShape: [batchSize, 1000] });
    const traces = throughputBars([r('convnext_atto', 1, 10), r('convnext_atto', 8, 40), r('convnext_tiny', 1, 2), r('convnext_tiny', 8, 5)]);
    assert.deepEqual(traces.map((t) => [t.name, t.x, t.y]), [
      ['batch 1', ['atto', 'tiny'], [10, 2]],
      ['batch 8', ['atto', 'tiny'], [40, 5]],
    ]);
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

  it('writes the replay\'s findings from its results', () => {
    const s = (id: string) => ROADMAP.find((x) => x.id === id)!;
    const result = (id: string, top1: number, trainMinutes: number, cached: boolean): ReplayResult => ({
      step: s(id), config: {} as TrainConfig, runDir: id, cached, params: 0, macs: 0, top1, trainMinutes, evalImagesPerSec: 0,
    });
    const replay = [result('01-resnet50', 40, 1.5, true), result('02-stage-ratio', 45, 2.25, false), result('03-patchify-stem', 44.9, 0.5, true)];
    const trends = compareTrends(replay, 6000);
    // 02 vs 01: +5.0 against 2σ = 200·sqrt(2·0.425·0.575/6000) = 1.805; 03 vs 02: −0.1, within noise.
    close(trends[0].noise, 200 * Math.sqrt((2 * 0.425 * 0.575) / 6000));
    assert.deepEqual(trends.map((t) => t.verdict), ['agrees', 'within noise']);
    const plan = { ...replayPlan('quick'), trainImages: 6000, valImages: 6000, epochs: 2, batchSize: 64 } as ReplayPlan;
    const text = replayFindings(replay, trends, plan).replace(/\n(?![*\n])/g, ' ');
    const paper02 = s('02-stage-ratio').paper.top1! - s('01-resnet50').paper.top1!;
    assert.ok(text.includes('3 runs, 4.3 minutes of training in all'), text);
    assert.ok(text.includes('2 of 3 read from the cache'), text);
    assert.ok(text.includes('12,000 training images (186 updates)'), text);
    assert.ok(text.includes('between 40.0% and 45.0%'), text);
    assert.ok(text.includes('exceed about ±1.8 points'), text);
    assert.ok(text.includes(`**Agrees with the paper beyond the noise:** 02 stage ratio (ours +5.0, paper ${signed(paper02)})`), text);
    assert.ok(text.includes('**Goes the other way beyond the noise:** none.'), text);
    assert.ok(text.includes('**Within the noise:** 03.'), text);
    assert.ok(text.includes('reaches 40.0% and "patchify" stem (03) 44.9%, above it'), text);
    assert.ok(text.includes('slowest 02 stage ratio (2.3 min), fastest 03 "patchify" stem (0.5 min)'), text);
    assert.equal(verdictLines(trends), 'agrees: 02\nopposite: —\npaper flat: —\nwithin noise: 03');
  });

  it('plans the replay\'s image counts from its settings', () => {
    const q = replayPlan('quick');
    assert.equal(q.trainImages, 6000);
    assert.equal(q.valImages, 6000);
    assert.equal(q.epochs, 2);
    assert.equal(q.batchSize, 64);
    assert.equal(replayPlan('smoke').valImages, 20);
    assert.equal(replayPlan('full').valImages, 50_000);
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
