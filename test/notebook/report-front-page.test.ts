/**
 * The report's progress lines (expected and elapsed time), the timings table README repeats, headline
 * records and the front page built from them, notebook 03's stand-in notices, --with-benchmarks' plan,
 * and the confusion matrix's colour scale.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { RunRecord } from '../../src/experiments/cached-run';
import {
  type AblationResult, type BenchmarkRun, BENCHMARK_COMMANDS, CONFUSION_COLORSCALE, confusionTrace, standInMessage,
} from '../../src/experiments/recipe-report';
import type { RowSummary } from '../../src/experiments/study-ablation';
import { benchmarkPlan } from '../../src/notebook/benchmarks';
import {
  HEADLINE_DIR_ENV, type Headline, emitHeadline, headlineFile, quotedImagenetTable, readHeadline, studyHeadline,
} from '../../src/notebook/headline';
import { cellProgressText, progressLines, runStartLine } from '../../src/notebook/progress';
import { README_BENCHMARK, benchmarkNotice, recipeHeadline } from '../../src/notebook/recipe';
import { type NotebookResult, type ReportSummary, headlineTableHtml, indexHtml, modesText } from '../../src/notebook/runner';
import {
  type ModeTimings, NOTEBOOK_TIMINGS, elapsedText, expectedSeconds, expectedText, expectedTotalSeconds, formatDuration, timingsMarkdown,
} from '../../src/notebook/timings';
import type { Mode } from '../../src/notebook/mode';

const ROOT = path.resolve(__dirname, '..', '..');
const NAMES = fs.readdirSync(path.join(ROOT, 'notebooks')).filter((f) => f.endsWith('.ipynb')).sort().map((f) => f.replace(/\.ipynb$/, ''));

describe('notebook timings', () => {
  const table: Record<Mode, ModeTimings> = {
    smoke: { seconds: { '00': 10, '01': 20 } },
    quick: { seconds: { '00': 11, '01': 870 }, source: { date: '2026-12-07', machine: 'm', command: 'c' } },
    full: { seconds: { '00': null } },
  };

  it('formats durations as people read them', () => {
    assert.equal(formatDuration(9.4), '9 s');
    assert.equal(formatDuration(59.4), '59 s');
    assert.equal(formatDuration(870), '14:30 min');
    assert.equal(formatDuration(3600 + 4 * 60 + 10), '1 h 04 min');
    assert.equal(formatDuration(NaN), '—');
  });

  it('looks a notebook up by its number, and a total only when every notebook was measured', () => {
    assert.equal(expectedSeconds('01-convnext-family', 'quick', table), 870);
    assert.equal(expectedSeconds('00-environment', 'full', table), undefined);
    assert.equal(expectedSeconds('07-new', 'quick', table), undefined);
    assert.equal(expectedTotalSeconds(['00-a', '01-b'], 'smoke', table), 30);
    assert.equal(expectedTotalSeconds(['00-a', '02-c'], 'smoke', table), undefined);
    assert.equal(expectedText(870, 'quick', table), 'expected ~14:30 min (quick, measured 2026-12-07)');
    assert.equal(expectedText(undefined, 'full', table), 'no measured time for full mode');
  });

  it('says how far a notebook is against its expected time, and when it runs past it', () => {
    assert.equal(elapsedText(130, 870, 'quick'), '2:10 min elapsed of ~14:30 min expected');
    assert.equal(elapsedText(1000, 870, 'quick'), '16:40 min elapsed, past the ~14:30 min expected');
    assert.equal(elapsedText(130, undefined, 'full'), '2:10 min elapsed (no measured time for full mode)');
    assert.equal(cellProgressText(4, 12, 130, 870, 'quick'), 'cell 4/12 · 2:10 min elapsed of ~14:30 min expected');
  });

  it('has a measured smoke figure for every notebook, a quick one or a stated reason why not, each with its source', () => {
    for (const n of NAMES) assert.ok(expectedSeconds(n, 'smoke') !== undefined, `${n} has no smoke time in NOTEBOOK_TIMINGS`);
    for (const n of NAMES) {
      const measured = expectedSeconds(n, 'quick') !== undefined;
      assert.ok(measured || (NOTEBOOK_TIMINGS.quick.seconds[n.slice(0, 2)] === null && NOTEBOOK_TIMINGS.quick.source?.note?.includes(n.slice(0, 2))),
        `${n} has neither a quick time nor a note saying why not`);
    }
    for (const m of ['smoke', 'quick'] as const) {
      const src = NOTEBOOK_TIMINGS[m].source;
      assert.ok(src && /^\d{4}-\d{2}-\d{2}$/.test(src.date) && src.machine && src.command, `${m} timings lack their source`);
    }
    assert.equal(NOTEBOOK_TIMINGS.full.source, undefined, 'full mode was never measured');
  });

  it('is the table README shows under "How long the report takes"', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const m = /<!-- timings:begin[^>]*-->\n([\s\S]*?)\n<!-- timings:end -->/.exec(readme);
    assert.ok(m, 'README has no timings:begin / timings:end block');
    assert.equal(m[1], timingsMarkdown(NAMES), 'README\'s timings table differs from src/notebook/timings.ts: paste timingsMarkdown(...) there');
    for (const m2 of ['smoke', 'quick'] as const) {
      const src = NOTEBOOK_TIMINGS[m2].source!;
      assert.ok(readme.includes(src.date) && readme.includes(src.command.replace(/ --out .*/, '')), `README does not name the ${m2} figures' date and command`);
    }
  });
});

describe('report progress lines', () => {
  it('prints the expected time at the start, elapsed beside each cell, and a heartbeat when a cell is silent', () => {
    let t = 0;
    const p = progressLines({ heartbeatS: 60, now: () => t });
    assert.deepEqual(p.onEvent({ type: 'notebook-start', name: '02-x', index: 2, total: 6, mode: 'quick', expectedS: 870 }),
      [`[3/6] 02-x: starting the kernel; ${expectedText(870, 'quick')}`]);
    t = 10_000;
    assert.deepEqual(p.onEvent({ type: 'kernel-ready', name: '02-x', cells: 20, elapsedS: 10 }), []);
    t = 12_000;
    assert.deepEqual(p.onEvent({ type: 'cell-done', name: '02-x', cell: 1, cells: 20, seconds: 2, elapsedS: 12 }),
      ['  02-x: cell 1/20 done in 2.0 s · 12 s elapsed of ~14:30 min expected']);
    t = 50_000;
    assert.deepEqual(p.tick(), [], 'silent for less than the heartbeat');
    t = 72_000;
    assert.deepEqual(p.tick(), ['  02-x: cell 2/20 still running · 1:12 min elapsed of ~14:30 min expected']);
    t = 80_000;
    assert.deepEqual(p.tick(), [], 'one heartbeat per interval');
    p.onEvent({ type: 'notebook-done', result: { name: '02-x' } as NotebookResult });
    t = 500_000;
    assert.deepEqual(p.tick(), [], 'nothing for a finished notebook');
  });

  it('says when a mode has no measured time', () => {
    const p = progressLines({ now: () => 0 });
    assert.deepEqual(p.onEvent({ type: 'notebook-start', name: '00-a', index: 0, total: 1, mode: 'full' }),
      ['[1/1] 00-a: starting the kernel; no measured time for full mode']);
    assert.equal(runStartLine(['00-a'], 'full', undefined), 'Executing 1 notebook in full mode (no measured total for full mode)');
    assert.equal(runStartLine(['00-a', '01-b'], 'smoke', 122), 'Executing 2 notebooks in smoke mode (expected ~2:02 min in all)');
  });
});

describe('headline records', () => {
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convnext-headline-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes nothing outside a report run, and a record the runner reads back inside one', () => {
    const saved = process.env[HEADLINE_DIR_ENV];
    delete process.env[HEADLINE_DIR_ENV];
    try {
      assert.equal(emitHeadline({ notebook: '09-x', tables: [] }), undefined);
    } finally {
      if (saved !== undefined) process.env[HEADLINE_DIR_ENV] = saved;
    }
    const table = { caption: 'c', columns: ['q', 'ours'], rows: [['top-1', 80.84]] };
    const file = emitHeadline({ notebook: '09-x', mode: 'smoke', standIn: 'a stand-in', tables: [table] }, path.join(dir, 'headlines'));
    assert.equal(file, headlineFile(path.join(dir, 'headlines'), '09-x'));
    const h = readHeadline(path.join(dir, 'headlines'), '09-x')!;
    assert.deepEqual([h.notebook, h.mode, h.standIn, h.tables], ['09-x', 'smoke', 'a stand-in', [table]]);
    assert.equal(readHeadline(path.join(dir, 'headlines'), 'missing'), undefined);
    fs.writeFileSync(headlineFile(path.join(dir, 'headlines'), 'bad'), '{"notebook": 1}');
    assert.equal(readHeadline(path.join(dir, 'headlines'), 'bad'), undefined, 'a malformed record is ignored');
  });

  it('puts the study\'s Table 3 (quoted) beside our mean ± std', () => {
    const stat = (mean: number, std: number) => ({ mean, std, n: 3 });
    const row = (key: string, label: string, acc: number): RowSummary => ({
      key, label, params: 0, macs: 0, trainLoss: stat(1, 0), trainAcc: stat(1, 0), valLoss: stat(1, 0), valAcc: stat(acc, 0.012),
      trainImagesPerSec: stat(1, 0), evalImagesPerSec: stat(1, 0),
    } as RowSummary);
    const [t] = studyHeadline([row('convnext', 'ConvNeXt', 0.7), row('cbam', '+CBAM', 0.75)], 'quick');
    assert.deepEqual(t.rows, [['ConvNeXt', '—', 72.0, '70.0 ± 1.2'], ['+CBAM', '—', 76.6, '75.0 ± 1.2']]);
    assert.match(t.columns.join('|'), /study \(quoted, Table 3\)/);
  });
});

type EpochRecord = RunRecord['metrics'][number];

function fakeRun(top1: number, minutes: number): RunRecord {
  const summary = { count: 100, top1, top5: 1, loss: 1, imagesPerSec: 500, perClass: [], macro: { precision: 0, recall: 0, f1: 0 }, confusion: [] };
  return {
    dir: 'runs/x', finished: true,
    metrics: [{ epoch: 0, trainLoss: 1, trainSeconds: 10, trainImagesPerSec: 100 } as EpochRecord],
    summary: { final: {} as never, trainMinutes: minutes, epochsDone: 1 },
    eval: { classes: ['a', 'b'], model: summary },
  };
}

describe('notebook 03: the benchmark or its stand-in', () => {
  const standIn: BenchmarkRun = {
    run: fakeRun(0.4123, 3.2), reused: false, standIn: true, message: standInMessage('quick', 'runs/cifar10-quick', 1),
  };
  const real: BenchmarkRun = {
    run: fakeRun(0.8084, 29.5), reused: true, standIn: false, message: 'reusing the finished benchmark run in runs/cifar10-quick (trained 29.5 min); not retraining',
    tta: { ...fakeRun(0.8212, 0).eval!.model },
  };

  it('says why it trains a stand-in and what', () => {
    assert.equal(standInMessage('quick', 'runs/cifar10-quick', 1),
      'STAND-IN, not the benchmark: runs/cifar10-quick holds no finished run, so this trains a shorter version (1 epoch(s) of the benchmark config) instead');
    assert.match(standInMessage('quick', 'runs/cifar10-quick', 1, true), /holds an unfinished run/);
    assert.match(standInMessage('smoke', 'runs/cifar10-quick', 1), /smoke mode never reads the benchmark run, so this trains a tiny model on 40 images/);
    assert.doesNotMatch(standInMessage('full', 'runs/cifar10-quick', 30), /STAND-IN/);
  });

  it('warns above a stand-in\'s table, with README\'s figure and the commands that make the benchmark', () => {
    const text = benchmarkNotice(standIn, 'quick');
    assert.match(text, /^> \*\*⚠ Stand-in, not the benchmark \(quick mode\)\.\*\* Runs\/cifar10-quick holds no finished run/);
    assert.ok(text.includes(`README's ${README_BENCHMARK.top1.toFixed(2)}%`), text);
    assert.ok(text.includes(BENCHMARK_COMMANDS.report) && text.includes(BENCHMARK_COMMANDS.train) && text.includes(BENCHMARK_COMMANDS.evalTta), text);
    assert.match(benchmarkNotice(standIn, 'smoke'), /Smoke mode always trains the tiny stand-in/);
    const ok = benchmarkNotice(real, 'quick');
    assert.match(ok, /^\*\*The CIFAR-10 benchmark run\*\* \(`runs\/x`, 29\.5 min of training\)/);
    assert.doesNotMatch(ok, /Stand-in|flip-TTA row is empty/);
  });

  it('records the benchmark beside README\'s quoted figures, and flags a stand-in for the front page', () => {
    const results = [
      { a: { name: 'paper' }, top1: 0.2 }, { a: { name: 'mild' }, top1: 0.55 },
    ] as unknown as AblationResult[];
    const s = recipeHeadline(standIn, results, 'quick');
    assert.match(s.standIn!, /^Notebook 03 shows a stand-in, not the CIFAR-10 benchmark: runs\/cifar10-quick holds no finished run/);
    assert.match(s.tables[0].caption, /STAND-IN, not the benchmark/);
    assert.deepEqual(s.tables[0].rows[0], ['test top-1 (%)', '—', '—', 84.63, 41.23]);
    assert.deepEqual(s.tables[1].rows[1], ['best: mild', '—', 55]);
    const r = recipeHeadline(real, results, 'quick');
    assert.equal(r.standIn, undefined);
    assert.deepEqual(r.tables[0].rows[1], ['test top-1, flip TTA (%)', '—', '—', 85.45, 82.12]);
  });
});

describe('--with-benchmarks', () => {
  it('trains (or resumes) the benchmark and evaluates it only when needed, never in smoke mode', () => {
    const cmds = (s: Parameters<typeof benchmarkPlan>[0], m: Mode = 'quick') => benchmarkPlan(s, m).map((x) => x.command);
    assert.deepEqual(cmds({ exists: false, finished: false, hasTta: false }), [BENCHMARK_COMMANDS.train, BENCHMARK_COMMANDS.evalTta]);
    assert.deepEqual(cmds({ exists: true, finished: false, hasTta: false }), [`${BENCHMARK_COMMANDS.train} --resume`, BENCHMARK_COMMANDS.evalTta]);
    assert.deepEqual(cmds({ exists: true, finished: true, hasTta: false }), [BENCHMARK_COMMANDS.evalTta]);
    assert.deepEqual(cmds({ exists: true, finished: true, hasTta: true }), []);
    assert.deepEqual(cmds({ exists: false, finished: false, hasTta: false }, 'smoke'), []);
    assert.deepEqual(benchmarkPlan({ exists: false, finished: false, hasTta: false }, 'quick')[0].args,
      ['convnext', 'train', '--config', 'configs/cifar10-quick.yaml', '--out', 'runs/cifar10-quick']);
  });

  it('runs the commands README documents for the benchmark', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    for (const c of Object.values(BENCHMARK_COMMANDS)) assert.ok(readme.includes(c), `README does not show \`${c}\``);
  });
});

describe('the report\'s front page', () => {
  const base = { finishedAt: '2026-12-07T18:00:00.000Z', seconds: 10 };
  const result = (name: string, m: Mode, headline?: Headline): NotebookResult => ({
    ...base, name, title: name, status: 'ok', mode: m, html: `/r/${name}.html`, ipynb: `/r/${name}.ipynb`, headline,
    expectedSeconds: expectedSeconds(name, m),
  });
  const summary = (notebooks: NotebookResult[]): ReportSummary => ({
    mode: 'quick', startedAt: 'now', seconds: 20, notebooks, host: { cpus: 2, cpuModel: 'cpu', memoryGiB: 8, node: 'v20' },
  });
  const h03: Headline = {
    notebook: '03-training-recipe', mode: 'smoke', writtenAt: '', standIn: 'Notebook 03 shows a stand-in <tiny>.',
    tables: [{ caption: 'CIFAR-10 benchmark', columns: ['quantity', 'README (quoted)', 'ours'], rows: [['top-1', 80.84, null]] }],
  };

  it('introduces the reproduction: the paper with its link, the study by name, the scale', () => {
    const html = indexHtml(summary([result('00-environment', 'quick')]));
    assert.ok(html.includes('href="https://arxiv.org/abs/2201.03545"'));
    assert.ok(html.includes('对 &#39;A ConvNet for the 2020s&#39; 的论文复现') || html.includes('对 \'A ConvNet for the 2020s\' 的论文复现'), 'names the study');
    assert.match(html, /What was reproduced, and at what scale/);
    assert.match(html, /nothing here is trained on ImageNet/);
    assert.doesNotMatch(html, /\(mode: quick\)<\/h1>/, 'no global mode in the heading');
  });

  it('states the mode of each page, and warns when the pages come from different modes', () => {
    const one = indexHtml(summary([result('00-environment', 'quick'), result('01-convnext-family', 'quick')]));
    assert.doesNotMatch(one, /different modes/);
    const mixed = indexHtml(summary([result('00-environment', 'quick'), result('01-convnext-family', 'smoke'), result('02-x', 'quick')]));
    assert.match(mixed, /These pages come from different modes:<\/b> quick \(2 pages\), smoke \(1 page\)/);
    assert.match(mixed, /<a href="01-convnext-family\.html">01-convnext-family<\/a><\/td><td>01-convnext-family<\/td><td><span[^>]*>ok<\/span><\/td><td>smoke<\/td>/);
    assert.equal(modesText([{ mode: 'smoke' }, { mode: 'smoke' }]), 'smoke (2 pages)');
    assert.match(indexHtml(summary([result('00-environment', 'smoke')])), /Every page was run in <b>smoke<\/b> mode/);
  });

  it('shows the quoted ImageNet table and each notebook\'s headline tables, with their source and mode', () => {
    const html = indexHtml(summary([result('03-training-recipe', 'smoke', h03)]));
    const quoted = quotedImagenetTable();
    assert.deepEqual(quoted.rows[0], ['ConvNeXt-T', 82.1, 81.2, 'not trained']);
    assert.ok(html.includes(headlineTableHtml(quoted)));
    assert.match(html, /<caption>CIFAR-10 benchmark <small>\(from <a href="03-training-recipe\.html">03-training-recipe<\/a>, mode: smoke\)<\/small><\/caption>/);
    assert.match(html, /<th scope="row">top-1<\/th><td class="num">80\.84<\/td><td>—<\/td>/);
  });

  it('says clearly when notebook 03 shows a stand-in, and how to get the benchmark', () => {
    const html = indexHtml(summary([result('03-training-recipe', 'smoke', h03)]));
    assert.match(html, /<b>⚠ Stand-in:<\/b> Notebook 03 shows a stand-in &lt;tiny&gt;\. To show the benchmark run instead: <code>npm run report -- --with-benchmarks<\/code>/);
    assert.doesNotMatch(indexHtml(summary([result('03-training-recipe', 'quick', { ...h03, standIn: undefined })])), /Stand-in:/);
  });

  it('gives every notebook page a link back to the front page (the nbconvert template)', () => {
    const tpl = fs.readFileSync(path.join(ROOT, 'src', 'notebook', 'nbconvert', 'convnext', 'index.html.j2'), 'utf8');
    assert.match(tpl, /\{%- block body_header -%\}[\s\S]*\{\{ super\(\) \}\}[\s\S]*<a href="index\.html"/);
    assert.match(tpl, /resources\.convnext_mode/);
  });
});

describe('confusion matrix colours', () => {
  it('darkens as the share grows, from 0% to 100%, with a titled colour bar', () => {
    const t = confusionTrace({ classes: ['a', 'b'], model: { confusion: [[9, 1], [0, 10]] } } as never);
    assert.deepEqual(t.z, [[90, 10], [0, 100]]);
    assert.equal(t.colorscale, CONFUSION_COLORSCALE);
    assert.ok(!t.reversescale);
    assert.deepEqual([t.zmin, t.zmax], [0, 100]);
    assert.match(JSON.stringify(t.colorbar), /true class/);
    const luminance = (hex: string) => {
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const lum = CONFUSION_COLORSCALE.map(([, c]) => luminance(c));
    assert.deepEqual(CONFUSION_COLORSCALE.map(([s]) => s), [...CONFUSION_COLORSCALE.map(([s]) => s)].sort((a, b) => a - b));
    for (let i = 1; i < lum.length; i++) assert.ok(lum[i] < lum[i - 1], `stop ${i} is not darker than stop ${i - 1}`);
    assert.ok(lum[0] > 240, 'zero is (nearly) white');
  });
});
