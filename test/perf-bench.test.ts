/**
 * `npm run bench` end to end on CI-size shapes: the results file it writes, its statistics, and that the
 * PyTorch reference (bench/torch_reference.py) runs the very same network as ours, checked by loading
 * our weights and comparing logits on one input.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeCheckFiles } from '../bench/lib/ours';
import { BenchResults, markdownReport } from '../bench/lib/results';
import { findTorch, runTorchCase } from '../bench/lib/torch';
import { median, timingStats } from '../src/util/timing';

const ROOT = path.resolve(__dirname, '..');

describe('bench (npm run bench)', function () {
  this.timeout(240_000);
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'convnext-bench-test-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('summarises step times: median of odd and even counts, images/s at the median', () => {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    const s = timingStats([100, 300, 200], 4);
    assert.deepEqual([s.minMs, s.medianMs, s.maxMs], [100, 200, 300]);
    assert.equal(s.imagesPerSecond, 20);
  });

  it('writes a results file with timed cases (in alternating rounds), the matmul peak and a Markdown table', () => {
    const out = path.join(tmp, 'r.json');
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'bench.ts'), '--quick', '--no-torch',
      '--cases', 'convnext_atto:32:2:eval,convnext_atto:32:2:train,peak', '--min-iters', '2', '--max-iters', '2', '--rounds', '2', '--out', out],
    { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(fs.readFileSync(out, 'utf8')) as BenchResults;
    assert.equal(res.mode, 'quick');
    assert.equal(res.rounds, 2);
    assert.deepEqual(res.cases.map((c) => c.case.name), ['convnext_atto 32px b2 inference', 'convnext_atto 32px b2 train step']);
    for (const c of res.cases) {
      assert.equal(c.ours.timesMs.length, 2, 'one timed step in each of the two rounds');
      assert.ok(c.ours.minMs > 0 && c.ours.minMs <= c.ours.medianMs && c.ours.medianMs <= c.ours.maxMs);
      assert.ok(c.ours.gflops > 0 && c.torch === undefined);
    }
    // A training step counts forward + backward: three times the inference FLOPs per image.
    assert.equal(res.cases[1].flopsPerCall, 3 * res.cases[0].flopsPerCall);
    assert.ok(res.peak && res.peak.oursGflops > 0);
    assert.ok(r.stdout.includes('| convnext_atto 32px b2 train step |'));
    assert.equal(markdownReport(res), r.stdout.trim());
  });

  it('the PyTorch reference loads our weights and reproduces our logits', function () {
    const torch = findTorch();
    if (!torch) this.skip();
    const c = { name: 'atto', model: 'convnext_atto', size: 32, batch: 2, mode: 'eval' as const, numClasses: 10, dropPath: 0 };
    const files = writeCheckFiles(c, tmp);
    const t = runTorchCase(torch!, { ...c, threads: 1, weights: files.weights, checkInput: files.input, checkLogits: files.logits },
      { warmup: 0, minIters: 1, maxIters: 1, minSeconds: 0 });
    assert.ok(t.checkMaxAbsLogit! > 0.01, 'logits too small to compare');
    assert.ok(t.checkMaxAbsDiff! < 1e-4 * Math.max(1, t.checkMaxAbsLogit!), `|Δ logits| = ${t.checkMaxAbsDiff}`);
    assert.equal(t.timesMs.length, 1);
  });
});
