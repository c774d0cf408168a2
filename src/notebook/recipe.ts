/** Notebook 03: the recipe's tables and charts, and the prose that reads the ablation's numbers. */
import {
  type AblationResult, type BenchmarkRun, type SweepRun, epochImages, meanTrainRate, recipeRows, sweepRows,
} from '../experiments/recipe-report';
import type { AugmentSettings } from '../train/config';
import type { TrainRecipe } from '../train/recipe';
import { fmt, listWords, signed } from './markdown';
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
