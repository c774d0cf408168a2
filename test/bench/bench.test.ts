/**
 * `npm run bench` end to end on CI-size shapes: the results file it writes, its statistics, that the
 * PyTorch reference (bench/torch_reference.py) runs the very same network as ours, checked by loading
 * our weights and comparing logits on one input, that the ONNX Runtime peer times our exported model after
 * checking its logits against ours, and the degraded-anchor flag and target column on hand-made numbers.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeCheckFiles, type ModelCase } from '../../bench/lib/ours';
import { ORT_CHECK_TOLERANCE, OrtPeer } from '../../bench/lib/ort';
import {
  ANCHOR_THRESHOLD, BenchResults, CASE_HEADER, CaseResult, TARGETS, anchorDegraded, caseRows, caseTarget, markdownReport, targetCell,
} from '../../bench/lib/results';
import { checkTimm, findTorch, runTorchCase, torchUnavailable } from '../../bench/lib/torch';
import { median, timingStats } from '../../src/util/timing';

const ROOT = path.resolve(__dirname, '..', '..');

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

  it('Swin and ViT on the PyTorch side: through timm with our weights and logits, or n/a with the reason', function () {
    const torch = findTorch();
    if (!torch) this.skip();
    const timm = checkTimm(torch!);
    if (timm.error !== undefined) {
      // Where timm does not import (e.g. no torchvision), the bench says why instead of failing.
      assert.match(torchUnavailable(torch!, 'swin_tiny_patch4_window7_224')!, /^timm does not import \(.+\)$/);
      assert.equal(torchUnavailable(torch!, 'convnext_tiny'), undefined, 'the ConvNeXts need no timm');
      return;
    }
    assert.equal(torchUnavailable(torch!, 'vit_small_patch16_224'), undefined);
    for (const model of ['swin_tiny_patch4_window7_224', 'vit_small_patch16_224']) {
      // At 32 px, as the bench's --quick runs them at 64: Swin pads its maps, ViT resamples its position embedding.
      const c = { name: model, model, size: 32, batch: 1, mode: 'eval' as const, numClasses: 10, dropPath: 0 };
      const files = writeCheckFiles(c, tmp);
      const t = runTorchCase(torch!, { ...c, threads: 1, weights: files.weights, checkInput: files.input, checkLogits: files.logits, anchorPeakN: 64 },
        { warmup: 0, minIters: 1, maxIters: 1, minSeconds: 0 });
      assert.ok(t.implementation?.startsWith('timm'), t.implementation);
      assert.ok(t.checkMaxAbsLogit! > 0.01, 'logits too small to compare');
      assert.ok(t.checkMaxAbsDiff! < 1e-4 * Math.max(1, t.checkMaxAbsLogit!), `${model}: |Δ logits| = ${t.checkMaxAbsDiff}`);
      assert.ok(t.anchorPeakGflops! > 0);
    }
  });

  it('times ONNX Runtime on our exported model in --quick mode, after its logits match ours', () => {
    const out = path.join(tmp, 'ort.json');
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'bench.ts'), '--quick', '--no-torch',
      '--cases', 'tiny-infer-b1,convnext_atto:32:2:train', '--min-iters', '1', '--max-iters', '1', '--rounds', '2', '--threads', '1', '--out', out],
    { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(fs.readFileSync(out, 'utf8')) as BenchResults;
    assert.equal(res.threads.ort, 1);
    assert.ok(res.software.onnxruntime);
    assert.deepEqual(res.targets, TARGETS);
    const [infer, train] = res.cases;
    assert.equal(infer.case.name, 'convnext_atto 64px b1 inference');
    const ort = infer.ort!;
    assert.ok(ort, 'an inference case has ORT figures');
    assert.equal(ort.timesMs.length, 2, 'one timed step in each of the two rounds');
    assert.deepEqual([ort.intraOpThreads, ort.interOpThreads, ort.graphOptimizationLevel, ort.executionMode], [1, 1, 'all', 'sequential']);
    assert.ok(ort.checkMaxAbsLogit > 0.01, 'logits too small to compare');
    assert.ok(ort.checkOk && ort.checkMaxAbsDiff <= ORT_CHECK_TOLERANCE * Math.max(1, ort.checkMaxAbsLogit), `|Δ logits| = ${ort.checkMaxAbsDiff}`);
    assert.ok(Math.abs(infer.ortRatio! - infer.ours.imagesPerSecond / ort.imagesPerSecond) < 1e-9);
    assert.equal(infer.target!.peer, 'ort');
    assert.equal(infer.target!.min, 0.9);
    assert.equal(infer.target!.pass, infer.ortRatio! >= 0.9);
    // Training has no ORT side; without PyTorch its target is not judged.
    assert.equal(train.ort, undefined);
    assert.deepEqual(train.target, { peer: 'torch', min: 1, note: 'no PyTorch' });
    assert.equal(markdownReport(res), r.stdout.trim());
    const header = r.stdout.split('\n').find((l) => l.startsWith('| case |'))!;
    assert.ok(header.includes('| ours / ORT |') && header.includes('| target |'), header);
    assert.ok(r.stdout.includes(`| ${infer.ortRatio!.toFixed(2)} | ≥ 0.9 vs ORT: ${infer.target!.pass ? 'pass' : 'FAIL'} |`), r.stdout);
  });

  it('the ORT check catches logits that are not ours', async () => {
    const c = { name: 'atto', model: 'convnext_atto', size: 32, batch: 2, mode: 'eval' as const, numClasses: 10, dropPath: 0 };
    const files = writeCheckFiles(c, path.join(tmp, 'bad'), { onnx: true });
    const good = await OrtPeer.open({ ...c, onnx: files.onnx!, threads: 1, checkInput: files.input, checkLogits: files.logits });
    await good.release();
    assert.ok(good.check.ok, `|Δ logits| = ${good.check.maxAbsDiff}`);
    const raw = fs.readFileSync(files.logits);
    const logits = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    logits[3] += 0.1;
    fs.writeFileSync(files.logits, Buffer.from(logits.buffer));
    const bad = await OrtPeer.open({ ...c, onnx: files.onnx!, threads: 1, checkInput: files.input, checkLogits: files.logits });
    const times = await bad.time({ warmup: 0, minIters: 1, maxIters: 1, minSeconds: 0 });
    const r = bad.result(times);
    await bad.release();
    assert.ok(!r.checkOk && Math.abs(r.checkMaxAbsDiff - 0.1) < 1e-3);
  });

  describe('degraded PyTorch anchor and targets (hand-made numbers)', () => {
    const stats = (ips: number, batch: number) => ({ timesMs: [1000 * batch / ips], minMs: 1000 * batch / ips, medianMs: 1000 * batch / ips, maxMs: 1000 * batch / ips, imagesPerSecond: ips });
    const mk = (mode: 'eval' | 'train', batch: number): ModelCase => ({ name: `m b${batch} ${mode}`, model: 'convnext_tiny', size: 224, batch, mode, numClasses: 1000, dropPath: 0 });
    const torch = (ips: number, batch: number, anchor?: number) => ({ ...stats(ips, batch), version: '2', threads: 2, memoryFormat: 'NCHW', peakRssMiB: 1, ...(anchor ? { anchorPeakGflops: anchor } : {}) });
    const ort = (ips: number, batch: number, checkOk = true) => ({ ...stats(ips, batch), version: '1', intraOpThreads: 2, interOpThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential', checkMaxAbsDiff: checkOk ? 1e-6 : 0.5, checkMaxAbsLogit: 2, checkOk });

    it('flags PyTorch as degraded when its matmul peak is under 60% of ours', () => {
      assert.equal(ANCHOR_THRESHOLD, 0.6);
      assert.equal(anchorDegraded(300, 179), true);
      assert.equal(anchorDegraded(300, 180), false, 'exactly 60% is not degraded');
      assert.equal(anchorDegraded(300, 400), false);
      assert.equal(anchorDegraded(300, undefined), false, 'no PyTorch peak: not judged');
      assert.equal(anchorDegraded(undefined, 10), false, 'no peak of ours: not judged');
    });

    it('applies the targets: ORT 0.9 at batch 1, 1.0 batched; PyTorch 1.0 for training, not judged when degraded', () => {
      const c = (x: Partial<CaseResult> & { case: ModelCase }) => x as CaseResult;
      assert.deepEqual(caseTarget(c({ case: mk('eval', 1), ortRatio: 0.95 })), { peer: 'ort', min: 0.9, ratio: 0.95, pass: true });
      assert.deepEqual(caseTarget(c({ case: mk('eval', 1), ortRatio: 0.85 })), { peer: 'ort', min: 0.9, ratio: 0.85, pass: false });
      assert.deepEqual(caseTarget(c({ case: mk('eval', 16), ortRatio: 0.95 })), { peer: 'ort', min: 1, ratio: 0.95, pass: false });
      assert.deepEqual(caseTarget(c({ case: mk('eval', 16), ortRatio: 1.3 })), { peer: 'ort', min: 1, ratio: 1.3, pass: true });
      assert.equal(caseTarget(c({ case: mk('eval', 16), ort: ort(10, 16, false) })).note, 'ORT logits differ from ours');
      assert.equal(caseTarget(c({ case: mk('eval', 1), ratio: 5 })).pass, undefined, 'inference is judged against ORT only');
      assert.deepEqual(caseTarget(c({ case: mk('train', 16), ratio: 1.1 })), { peer: 'torch', min: 1, ratio: 1.1, pass: true });
      assert.deepEqual(caseTarget(c({ case: mk('train', 16), ratio: 0.7 })), { peer: 'torch', min: 1, ratio: 0.7, pass: false });
      assert.deepEqual(caseTarget(c({ case: mk('train', 16), torchDegraded: true, torchRatioRaw: 2 })), { peer: 'torch', min: 1, note: 'PyTorch degraded' });
      assert.equal(targetCell({ peer: 'ort', min: 0.9, ratio: 0.95, pass: true }), '≥ 0.9 vs ORT: pass');
      assert.equal(targetCell({ peer: 'ort', min: 1, ratio: 0.5, pass: false }), '≥ 1.0 vs ORT: FAIL');
      assert.equal(targetCell({ peer: 'torch', min: 1, note: 'PyTorch degraded' }), '≥ 1.0 vs PyTorch: n/a (PyTorch degraded)');
    });

    it('prints a degraded anchor\'s ratio as n/a with the raw figure, and says so under the table', () => {
      const oursStats = (ips: number, batch: number) => ({ ...stats(ips, batch), gflops: 100, tensorsAfter: 0 });
      const degraded: CaseResult = {
        case: mk('train', 16), flopsPerCall: 1, ours: oursStats(20, 16), torch: torch(10, 16, 90), torchRatioRaw: 2, torchDegraded: true,
      };
      degraded.target = caseTarget(degraded);
      const healthy: CaseResult = {
        case: mk('eval', 16), flopsPerCall: 1, ours: oursStats(30, 16), torch: torch(20, 16, 250), torchRatioRaw: 1.5, torchDegraded: false,
        ratio: 1.5, ort: ort(25, 16), ortRatio: 1.2,
      };
      healthy.target = caseTarget(healthy);
      const res: BenchResults = {
        mode: 'subset', createdAt: '2026-12-07T00:00:00.000Z', command: 'npm run bench',
        machine: { cpu: 'cpu', cores: 2, memoryGiB: 8, loadAverageBefore: [0, 0, 0], loadAverageAfter: [0, 0, 0] },
        software: { torch: '2', onnxruntime: '1' }, threads: { ours: 'unset', torch: 2, ort: 2 }, nativeKernels: { enabled: true, detail: '' },
        timing: { warmup: 0, minIters: 1, maxIters: 1, minSeconds: 0 }, rounds: 1,
        peak: { n: 2048, oursGflops: 300, torchGflops: 280 },
        torchAnchor: { n: 2048, threshold: 0.6, oursGflops: 300, torchGflops: 280, share: 280 / 300, degraded: false, degradedCases: [degraded.case.name] },
        targets: TARGETS, cases: [degraded, healthy],
      };
      const rows = caseRows(res);
      assert.equal(rows[0].length, CASE_HEADER.length);
      assert.equal(rows[0][CASE_HEADER.indexOf('ours / PyTorch')], 'n/a: PyTorch degraded (raw 2.00)');
      assert.equal(rows[0][CASE_HEADER.indexOf('target')], '≥ 1.0 vs PyTorch: n/a (PyTorch degraded)');
      assert.equal(rows[0][CASE_HEADER.indexOf('ours / ORT')], 'n/a');
      assert.equal(rows[1][CASE_HEADER.indexOf('ours / PyTorch')], '1.50');
      assert.equal(rows[1][CASE_HEADER.indexOf('ours / ORT')], '1.20');
      assert.equal(rows[1][CASE_HEADER.indexOf('target')], '≥ 1.0 vs ORT: pass');
      const md = markdownReport(res);
      assert.ok(md.includes(`**PyTorch degraded** in this run (${degraded.case.name})`), md);
      assert.ok(md.includes('1 of 1 judged cases pass, 1 not judged'), md);
    });
  });
});
