/**
 * Headline records: a notebook run by `npm run report` writes a small JSON record of its main results
 * (`emitHeadline`), and the report's front page (runner.ts, `indexHtml`) shows them side by side with the
 * paper's and the reproduction study's figures. The runner tells the kernel where to write through
 * `CONVNEXT_HEADLINE_DIR`; run interactively (JupyterLab) a notebook writes nothing.
 *
 * The builders below turn each notebook's results into its record. They take the results' types only
 * (`import type`), so loading this module costs nothing, whichever notebook imports it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { roadmapStep } from '../convnext/roadmap/steps';
import type { ReplayResult, TrendRow } from '../experiments/roadmap-replay';
import type { RowSummary } from '../experiments/study-ablation';
import { STUDY_TABLE3 } from '../experiments/study-figures';
import { writeFileAtomic } from '../util/fs';
import type { BenchFile } from './bench';
import { Mode, mode as currentMode } from './mode';
import type { StepCount } from './roadmap';

/** The environment variable naming the folder the runner collects headline records from. */
export const HEADLINE_DIR_ENV = 'CONVNEXT_HEADLINE_DIR';

export type HeadlineCell = string | number | null;

/** One small table: quantities as rows, the sources (paper, study, ours) as columns. */
export interface HeadlineTable {
  caption: string;
  columns: string[];
  rows: HeadlineCell[][];
  note?: string;
}

export interface Headline {
  /** The notebook's file name without `.ipynb`. */
  notebook: string;
  mode: Mode;
  writtenAt: string;
  /** Set when the notebook shows a shorter stand-in instead of the run the README quotes: what, and how to get the real one. */
  standIn?: string;
  tables: HeadlineTable[];
}

/** The record's file in a headline folder. */
export function headlineFile(dir: string, notebook: string): string {
  return path.join(dir, `${notebook}.json`);
}

/**
 * Writes a notebook's headline record where the report runner collects it; does nothing (and returns
 * undefined) outside a report run. Returns the file written.
 */
export function emitHeadline(
  h: Omit<Headline, 'writtenAt' | 'mode'> & { mode?: Mode }, dir: string | undefined = process.env[HEADLINE_DIR_ENV],
): string | undefined {
  if (!dir) return undefined;
  const record: Headline = { notebook: h.notebook, mode: h.mode ?? currentMode, writtenAt: new Date().toISOString(), standIn: h.standIn, tables: h.tables };
  const file = headlineFile(dir, h.notebook);
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(file, JSON.stringify(record, null, 2));
  return file;
}

function isHeadline(x: unknown): x is Headline {
  const h = x as Headline;
  return typeof h === 'object' && h !== null && typeof h.notebook === 'string' && typeof h.mode === 'string' && Array.isArray(h.tables) &&
    h.tables.every((t) => typeof t.caption === 'string' && Array.isArray(t.columns) && Array.isArray(t.rows));
}

/** A notebook's headline record from a headline folder; undefined when absent or unreadable. */
export function readHeadline(dir: string, notebook: string): Headline | undefined {
  const file = headlineFile(dir, notebook);
  if (!fs.existsSync(file)) return undefined;
  try {
    const h = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    return isHeadline(h) ? h : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------
// Figures quoted on the front page (not computed by any notebook).

/** Where the quoted figures come from. */
export const PAPER_SOURCE = {
  title: 'A ConvNet for the 2020s',
  authors: 'Liu, Mao, Wu, Feichtenhofer, Darrell and Xie (CVPR 2022)',
  url: 'https://arxiv.org/abs/2201.03545',
};

export const STUDY_SOURCE = {
  title: '对 \'A ConvNet for the 2020s\' 的论文复现',
  english: 'a reproduction of "A ConvNet for the 2020s"',
  source: '../shared/study/seed-figures.md',
};

/**
 * ImageNet-1K top-1 (%) at 224 px: the paper's Table 1, and the study's Table 1 ("Ours", and the paper's
 * figures as the study prints them), quoted from ../shared/study/seed-figures.md.
 */
export const IMAGENET_TOP1_QUOTED: ReadonlyArray<{ model: string; paper: number; studyPrintsPaper: number; study: number }> = [
  { model: 'ConvNeXt-T', paper: 82.1, studyPrintsPaper: 81.3, study: 81.2 },
  { model: 'ConvNeXt-S', paper: 83.1, studyPrintsPaper: 83.0, study: 83.1 },
  { model: 'ConvNeXt-B', paper: 83.8, studyPrintsPaper: 83.8, study: 84.0 },
  { model: 'ConvNeXt-L', paper: 84.3, studyPrintsPaper: 84.3, study: 84.2 },
];

/** The study's Table 3 (flowers, validation accuracy %), by notebook 04's row keys; quoted (src/experiments/study-figures.ts). */
export const STUDY_TABLE3_VAL_ACC: Readonly<Record<string, number>> = Object.fromEntries(Object.entries(STUDY_TABLE3).map(([k, r]) => [k, r.valAcc]));

/** The front page's quoted table: ImageNet-1K top-1, paper beside study; ours is not trained at that scale. */
export function quotedImagenetTable(): HeadlineTable {
  return {
    caption: 'ImageNet-1K top-1 (%), 224 px: quoted',
    columns: ['model', 'paper (quoted, Table 1)', 'study (quoted, its Table 1 "Ours")', 'ours'],
    rows: IMAGENET_TOP1_QUOTED.map((r) => [r.model, r.paper, r.study, 'not trained']),
    note: 'Quoted figures, not measured here. Training on ImageNet-1K takes GPU-weeks; this project trains the same ' +
      'architecture at small scale on CPU (notebooks 02–04). The study prints the paper\'s ConvNeXt-T and -S as 81.3 and 83.0.',
  };
}

// ---------------------------------------------------------------------------------------------------
// Builders: each notebook's results as its headline tables.

const round = (x: number | undefined | null, digits: number): number | null =>
  x === undefined || x === null || !Number.isFinite(x) ? null : Number(x.toFixed(digits));

/** Notebook 02: ResNet-50's and ConvNeXt-T's FLOPs beside the paper's, and the replay's end points and trends. */
export function roadmapHeadline(built: Map<string, StepCount>, replay: ReplayResult[], trends: TrendRow[], m: Mode = currentMode): HeadlineTable[] {
  const gflops = (id: string) => round((built.get(id)?.macs ?? NaN) / 1e9, 2);
  const first = replay[0];
  const last = replay[replay.length - 1];
  const count = (v: TrendRow['verdict']) => trends.filter((t) => t.verdict === v).length;
  const tables: HeadlineTable[] = [{
    caption: 'Architecture: GFLOPs at 224² (exact count)',
    columns: ['model', 'paper (quoted)', 'study (quoted)', 'ours'],
    rows: [
      ['ResNet-50 (roadmap step 01)', roadmapStep('01-resnet50').paper.gflops, 4.1, gflops('01-resnet50')],
      ['ConvNeXt-T (roadmap step 16)', roadmapStep('16-convnext-t').paper.gflops, 4.5, gflops('16-convnext-t')],
      ['ConvNeXt-T params (M)', 29, 28, round((built.get('16-convnext-t')?.params ?? NaN) / 1e6, 2)],
    ],
    note: 'paper: Fig. 2 / Table 10 and Table 1; study: its Tables 1–2',
  }];
  if (first && last) {
    tables.push({
      caption: `Modernization roadmap replayed (${m} mode): top-1 (%)`,
      columns: ['step', 'paper (quoted, ImageNet-1K)', 'ours (small-scale replay)'],
      rows: [
        [`${first.step.id} ${first.step.title}`, first.step.paper.top1 ?? null, round(first.top1, 2)],
        [`${last.step.id} ${last.step.title}`, last.step.paper.top1 ?? null, round(last.top1, 2)],
        ['transitions reproducing the paper\'s direction (beyond 2·SE over seeds)', null, `${count('reproduces')} of ${trends.length}`],
        ['transitions reversing it (beyond 2·SE over seeds)', null, `${count('reverses')} of ${trends.length}`],
        ['transitions not resolved (within 2·SE)', null, `${count('not resolved')} of ${trends.length}`],
      ],
      note: 'ours: CIFAR-10-sized replay over seeds, mean top-1 (see notebook 02 for the budget and transitions); compare directions, not values',
    });
  }
  return tables;
}

/** Notebook 04: the study's Table 3 validation accuracy beside ours (mean ± std over seeds). */
export function studyHeadline(rows: RowSummary[], m: Mode = currentMode): HeadlineTable[] {
  const pm = (mean: number, std: number) => `${(100 * mean).toFixed(1)} ± ${(100 * (Number.isFinite(std) ? std : 0)).toFixed(1)}`;
  return [{
    caption: `The study's modules on flowers (Table 3): validation accuracy (%), ${m} mode`,
    columns: ['configuration', 'paper', 'study (quoted, Table 3)', 'ours (mean ± std over seeds)'],
    rows: rows.map((r) => [r.label, '—', STUDY_TABLE3_VAL_ACC[r.key] ?? '—', pm(r.valAcc.mean, r.valAcc.std)]),
    note: 'the paper has no such experiment; the study trained on one RTX A2000 at its own settings, ours at the settings notebook 04 lists',
  }];
}

/** Notebook 05: ConvNeXt-T throughput from the newest bench file, beside the paper's V100 figure. */
export function benchHeadlineTables(file: string, b: BenchFile, paperV100: number): HeadlineTable[] {
  const rows: HeadlineCell[][] = b.cases.map((c) => [
    c.case.name, c.case.model === 'convnext_tiny' && c.case.mode === 'eval' ? `${paperV100} (V100, any batch)` : '—',
    round(c.ours.imagesPerSecond, 1), round(c.torch?.imagesPerSecond, 1), c.ratio === undefined ? '—' : `${c.ratio.toFixed(2)}×`,
  ]);
  return [{
    caption: `Speed on this CPU (${b.machine.cpu}, ${b.machine.cores} cores): images/s`,
    columns: ['case', 'paper (quoted)', 'ours', 'PyTorch, same CPU', 'ours / PyTorch'],
    rows,
    note: `from ${path.basename(file)} (${b.createdAt}, \`npm run bench\`); the study reports no speeds of its own`,
  }];
}
