/**
 * Executes every notebook in notebooks/ in smoke mode through the report's own code path
 * (`runReport`), so notebooks added later are covered without touching this file.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ReportSummary, listNotebooks, runReport } from '../../src/notebook/runner';

const ROOT = path.resolve(__dirname, '..', '..');
const NOTEBOOKS = listNotebooks(path.join(ROOT, 'notebooks'));

interface Ipynb {
  cells: Array<{ cell_type: string; execution_count?: number | null; outputs?: Array<{ output_type: string }> }>;
}

describe('notebooks (smoke mode, as `npm run report` runs them)', function () {
  // Kernel start-up and tslab's first type check take 10-20 s per notebook on a loaded 2-core machine.
  this.timeout(60_000 + NOTEBOOKS.length * 240_000);
  let out: string;
  let summary: ReportSummary;

  before(async function () {
    // Idempotent: creates .venv and the kernelspec on a fresh checkout (CI), seconds otherwise.
    const setup = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'setup.js'), '--jupyter'], {
      cwd: ROOT, stdio: 'inherit',
    });
    assert.equal(setup.status, 0, 'node scripts/setup.js --jupyter failed');
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'convnext-report-'));
    summary = await runReport({ mode: 'smoke', outDir: out, jobs: 2 });
  });

  after(() => {
    if (out) fs.rmSync(out, { recursive: true, force: true });
  });

  it('finds the notebooks', () => {
    assert.ok(NOTEBOOKS.length >= 2, `only ${NOTEBOOKS.length} notebooks in notebooks/`);
  });

  it('keeps committed notebooks free of outputs (a chart output carries 4.8 MB of plotly.js)', () => {
    for (const file of NOTEBOOKS) {
      const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as Ipynb;
      const dirty = nb.cells.filter((c) => c.cell_type === 'code' && ((c.outputs?.length ?? 0) > 0 || c.execution_count != null));
      assert.equal(dirty.length, 0,
        `${path.basename(file)} has outputs in ${dirty.length} code cells: clear them (Edit > Clear Outputs of All Cells) before committing`);
    }
  });

  it('renders the "Running this notebook" block from one helper instead of repeating it in prose', () => {
    for (const file of NOTEBOOKS) {
      const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Array<{ cell_type: string; source: string | string[] }> };
      const text = (c: { source: string | string[] }) => (Array.isArray(c.source) ? c.source.join('') : c.source);
      const name = path.basename(file, '.ipynb');
      assert.ok(nb.cells.some((c) => c.cell_type === 'code' && text(c).includes(`runningThisNotebook('${name}'`)),
        `${name} does not call runningThisNotebook('${name}', …)`);
      assert.ok(!nb.cells.some((c) => c.cell_type === 'markdown' && text(c).includes('**Running this notebook.**')),
        `${name} repeats the "Running this notebook" block in a markdown cell`);
    }
  });

  it('writes the index and summary linking every notebook', () => {
    const index = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
    const saved = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as ReportSummary;
    assert.equal(saved.mode, 'smoke');
    assert.deepEqual(saved.notebooks.map((r) => r.name), NOTEBOOKS.map((f) => path.basename(f, '.ipynb')));
    for (const r of saved.notebooks) {
      assert.ok(index.includes(`href="${r.name}.html"`), `index.html does not link ${r.name}.html`);
    }
  });

  it('makes the index the front page: paper link, headline records of the notebooks, each page\'s mode, the stand-in said', () => {
    const index = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
    assert.ok(index.includes('href="https://arxiv.org/abs/2201.03545"'), 'no link to the paper');
    assert.match(index, /Every page was run in <b>smoke<\/b> mode/);
    const saved = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as ReportSummary;
    for (const name of ['02-modernization-roadmap', '03-training-recipe', '04-study-modules', '05-performance']) {
      const r = saved.notebooks.find((n) => n.name === name);
      if (!r) continue; // a notebook renamed or removed: the per-notebook tests say so
      assert.ok(r.headline && r.headline.tables.length > 0, `${name} emitted no headline record`);
      assert.equal(r.headline.mode, 'smoke');
      assert.ok(index.includes(`from <a href="${name}.html">${name}</a>, mode: smoke`), `index.html shows no headline table of ${name}`);
    }
    const r03 = saved.notebooks.find((n) => n.name === '03-training-recipe');
    if (r03) {
      assert.match(r03.headline?.standIn ?? '', /stand-in/, 'smoke mode always shows a stand-in: the headline must say so');
      assert.match(index, /⚠ Stand-in:/);
      assert.match(fs.readFileSync(r03.html, 'utf8'), /Stand-in, not the benchmark \(smoke mode\)/);
    }
  });

  it('links every notebook page back to the index, naming its mode', () => {
    for (const file of NOTEBOOKS) {
      const html = fs.readFileSync(path.join(out, `${path.basename(file, '.ipynb')}.html`), 'utf8');
      assert.match(html, /<a href="index\.html"[^>]*>[^<]*all notebooks/, `${path.basename(file)}: no link back to index.html`);
      assert.match(html, /this page: <b>mode smoke<\/b>/);
    }
  });

  for (const file of NOTEBOOKS) {
    const name = path.basename(file, '.ipynb');
    it(`${name} runs without errors`, () => {
      const r = summary.notebooks.find((n) => n.name === name);
      assert.ok(r, `${name} was not executed`);
      assert.equal(r.status, 'ok',
        `${name}: code cell ${r.cell} failed (${r.kind}): ${r.message}\n${r.source}\n${r.stderr ?? ''}`);
      const nb = JSON.parse(fs.readFileSync(r.ipynb, 'utf8')) as Ipynb;
      const code = nb.cells.filter((c) => c.cell_type === 'code');
      assert.ok(code.every((c) => typeof c.execution_count === 'number'), `${name}: some code cells did not run`);
      assert.ok(!code.some((c) => c.outputs?.some((o) => o.output_type === 'error')), `${name}: an error output`);
      assert.ok(fs.statSync(r.html).size > 0, `${name}.html is empty`);
    });
  }
});
