/**
 * Notebook 02: the roadmap's counts, tables and charts, and the prose that reads the replay's numbers
 * (generated from the results so that it cannot contradict the tables).
 */
import {
  CONVNEXT_B_PAPER, RESNET200, ROADMAP, type MacsByPart, type NormElements, type RoadmapStep, buildModernResNet, changeLines,
  complexity, createModel, describeRoadmapModel, fvcoreStyleFlops, macsByPart, normElements, roadmapStep,
} from '../convnext';
import type { ReplayPlan, ReplayResult, TrendRow } from '../experiments/roadmap-replay';
import { withoutInit } from '../nn';
import { fmt, listWords, signed } from './markdown';
import type { Mode } from './mode';
import type { ChartOptions, Trace } from './plot';
import { type Row, table, vsPaper } from './table';

export interface StepCount {
  params: number;
  macs: number;
  parts: MacsByPart;
  /** The model's layout in lines (stem, stages, blocks, head). */
  layout: string[];
}

/** Every step at ImageNet scale (224², 1000 classes): parameters, MACs by part and layout, by step id. */
export function countRoadmap(size = 224): Map<string, StepCount> {
  return new Map(ROADMAP.map((s) => {
    const m = withoutInit(() => buildModernResNet(s.config));
    const c = complexity(m, size);
    const row = { params: c.params, macs: c.macs, parts: macsByPart(m, size), layout: describeRoadmapModel(m, size) };
    m.dispose();
    return [s.id, row] as const;
  }));
}

function countOf(built: Map<string, StepCount>, id: string): StepCount {
  const c = built.get(id);
  if (!c) throw new Error(`roadmap step ${id} was not counted`);
  return c;
}

/** Our GFLOPs over the paper's, minus one, in percent. */
export function flopsGapPercent(ourMacs: number, paperGflops: number): number {
  return 100 * (ourMacs / 1e9 / paperGflops - 1);
}

/** The roadmap table: parameters and FLOPs of every step beside the paper's. */
export function roadmapRows(built: Map<string, StepCount>): Row[] {
  return ROADMAP.map((s) => {
    const c = countOf(built, s.id);
    return {
      step: s.id, change: s.change, 'params, M': c.params / 1e6,
      ...vsPaper('GFLOPs', s.paper.gflops, c.macs / 1e9),
      'gap, %': flopsGapPercent(c.macs, s.paper.gflops),
      'ImageNet top-1 (paper)': s.paper.top1,
    };
  });
}

/**
 * How closely the counts match the paper, in words: the steps within 1% of the paper's FLOPs (with the
 * largest of their gaps and how many are within the next-smaller bound) and each step outside.
 */
export function flopsAgreementText(built: Map<string, StepCount>, steps: readonly RoadmapStep[] = ROADMAP): string {
  const gaps = steps.map((s) => ({ s, gap: flopsGapPercent(countOf(built, s.id).macs, s.paper.gflops) }));
  const close = gaps.filter((g) => Math.abs(g.gap) <= 1).sort((a, b) => Math.abs(b.gap) - Math.abs(a.gap));
  const far = gaps.filter((g) => Math.abs(g.gap) > 1);
  const parts = [`${close.length} of the ${gaps.length} steps land within ${fmt(Math.abs(close[0]?.gap ?? 0), 2)}% of the paper's FLOPs`];
  if (close.length > 1) parts[0] += ` (${close.length - 1} within ${fmt(Math.abs(close[1].gap), 2)}%)`;
  const outside = far.map((g) => `step ${g.s.id.slice(0, 2)} (${g.s.title}) is ${fmt(Math.abs(g.gap), 1)}% ${g.gap < 0 ? 'below' : 'above'} the paper`);
  return `${parts[0]}.${outside.length ? ` ${outside.join('; ').replace(/^./, (c) => c.toUpperCase())}.` : ''}`;
}

/** One roadmap step: the config diff from its parent, the layout, and params / FLOPs against the paper. */
export function showStep(built: Map<string, StepCount>, id: string): void {
  const s = roadmapStep(id);
  const c = countOf(built, s.id);
  const parent = s.parent ? roadmapStep(s.parent) : undefined;
  if (parent) console.log(`changed from ${parent.id}: ${changeLines(parent.config, s.config).join('; ')}\n`);
  console.log(c.layout.join('\n'));
  const p = parent ? countOf(built, parent.id) : undefined;
  table([{
    step: s.id, 'params, M': c.params / 1e6, 'Δ params, M': p ? (c.params - p.params) / 1e6 : null,
    ...vsPaper('GFLOPs', s.paper.gflops, c.macs / 1e9),
    ...vsPaper('Δ GFLOPs', parent ? s.paper.gflops - parent.paper.gflops : null, p ? (c.macs - p.macs) / 1e9 : null),
    'ImageNet top-1 (paper)': s.paper.top1,
  }], { caption: `${s.id}: ${s.title}`, digits: { 'params, M': 2, 'Δ params, M': 2, 'GFLOPs (paper)': 2,
    'GFLOPs (ours)': 3, 'Δ GFLOPs (paper)': 2, 'Δ GFLOPs (ours)': 3, 'ImageNet top-1 (paper)': 2 } });
}

export interface GapRow {
  id: string;
  paper: number;
  macs: number;
  parts: MacsByPart;
  norms: NormElements;
  /** conv+linear MACs + 5 per LayerNorm element + 2 per BatchNorm element. */
  fvcore: number;
}

/** The steps the FLOPs breakdown of the last rows compares. */
export const GAP_STEPS = ['01-resnet50', '14-fewer-norms', '15-layer-norm', '16-convnext-t'] as const;

/** MACs by part, normalised elements and an fvcore-style total for `ids`. */
export function flopsBreakdown(built: Map<string, StepCount>, ids: readonly string[] = GAP_STEPS): GapRow[] {
  return ids.map((id) => {
    const s = roadmapStep(id);
    const m = withoutInit(() => buildModernResNet(s.config));
    const norms = normElements(m, 224);
    m.dispose();
    const c = countOf(built, id);
    return { id, paper: s.paper.gflops, macs: c.macs, parts: c.parts, norms, fvcore: fvcoreStyleFlops(c.macs, norms) };
  });
}

export function flopsBreakdownRows(gap: GapRow[]): Row[] {
  return gap.map((g) => ({
    step: g.id,
    'stem': g.parts.stem / 1e9, 'blocks': g.parts.blocks / 1e9, 'shortcut 1x1 convs': g.parts.shortcuts / 1e9,
    'downsampling convs': g.parts.downsampling / 1e9, 'head': g.parts.head / 1e9,
    ...vsPaper('GFLOPs', g.paper, g.macs / 1e9),
    'BN elements, M': g.norms.batch / 1e6, 'LN elements, M': g.norms.layer / 1e6,
    'fvcore-style GFLOPs': g.fvcore / 1e9,
  }));
}

function gapRow(gap: GapRow[], id: string): GapRow {
  const g = gap.find((r) => r.id === id);
  if (!g) throw new Error(`no breakdown row for ${id}`);
  return g;
}

/** What the breakdown of steps 01, 14, 15 and 16 shows, as Markdown bullets with the counted figures. */
export function flopsBreakdownText(gap: GapRow[]): string {
  const [r50, s14, s15, s16] = ['01-resnet50', '14-fewer-norms', '15-layer-norm', '16-convnext-t'].map((id) => gapRow(gap, id));
  const G = (x: number, d: number) => fmt(x / 1e9, d);
  const M = (x: number) => fmt(x / 1e6, 1);
  const blocks = s16.parts.blocks - s15.parts.blocks;
  const s16Rounded = Math.round(s16.macs / 1e7) / 100;
  // The paper's figure relative to our count.
  const above = 100 * (s16.paper / (s16.macs / 1e9) - 1);
  return [
    `* **Step 15's ${fmt(s15.paper, 2)}G is the next row's architecture.** Our conv+linear count of ConvNeXt-T (step 16) is`,
    `  ${G(s16.macs, 4)}G, which rounds to ${fmt(s16Rounded, 2)}${s16Rounded === s15.paper ? ', exactly the figure printed for step 15' : ` (step 15 is printed as ${fmt(s15.paper, 2)})`},`,
    `  while the in-block-downsampling network of step 15 has ${G(s15.macs, 3)}G. The whole ${G(s16.macs - s15.macs, 2)}G difference is the`,
    `  downsampling re-layout — three separate 2×2 convs (+${M(s16.parts.downsampling)}M), full-resolution first blocks in stages 2–4`,
    `  (${signed(blocks / 1e6, 1)}M) and no shortcut projections (−${M(s15.parts.shortcuts - s16.parts.shortcuts)}M) — which the paper introduces only in the next`,
    `  row. Counting LayerNorm does not close it: even at 5 FLOPs per normalised element step 15 is ${G(s15.fvcore, 3)}G. The most`,
    '  likely reading is that the LN row\'s FLOPs were measured on a model that already had separate downsampling layers, or',
    `  that the FLOPs of the last two rows were shifted. Step 14, with the same layout and BatchNorm, is printed as ${fmt(s14.paper, 2)};`,
    `  our count is ${G(s14.macs, 3)}G.`,
    `* **Step 16's ${fmt(s16.paper, 2)}G is ${fmt(Math.abs(above), 1)}% ${above < 0 ? 'below' : 'above'} the conv+linear count.** Charging LayerNorm as fvcore does`,
    `  (5 per element) gives ${G(s16.fvcore, 3)}G for ConvNeXt-T (timm's model card, quoted, says 4.47 GMACs); the rest is not`,
    `  explained by norms, and the paper's own Table 1 prints 4.5G (quoted). The paper does not charge BatchNorm in the ResNet rows`,
    `  (fvcore-style ResNet-50 would be ${G(r50.fvcore, 3)}G, the paper prints ${fmt(r50.paper, 2)}), so we keep conv+linear MACs everywhere,`,
    '  the one convention that reproduces steps 01–14 and Table 1.',
  ].join('\n');
}

export interface RegimeEnd {
  model: string;
  params: number;
  macs: number;
  paper?: { gflops: number; top1?: number };
}

/** Figure 2's ResNet-200 regime: its start (ResNet-200) and end (ConvNeXt-B) at 224². */
export function resnet200Regime(): RegimeEnd[] {
  return [
    { model: 'resnet200 (start)', m: withoutInit(() => buildModernResNet(RESNET200)), paper: undefined },
    { model: 'convnext_base (end)', m: withoutInit(() => createModel('convnext_base')), paper: CONVNEXT_B_PAPER },
  ].map(({ model, m, paper }) => {
    const c = complexity(m, 224);
    m.dispose();
    return { model, params: c.params, macs: c.macs, paper };
  });
}

export function regimeRows(big: RegimeEnd[]): Row[] {
  return big.map((b) => ({
    model: b.model, 'params, M': b.params / 1e6, ...vsPaper('GFLOPs', b.paper?.gflops, b.macs / 1e9),
    'ImageNet top-1 (paper)': b.paper?.top1,
  }));
}

/** The replayed models at the plan's input size (10 classes). */
export function replayModelRows(plan: ReplayPlan): Row[] {
  return plan.steps.map((s, i) => {
    const cfg = plan.configs[i].model;
    const m = withoutInit(() => createModel(cfg.name!, { numClasses: 10, ...cfg.options }));
    const c = complexity(m, plan.size);
    m.dispose();
    return { step: s.id, model: cfg.name!, 'params, M': c.params / 1e6, [`MMACs at ${plan.size}²`]: c.macs / 1e6 };
  });
}

/** The replay table: each step's top-1 over seeds (mean ± std) beside the paper's. */
export function replayRows(replay: ReplayResult[], size: number): Row[] {
  return replay.map((r) => ({
    step: r.step.id,
    [`MMACs at ${size}²`]: r.macs / 1e6,
    'params, M': r.params / 1e6,
    ...vsPaper('top-1', r.step.paper.top1, `${fmt(r.top1Stat.mean, 2)} ± ${fmt(r.top1Stat.std, 2)}`),
    seeds: r.top1Stat.n,
    'top-1 per seed': r.top1Seeds.map((x) => fmt(x, 2)).join(', '),
    'train min (all seeds)': r.trainMinutes,
    runs: r.cached ? 'cached' : `${r.cachedRuns} of ${r.top1Stat.n} cached`,
  }));
}

/** The transitions table: each decisive change, ours (Δ of means ± 2·SE over seeds) beside the paper's, with its verdict. */
export function transitionRows(trends: TrendRow[]): Row[] {
  return trends.map((t) => ({
    transition: `${t.parent.id.slice(0, 2)} → ${t.step.id.slice(0, 2)} ${t.title}`,
    ...vsPaper('Δ top-1', t.paperDelta, t.oursDelta),
    '2·SE (ours)': t.noise,
    verdict: t.verdict,
  }));
}

/** Figure 2 as three panels: GFLOPs (paper, ours, with ConvNeXt-B), the paper's top-1, our replay's top-1 (mean ± std). */
export function roadmapFigure(built: Map<string, StepCount>, convnextB: RegimeEnd, replay: ReplayResult[], mode: Mode): { traces: Trace[]; opts: ChartOptions } {
  const labels = ROADMAP.map((s) => `${s.id.slice(0, 2)} ${s.title}`);
  const replayTop1 = new Map(replay.map((r) => [r.step.id, r.top1Stat]));
  const bLabel = 'ConvNeXt-B (ResNet-200 regime)';
  const traces: Trace[] = [
    { type: 'bar', orientation: 'h', name: 'GFLOPs (paper)', y: [...labels, bLabel], x: [...ROADMAP.map((s) => s.paper.gflops), CONVNEXT_B_PAPER.gflops],
      marker: { color: '#bbb' }, xaxis: 'x', yaxis: 'y' },
    { type: 'bar', orientation: 'h', name: 'GFLOPs (ours)', y: [...labels, bLabel], x: [...ROADMAP.map((s) => countOf(built, s.id).macs / 1e9), convnextB.macs / 1e9],
      marker: { color: '#1f77b4' }, xaxis: 'x', yaxis: 'y' },
    { type: 'bar', orientation: 'h', name: 'ImageNet top-1 (paper)', y: labels, x: ROADMAP.map((s) => s.paper.top1!),
      marker: { color: '#999' }, xaxis: 'x2', yaxis: 'y' },
    { type: 'bar', orientation: 'h', name: `replay top-1 (ours, ${mode}, mean ± std)`, y: labels, x: ROADMAP.map((s) => replayTop1.get(s.id)?.mean ?? null) as number[],
      error_x: { type: 'data', array: ROADMAP.map((s) => replayTop1.get(s.id)?.std ?? null) as number[] },
      marker: { color: '#d62728' }, xaxis: 'x3', yaxis: 'y' },
  ];
  return {
    traces,
    opts: {
      title: 'Modernizing a ResNet-50 into ConvNeXt-T', height: 640, mode, layout: {
        barmode: 'group', yaxis: { autorange: 'reversed', automargin: true },
        xaxis: { domain: [0, 0.3], title: { text: 'GFLOPs at 224²' } },
        xaxis2: { domain: [0.36, 0.66], range: [76, 83], title: { text: 'ImageNet-1K top-1 % (paper)' } },
        xaxis3: { domain: [0.72, 1], title: { text: `top-1 % (our replay, ${mode})` } },
        legend: { orientation: 'h', y: -0.12 },
      },
    },
  };
}

/** Top-1 along the roadmap: the paper's curve (left axis) and our mean ± std over seeds (right axis, error bars). */
export function trendFigure(replay: ReplayResult[], mode: Mode): { traces: Trace[]; opts: ChartOptions } {
  const x = replay.map((r) => r.step.id.slice(0, 2));
  return {
    traces: [
      { type: 'scatter', mode: 'lines+markers', name: 'paper (ImageNet-1K)', x, y: replay.map((r) => r.step.paper.top1!), yaxis: 'y' },
      { type: 'scatter', mode: 'lines+markers', name: `ours (replay, ${mode}, mean ± std over seeds)`, x, y: replay.map((r) => r.top1Stat.mean),
        error_y: { type: 'data', array: replay.map((r) => r.top1Stat.std), visible: true }, yaxis: 'y2' },
    ],
    opts: {
      title: 'Top-1 along the roadmap: paper vs replay', xTitle: 'step', yTitle: 'paper top-1 %', mode,
      layout: { yaxis2: { overlaying: 'y', side: 'right', title: { text: 'replay top-1 % (mean ± std)' } }, xaxis: { type: 'category' } },
    },
  };
}

const VERDICTS: TrendRow['verdict'][] = ['reproduces', 'reverses', 'paper flat', 'not resolved'];

const tname = (t: TrendRow) => `${t.parent.id.slice(0, 2)}→${t.step.id.slice(0, 2)}`;

/** The transitions of each verdict, one line each: "reproduces: 01→02, 15→16". */
export function verdictLines(trends: TrendRow[]): string {
  return VERDICTS.map((v) => `${v}: ${trends.filter((t) => t.verdict === v).map(tname).join(', ') || '—'}`).join('\n');
}

/** "stage ratio (01→02; ours +2.9 ± 0.4, paper +0.6 points)" for each trend row. */
function trendList(rows: TrendRow[]): string {
  return listWords(rows.map((t) => `${t.title} (${tname(t)}; ours ${signed(t.oursDelta)} ± ${fmt(t.se, 1)}, paper ${signed(t.paperDelta)})`), 'none');
}

/**
 * What the replay measured, in Markdown, transition by transition: its size and seed spread, which transitions
 * reproduce the paper's direction beyond 2·SE over seeds, which reverse it, which are not resolved, where ResNet-50
 * and ConvNeXt-T end, and the time it took. Every figure comes from `replay`, `trends` and `plan`.
 */
export function replayFindings(replay: ReplayResult[], trends: TrendRow[], plan: ReplayPlan): string {
  if (replay.length === 0) return 'No replay runs.';
  const minutes = replay.reduce((s, r) => s + r.trainMinutes, 0);
  const runs = replay.reduce((s, r) => s + r.top1Stat.n, 0);
  const cached = replay.reduce((s, r) => s + r.cachedRuns, 0);
  const stds = replay.map((r) => r.top1Stat.std).filter((x) => Number.isFinite(x));
  const paperMoves = trends.map((t) => Math.abs(t.paperDelta)).filter((d) => d >= 0.1).sort((a, b) => a - b);
  const updates = plan.batchSize ? Math.floor(plan.trainImages / plan.batchSize) * plan.epochs : undefined;
  const by = (v: TrendRow['verdict']) => trends.filter((t) => t.verdict === v);
  const first = replay[0];
  const last = replay[replay.length - 1];
  const range = (xs: number[]) => {
    const [lo, hi] = [fmt(Math.min(...xs), 1), fmt(Math.max(...xs), 1)];
    return lo === hi ? lo : `${lo}–${hi}`;
  };
  const lines = [
    `**This run (${plan.mode} mode, runs in \`runs/roadmap-replay/${plan.mode}/\`, ${cached} of ${runs} read from the cache):**`,
    `${replay.length} steps × ${plan.seeds.length} seeds = ${runs} runs, ${fmt(minutes, 1)} minutes of training in all. Every model saw ${fmt(plan.trainImages * plan.epochs, 0)} training images`,
    `${updates !== undefined ? `(${fmt(updates, 0)} updates) ` : ''}and mean top-1 lands between ${fmt(Math.min(...replay.map((r) => r.top1)), 1)}% and ${fmt(Math.max(...replay.map((r) => r.top1)), 1)}%.`,
    stds.length
      ? `The seed-to-seed std of a step's top-1 is ${range(stds)} points on ${fmt(plan.valImages, 0)} validation images; a transition is resolved when its ` +
        `change of mean exceeds 2·SE (${trends.length ? range(trends.map((t) => t.noise)) : '—'} points here)` +
        (paperMoves.length ? `, where the paper's transitions move by ${fmt(paperMoves[0], 1)}–${fmt(paperMoves[paperMoves.length - 1], 1)} points.` : '.')
      : '',
    '',
    `* **Reproduces the paper's direction:** ${trendList(by('reproduces'))}.`,
    `* **Reverses it:** ${trendList(by('reverses'))}.`,
    `* **Moves where the paper is flat:** ${trendList(by('paper flat'))}.`,
    `* **Not resolved here** (within 2·SE): ${trendList(by('not resolved'))}.`,
    `* **End points:** ${first.step.title} (${first.step.id.slice(0, 2)}) reaches ${fmt(first.top1, 1)} ± ${fmt(first.top1Stat.std, 1)}% and ${last.step.title} (${last.step.id.slice(0, 2)}) ` +
      `${fmt(last.top1, 1)} ± ${fmt(last.top1Stat.std, 1)}%, ${last.top1 >= first.top1 ? 'above' : 'below'} it; the paper has ${fmt(first.step.paper.top1, 1)}% → ${fmt(last.step.paper.top1, 1)}% (quoted).`,
  ];
  return lines.filter((l, i) => l !== '' || i === 4).join('\n');
}

/** The replay's budget and its estimated cost when nothing is cached, from the recorded per-image rates. */
export function replayBudgetText(plan: ReplayPlan, est: { runs: number; low: number; high: number }, source: string): string {
  const which = plan.steps.length === ROADMAP.length ? `all ${plan.steps.length} steps` : `the ${plan.steps.length} steps of the paper's decisive transitions (${plan.steps.map((s) => s.id.slice(0, 2)).join(', ')})`;
  return `**Budget (${plan.mode} mode):** ${which} × seeds ${plan.seeds.join(', ')} = ${est.runs} runs; ${plan.description}. ` +
    `Estimated training time when nothing is cached: ${fmt(est.low, 0)}–${fmt(est.high, 0)} min on the 2-core machine ` +
    `(from ${source}); the findings below give the measured time.`;
}
