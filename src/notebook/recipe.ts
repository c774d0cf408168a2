/** Notebook 03: the recipe's tables and charts, and the prose that reads the ablation's numbers. */
import {
  type AblationResult, type BenchmarkRun, type SweepRun, BENCHMARK_COMMANDS, epochImages, meanTrainRate, recipeRows, sweepRows,
} from '../experiments/recipe-report';
import type { AugmentSettings } from '../train/config';
import type { TrainRecipe } from '../train/recipe';
import type { HeadlineTable } from './headline';
import { fmt, listWords, signed } from './markdown';
import type { Mode } from './mode';
import type { Trace } from './plot';
import { type Row, vsPaper } from './table';

/** The recipe table: every setting, the paper's beside ours. */
export function recipeTableRows(recipe: TrainRecipe, augment: AugmentSettings): Row[] {
  return recipeRows(recipe, augment).map((r) => ({ setting: r.setting, ...vsPaper('value', r.paper, r.ours) }));
}

/** The benchmark's result table (the paper reports no CIFAR-10 figures, so every paper cell is "—"). */
export function benchmarkRows(b: BenchmarkRun): Row[] {
  const { run, tta } = b;
  const ev = run.eval!;
  const s = run.summary!;
  const q = (quantity: string, ours: string | number) => ({ quantity, ...vsPaper('value', null, ours) });
  return [
    q('test top-1 (%)', 100 * ev.model.top1),
    q('test top-1 with flip test-time augmentation (%)', tta ? 100 * tta.top1 : '—'),
    q('test top-5 (%)', 100 * ev.model.top5),
    q('training time (min)', s.trainMinutes),
    q('epochs × images', `${s.epochsDone} × ${epochImages(run)}`),
    q('training images/s', meanTrainRate(run)),
    q('evaluation images/s', ev.model.imagesPerSec),
  ];
}

/** The sweep table, its top-1 as the "ours" column beside an empty paper column. */
export function sweepTableRows(sweep: SweepRun[]): Row[] {
  return sweepRows(sweep).map(({ ['top-1 (%)']: top1, ...r }) => ({ ...r, ...vsPaper('top-1 (%)', null, top1 as number) }));
}

/** The ablation table: each variant's top-1 and its difference to the paper's recipe (the first row). */
export function ablationRows(results: AblationResult[]): Row[] {
  const base = results[0]?.top1 ?? NaN;
  return results.map(({ a, r, top1 }) => ({
    variant: a.name,
    change: a.change,
    ...vsPaper('top-1 (%)', null, 100 * top1),
    'Δ vs paper recipe (points)': 100 * (top1 - base),
    'live / EMA top-1 (%)': r.eval!.ema ? `${(100 * r.eval!.model.top1).toFixed(2)} / ${(100 * r.eval!.ema.top1).toFixed(2)}` : (100 * r.eval!.model.top1).toFixed(2),
    'train min': r.summary!.trainMinutes,
  }));
}

/** The ablation's top-1 as labelled bars. */
export function ablationBars(results: AblationResult[]): Trace[] {
  return [{ type: 'bar', x: results.map((x) => x.a.name), y: results.map((x) => 100 * x.top1),
    text: results.map((x) => (100 * x.top1).toFixed(1)), textposition: 'outside' }];
}

/** Two binomial standard errors (points) of a difference of two accuracies `p` on `n` images each. */
export function twoSigmaPoints(p: number, n: number): number {
  return 2 * 100 * Math.sqrt((2 * p * (1 - p)) / n);
}

/**
 * What the ablation measured, in Markdown, from its results: the budget, the noise band, each row's
 * difference to the paper's recipe, the EMA's effect and the SGD row. `results[0]` is the paper's recipe.
 */
export function ablationFindings(results: AblationResult[]): string {
  if (results.length === 0) return 'No ablation runs.';
  const byName = new Map(results.map((x) => [x.a.name, x]));
  const paper = results[0];
  const n = paper.r.eval!.model.count;
  const meanTop1 = results.reduce((s, x) => s + x.top1, 0) / results.length;
  const noise = twoSigmaPoints(meanTop1, n);
  const delta = (x: AblationResult) => 100 * (x.top1 - paper.top1);
  const others = results.slice(1);
  const beyond = others.filter((x) => Math.abs(delta(x)) > noise);
  const adamw = results.filter((x) => x.a.config.recipe?.optimizer !== 'sgd');
  const best = adamw.reduce((a, b) => (b.top1 > a.top1 ? b : a));
  const worst = adamw.reduce((a, b) => (b.top1 < a.top1 ? b : a));
  const lines = [
    `**This run:** ${fmt(epochImages(paper.r), 0)} training images × ${paper.r.summary!.epochsDone} epoch(s), ${fmt(n, 0)} test images, one seed; ` +
      `two binomial standard errors of a difference are about ±${fmt(noise, 1)} points here.`,
    '',
    `* **Against the paper's recipe (${fmt(100 * paper.top1, 1)}%):** ${others.map((x) => `${x.a.name} ${signed(delta(x))}`).join(', ')} points; ` +
      `beyond the noise: ${listWords(beyond.map((x) => x.a.name), 'none')}.`,
    `* **AdamW rows:** best ${best.a.name} (${fmt(100 * best.top1, 1)}%), weakest ${worst.a.name} (${fmt(100 * worst.top1, 1)}%).`,
  ];
  const ema = paper.r.eval!.ema;
  if (ema) lines.push(`* **EMA:** the paper row's live / EMA weights reach ${fmt(100 * paper.r.eval!.model.top1, 1)}% / ${fmt(100 * ema.top1, 1)}%` +
    (byName.get('no-ema') ? `; the no-EMA run's weights ${fmt(100 * byName.get('no-ema')!.r.eval!.model.top1, 1)}%` +
      `${byName.get('no-ema')!.r.eval!.model.top1 === paper.r.eval!.model.top1 ? ', the same as the paper row\'s live weights' : ''}.` : '.'));
  const sgd = byName.get('sgd');
  if (sgd) {
    const last = sgd.r.metrics[sgd.r.metrics.length - 1];
    const chance = 100 / (sgd.r.eval!.classes.length || 1);
    lines.push(`* **SGD:** top-1 ${fmt(100 * sgd.top1, 1)}% (chance: ${fmt(chance, 0)}%), final training loss ${last ? (last.trainLoss > 1e4 ? last.trainLoss.toExponential(1) : fmt(last.trainLoss, 3)) : '—'}.`);
  }
  return lines.join('\n');
}

/** README's headline CIFAR-10 figures, quoted (2026-12-07, configs/cifar10-quick.yaml on the idle 2-core machine). */
export const README_BENCHMARK = { top1: 84.63, top1FlipTta: 85.45, minutes: 29.5 };

/**
 * The line above the benchmark's table: for the benchmark run, which run it is; for a stand-in, a warning that
 * says so, what README's figure is, and the commands that make the benchmark run.
 */
export function benchmarkNotice(b: BenchmarkRun, m: Mode): string {
  if (!b.standIn) {
    return `**The CIFAR-10 benchmark run** (\`${b.run.dir}\`, ${fmt(b.run.summary?.trainMinutes, 1)} min of training): ${b.message}.` +
      (b.tta ? '' : ` Its flip-TTA row is empty until \`${BENCHMARK_COMMANDS.evalTta}\` has run.`);
  }
  const lines = [
    `> **⚠ Stand-in, not the benchmark (${m} mode).** ${b.message.replace(/^STAND-IN, not the benchmark: /, '').replace(/^./, (c) => c.toUpperCase())}.`,
    `> The figures below are this stand-in's, not README's ${fmt(README_BENCHMARK.top1, 2)}% (${fmt(README_BENCHMARK.top1FlipTta, 2)}% with flip TTA, ` +
      `a ${fmt(README_BENCHMARK.minutes, 1)}-minute run).`,
  ];
  if (m === 'smoke') {
    lines.push('> Smoke mode always trains the tiny stand-in; run the report in quick mode to see the benchmark.');
  } else {
    lines.push(`> To show the benchmark: \`${BENCHMARK_COMMANDS.report}\` (trains it first, about 30 minutes), or`,
      `> \`${BENCHMARK_COMMANDS.train}\` then \`${BENCHMARK_COMMANDS.evalTta}\`, then \`npm run report\`.`);
  }
  return lines.join('\n');
}

/** Notebook 03's headline tables: the benchmark (or its stand-in) and the recipe ablation's end rows. */
export function recipeHeadline(b: BenchmarkRun, results: AblationResult[], m: Mode): { tables: HeadlineTable[]; standIn?: string } {
  const ev = b.run.eval!;
  const r2 = (x: number | undefined) => (x === undefined ? null : Number((100 * x).toFixed(2)));
  const what = b.standIn ? `stand-in (${b.message.replace(/^STAND-IN, not the benchmark: /, '')})` : 'the benchmark run';
  const tables: HeadlineTable[] = [{
    caption: `CIFAR-10 benchmark (convnext_cifar_ols, ${m} mode): ${b.standIn ? 'STAND-IN, not the benchmark' : 'the benchmark run'}`,
    columns: ['quantity', 'paper', 'study', 'README (quoted, 2026-11-28)', `ours, ${b.standIn ? 'stand-in' : 'this run'}`],
    rows: [
      ['test top-1 (%)', '—', '—', README_BENCHMARK.top1, r2(ev.model.top1)],
      ['test top-1, flip TTA (%)', '—', '—', README_BENCHMARK.top1FlipTta, r2(b.tta?.top1)],
      ['training time (min)', '—', '—', README_BENCHMARK.minutes, b.run.summary ? Number(b.run.summary.trainMinutes.toFixed(1)) : null],
    ],
    note: `ours: ${what}; the paper and the study report no CIFAR-10 result`,
  }];
  if (results.length > 1) {
    const paper = results[0];
    const best = results.reduce((a, x) => (x.top1 > a.top1 ? x : a));
    tables.push({
      caption: `Recipe ablation at a small budget (${m} mode): test top-1 (%)`,
      columns: ['variant', 'paper (ResNet-50, ImageNet, quoted)', 'ours'],
      rows: [
        ['the paper\'s full recipe', '76.1 → 78.8 (whole recipe)', r2(paper.top1)],
        [`best: ${best.a.name}`, '—', r2(best.top1)],
      ],
      note: 'the paper ablates the recipe only as a whole; ours removes one part at a time (notebook 03)',
    });
  }
  return { tables, standIn: b.standIn ? `Notebook 03 shows a stand-in, not the CIFAR-10 benchmark: ${b.message.replace(/^STAND-IN, not the benchmark: /, '')}.` : undefined };
}
