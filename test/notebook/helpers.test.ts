import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vm from 'vm';
import { tf } from '../../src/backend';
import { createModel } from '../../src/convnext';
import { measureInference } from '../../src/notebook/inference';
import { measureSpeeds } from '../../src/notebook/speed';
import { countTransformers, opProfile } from '../../src/notebook/transformers';
import { byMode, modeLabel, parseMode } from '../../src/notebook/mode';
import { paperRow } from '../../src/notebook/paper';
import { chartHtml, plotlyBundle, plotlyLoaderScript } from '../../src/notebook/plot';
import { show } from '../../src/notebook/display';
import { NotebookResult, indexHtml, listNotebooks, notebookTitle } from '../../src/notebook/runner';
import { formatCell, rowsOf, tableHtml, vsPaper } from '../../src/notebook/table';

/** The text of every cell of the first (only) table, row by row. */
function cells(html: string): string[][] {
  return [...html.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) =>
    [...m[1].matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/g)].map((c) => c[1]));
}

/** The inline script of a chart, without its <script> tags. */
function chartScript(html: string): string {
  const m = /<script type="text\/javascript">([\s\S]*)<\/script>/.exec(html);
  assert.ok(m, 'no script in the chart HTML');
  return m[1];
}

describe('notebook mode', () => {
  it('defaults to quick when CONVNEXT_MODE is unset or blank', () => {
    assert.equal(parseMode(undefined), 'quick');
    assert.equal(parseMode(''), 'quick');
    assert.equal(parseMode('  '), 'quick');
  });

  it('accepts the three modes, trimmed', () => {
    assert.equal(parseMode('smoke'), 'smoke');
    assert.equal(parseMode(' full\n'), 'full');
  });

  it('rejects anything else, naming the valid modes', () => {
    for (const bad of ['fast', 'SMOKE', 'quick2']) {
      assert.throws(() => parseMode(bad), (err: Error) =>
        err.message.includes(`"${bad}"`) && err.message.includes('smoke, quick, full'));
    }
  });

  it('picks the value of the mode', () => {
    const values = { smoke: 1, quick: 10, full: 300 };
    assert.equal(byMode(values, 'smoke'), 1);
    assert.equal(byMode(values, 'quick'), 10);
    assert.equal(byMode(values, 'full'), 300);
    assert.equal(modeLabel('full'), 'mode: full');
  });
});

describe('notebook tables', () => {
  it('puts paper and ours side by side, styled apart, with "—" for a missing paper figure', () => {
    const html = tableHtml([
      { model: 'convnext_tiny', ...vsPaper('GFLOPs', 4.5, 4.455) },
      { model: 'convnext_atto', ...vsPaper('GFLOPs', null, 0.547) },
    ], { caption: 'Table 1', mode: 'smoke', digits: { 'GFLOPs (paper)': 1 } });
    const rows = cells(html);
    assert.deepEqual(rows[0], ['model', 'GFLOPs (paper)', 'GFLOPs (ours)']);
    assert.deepEqual(rows[1], ['convnext_tiny', '4.5', '4.46']);
    assert.deepEqual(rows[2], ['convnext_atto', '—', '0.55']);
    assert.match(html, /<caption[^>]*>Table 1 \(mode: smoke\)<\/caption>/);
    assert.match(html, /<td style="[^"]*font-style:italic;">4\.5<\/td>/);
    assert.match(html, /<td style="[^"]*font-weight:bold;">4\.46<\/td>/);
  });

  it('formats integers with separators, and with decimals only where a column asks for them', () => {
    assert.equal(formatCell(45_122_117_632), '45,122,117,632');
    assert.equal(formatCell(45, 1, true), '45.0');
    assert.equal(formatCell(Number.NaN), '—');
    assert.equal(formatCell(true), 'true');
    const rows = cells(tableHtml([{ n: 45, x: 45 }], { caption: 'c', digits: { x: 1 } }));
    assert.deepEqual(rows[1], ['45', '45.0']);
  });

  it('escapes HTML in captions, headers and cells', () => {
    const html = tableHtml([{ '<b>': '<script>alert(1)</script>' }], { caption: 'a & b', note: '<i>' });
    assert.ok(!html.includes('<script>') && !html.includes('<b>') && !html.includes('<i>'));
    assert.ok(html.includes('&lt;script&gt;') && html.includes('a &amp; b'));
  });

  it('orders columns as asked and rejects a column no row has', () => {
    const rows = [{ a: 1, b: 2 }];
    assert.deepEqual(cells(tableHtml(rows, { caption: 'c', columns: ['b', 'a'] }))[0], ['b', 'a']);
    assert.throws(() => tableHtml(rows, { caption: 'c', columns: ['z'] }), /column "z" is in no row/);
  });

  it('renders a danfojs DataFrame like the rows it holds', () => {
    const dfd = require('danfojs-node') as typeof import('danfojs-node');
    const rows = [{ model: 'atto', params: 3_695_520 }, { model: 'tiny', params: 28_589_128 }];
    const df = new dfd.DataFrame(rows);
    assert.equal(tableHtml(df, { caption: 'c', mode: 'quick' }), tableHtml(rows, { caption: 'c', mode: 'quick' }));
  });

  it('rejects a frame whose rows do not match its columns', () => {
    assert.throws(() => rowsOf({ columns: ['a', 'b'], values: [[1]] }), /row 0 has 1 values for 2 columns/);
  });
});

describe('notebook charts', () => {
  it('states the mode in the title and keeps data from closing the script early', () => {
    const html = chartHtml([{ type: 'bar', name: '</script><b>x', x: ['a'], y: [1] }],
      { title: 'Throughput', mode: 'full' });
    const script = chartScript(html);
    assert.ok(!script.includes('</script'), 'a trace name closed the script element');
    // Run the script against a stand-in Plotly: it must draw the traces with the title and mode.
    const calls: unknown[][] = [];
    const el = { textContent: '' };
    const window: Record<string, unknown> = { Plotly: { newPlot: (...args: unknown[]) => calls.push(args) } };
    vm.runInNewContext(script, { window, document: { getElementById: () => el } });
    assert.equal(calls.length, 1);
    const [target, data, layout] = calls[0] as [unknown, Array<{ name: string }>, { title: { text: string } }];
    assert.equal(target, el);
    assert.equal(data[0].name, '</script><b>x');
    assert.equal(layout.title.text, 'Throughput (mode: full)');
  });

  it('says so in the chart when plotly.js is missing instead of failing', () => {
    const el = { textContent: '' };
    vm.runInNewContext(chartScript(chartHtml([], { title: 't' })), { window: {}, document: { getElementById: () => el } });
    assert.match(el.textContent, /plotly\.js is not loaded/);
  });

  it('gives every chart its own element id', () => {
    const id = (html: string) => /id="([^"]+)"/.exec(html)?.[1];
    assert.notEqual(id(chartHtml([], { title: 't' })), id(chartHtml([], { title: 't' })));
  });

  it('defines window.Plotly even where RequireJS (AMD define) is on the page', () => {
    // The same UMD header as the plotly.js bundle, which would call define() instead.
    const umd = '(function(r,f){typeof exports=="object"&&typeof module=="object"?module.exports=f():' +
      'typeof define=="function"&&define.amd?define([],f):r.Plotly=f()})(self,function(){return {ok:1}});';
    const loader = plotlyLoaderScript(umd).replace(/^<script[^>]*>/, '').replace(/<\/script>$/, '');
    let defined = 0;
    const define = Object.assign(() => { defined += 1; }, { amd: true });
    const ctx: Record<string, unknown> = { define, module: { exports: {} }, exports: {} };
    ctx.window = ctx;
    ctx.self = ctx;
    vm.runInNewContext(loader, ctx);
    assert.equal(JSON.stringify(ctx.Plotly), '{"ok":1}'); // an object from the vm realm
    assert.equal(defined, 0);
  });

  it('minifies plotly.js once into the cache, keeping the UMD header the loader relies on', function () {
    this.timeout(60_000);
    const bundle = plotlyBundle();
    const version = (require('plotly.js-dist/package.json') as { version: string }).version;
    const cached = path.resolve(__dirname, '..', '..', 'node_modules', '.cache', 'convnext-ts', `plotly-${version}.min.js`);
    assert.equal(fs.readFileSync(cached, 'utf8'), bundle);
    assert.ok(bundle.length < 0.6 * fs.statSync(require.resolve('plotly.js-dist/plotly.js')).size);
    assert.match(bundle, /typeof define=="function"&&define\.amd/);
    assert.ok(!/<\/script/i.test(bundle));
  });

  it('refuses to display outside a notebook kernel, saying why', () => {
    assert.throws(() => show('<p>x</p>'), /needs a running tslab kernel/);
  });
});

describe('notebook measurements', () => {
  it('times inference in eval mode without leaking tensors', () => {
    const start = tf.memory().numTensors;
    const model = createModel('convnext_atto');
    // The first eval forward lays out each block's Linear weights for the native kernels, once.
    measureInference(model, { batchSize: 1, size: 32, iterations: 1 });
    const before = tf.memory().numTensors;
    const r = measureInference(model, { batchSize: 2, size: 32, iterations: 2 });
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(r.outputShape, [2, 1000]);
    assert.ok(r.imagesPerSecond > 0 && r.msPerBatch > 0);
    assert.equal(model.training, true, 'training mode was not restored');
    assert.throws(() => measureInference(model, { batchSize: 0, size: 32, iterations: 1 }), /at least 1/);
    model.dispose();
    assert.equal(tf.memory().numTensors, start, 'dispose() frees the parameters and the laid-out weights');
  });

  it('times models in rounds with the benchmark\'s timing, reading the load each round, without leaking tensors', () => {
    const start = tf.memory().numTensors;
    const made: Array<{ training: boolean }> = [];
    const create = (name: string) => { const m = createModel(name, { numClasses: 10 }); made.push(m); return m; };
    const timing = { warmup: 1, minIters: 2, maxIters: 3, minSeconds: 0 };
    const r = measureSpeeds({ models: ['convnext_atto', 'vit_mini_patch8_64'], size: 32, batches: [1, 2], rounds: 2, timing }, create);
    assert.deepEqual(r.map((x) => [x.model, x.batchSize]), [['convnext_atto', 1], ['convnext_atto', 2], ['vit_mini_patch8_64', 1], ['vit_mini_patch8_64', 2]]);
    for (const x of r) {
      assert.equal(x.stats.timesMs.length, 4, 'two timed passes in each of two rounds');
      assert.equal(x.load.length, 2);
      assert.ok(x.stats.minMs <= x.stats.medianMs && x.stats.medianMs <= x.stats.maxMs);
      assert.ok(Math.abs(x.stats.imagesPerSecond - (x.batchSize * 1000) / x.stats.medianMs) < 1e-9);
    }
    assert.equal(made.length, 2, 'each model built once for all rounds');
    assert.ok(made.every((m) => m.training), 'training mode was restored');
    assert.equal(tf.memory().numTensors, start, 'models and inputs disposed');
    const one = measureSpeeds({ models: ['convnext_atto'], size: 32, batches: [1], rounds: 1, timing: { ...timing, minIters: 1, maxIters: 1 } });
    assert.equal(one[0].stats.timesMs.length, 1);
    assert.throws(() => measureSpeeds({ models: ['convnext_atto'], size: 32, batches: [0], rounds: 1, timing }), /at least 1/);
    assert.equal(tf.memory().numTensors, start);
  });

  it('counts the ops TensorFlow.js runs for a forward pass, fused and on plain ops', async () => {
    const start = tf.memory().numTensors;
    const fused = await opProfile('convnext_atto', 32);
    const plain = await opProfile('convnext_atto', 32, { plainOps: true });
    assert.ok(fused.ops > 0 && fused.bytesWritten > 0);
    assert.ok(plain.ops >= fused.ops && plain.bytesWritten >= fused.bytesWritten);
    assert.equal(plain.byKind.reduce((a, [, n]) => a + n, 0), plain.ops);
    const swin = await opProfile('swin_mini_patch4_window4_64', 64);
    assert.ok((swin.byKind.find(([k]) => k === 'Transpose')?.[1] ?? 0) > 0, 'window partition transposes');
    assert.equal(tf.memory().numTensors, start);
  });

  it('counts the six models of the Transformer comparison, at 224² and at the measured size', () => {
    const c = countTransformers(64);
    assert.equal(c.length, 6);
    const swinT = c.find((x) => x.model === 'swin_tiny_patch4_window7_224')!;
    assert.equal(Math.round(swinT.params / 1e6), 28);
    assert.equal(Math.round(swinT.macs / 1e8) / 10, 4.5);
    assert.ok(swinT.macsMeasured < swinT.macs);
    const vitB = c.find((x) => x.model === 'vit_base_patch16_224')!;
    assert.equal(Math.round(vitB.macs / 1e8) / 10, 17.6);
    assert.equal(Math.round(vitB.params / 1e6), 87);
  });

  it('takes the paper row from the ImageNet-1K part where Table 1 has one', () => {
    assert.equal(paperRow('convnext_base', 384)?.gflops, 45.0);
    assert.equal(paperRow('convnext_xlarge', 224)?.section, 'IN-22K');
    assert.equal(paperRow('convnext_atto', 224), undefined);
  });
});

describe('report runner', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convnext-nb-'));
    const nb = (title: string) => JSON.stringify({
      cells: [{ cell_type: 'markdown', source: ['Intro\n', `# ${title}\n`] }], metadata: {}, nbformat: 4, nbformat_minor: 5,
    });
    fs.writeFileSync(path.join(dir, '01-b.ipynb'), nb('Second'));
    fs.writeFileSync(path.join(dir, '00-a.ipynb'), nb('First'));
    fs.writeFileSync(path.join(dir, 'notes.md'), '');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('lists notebooks in name order and filters by prefix', () => {
    assert.deepEqual(listNotebooks(dir).map((f) => path.basename(f)), ['00-a.ipynb', '01-b.ipynb']);
    assert.deepEqual(listNotebooks(dir, ['01']).map((f) => path.basename(f)), ['01-b.ipynb']);
    assert.throws(() => listNotebooks(dir, ['07']), /no notebook .* matches 07; notebooks: 00-a.ipynb, 01-b.ipynb/);
    assert.throws(() => listNotebooks(path.join(dir, 'missing')), /does not exist/);
  });

  it('titles a notebook by its first heading', () => {
    assert.equal(notebookTitle(path.join(dir, '00-a.ipynb')), 'First');
  });

  it('shows each notebook with its status, mode and duration on the index page', () => {
    const base = { mode: 'smoke' as const, finishedAt: '', html: '/r/a.html', ipynb: '/r/a.ipynb' };
    const notebooks: NotebookResult[] = [
      { ...base, name: 'a', title: 'A & co', status: 'ok', seconds: 12.34 },
      { ...base, name: 'b', title: 'B', status: 'error', kind: 'timeout', cell: 3, message: 'Error: <boom>',
        seconds: 5, html: '/r/b.html', ipynb: '/r/b.ipynb' },
    ];
    const html = indexHtml({ mode: 'smoke', startedAt: 'now', seconds: 17.3, notebooks,
      host: { cpus: 2, cpuModel: 'cpu', memoryGiB: 24, node: 'v20' } });
    assert.match(html, /<a href="a\.html">a<\/a><\/td><td>A &amp; co<\/td><td><span[^>]*>ok<\/span><\/td><td>smoke<\/td><td[^>]*>12\.3 s/);
    assert.match(html, /timeout in code cell 3<\/span><br><small>Error: &lt;boom&gt;<\/small>/);
    assert.match(html, /<b>1 failed<\/b>/);
  });
});
