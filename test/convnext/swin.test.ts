/**
 * Swin Transformer: logits against timm's SwinTransformer (small config with padded and shifted windows,
 * random non-trivial weights including the relative position bias tables; see
 * test/fixtures/make_transformer_fixtures.py) at its native size and at another size (the mask rebuilt, as
 * timm's strict_img_size=False); timm's window plan; params of the timm models exactly; MACs within 1% of
 * the paper's; weights that load strictly into timm; a few training steps; no tensor leak.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../../src/backend';
import { SwinTransformer, WeightsError, complexity, createModel, loadStateDict, loadWeights, readStateDict } from '../../src/convnext';
import { withoutInit } from '../../src/nn';
import {
  PARITY_DIR, SCRIPT, assertClose, assertFitsFixedBatch, assertTimmRoundTrip, findPython, fixture, get, nhwc,
} from '../fixtures/parity';

/** The fixture's configuration (SWIN_SMALL in make_transformer_fixtures.py). */
const SMALL = { imgSize: 20, patchSize: 2, embedDim: 12, depths: [2, 2, 2], numHeads: [2, 2, 4], windowSize: 3, numClasses: 10 };
const io = fixture('swin_io.safetensors');
const counts = JSON.parse(fs.readFileSync(path.join(PARITY_DIR, 'transformer_counts.json'), 'utf-8')) as
  { params: Record<string, number> };

function loaded(): SwinTransformer {
  const m = new SwinTransformer(SMALL).eval();
  const r = loadWeights(m, path.join(PARITY_DIR, 'swin_timm.safetensors'));
  assert.equal(r.loadedKeys.length, m.namedParameters().length);
  return m;
}

describe('Swin: parity with timm', () => {
  it('windows and shifts per block are timm\'s (clamped where the map is no larger than the window)', () => {
    const m = new SwinTransformer(SMALL);
    const ours = m.layers.items.flatMap((s) => s.blocks.items.map((b) => [...b.windowSize, ...b.shiftSize]));
    const plan = get(io, 'plan');
    assert.deepEqual(ours.flat(), Array.from(plan.data));
    m.dispose();
    const tiny = withoutInit(() => createModel('swin_tiny_patch4_window7_224') as SwinTransformer);
    const shifts = tiny.layers.items.map((s) => s.blocks.items.map((b) => b.shiftSize[0]));
    assert.deepEqual(shifts, [[0, 3], [0, 3], [0, 3, 0, 3, 0, 3], [0, 0]]);
    tiny.dispose();
  });

  it('timm\'s keys load one-to-one (strict), and the logits match at 20x20 (padded, shifted, masked windows)', () => {
    const m = loaded();
    const x = nhwc(get(io, 'input'));
    const y = m.forward(x);
    assertClose(y, get(io, 'logits'), 'swin logits 20x20');
    tf.dispose([x, y]);
    m.dispose();
  });

  it('at 28x28 the masks follow the size met (timm\'s strict_img_size=False)', () => {
    const m = loaded();
    const x = nhwc(get(io, 'input_other'));
    const y = m.forward(x);
    assertClose(y, get(io, 'logits_other'), 'swin logits 28x28');
    tf.dispose([x, y]);
    m.dispose();
  });

  it('an old checkpoint\'s relative_position_index and attn_mask buffers are ignored; a wrong class count is named', () => {
    const sd = readStateDict(path.join(PARITY_DIR, 'swin_timm.safetensors')).stateDict;
    const withBuffers = new Map(sd);
    withBuffers.set('layers.0.blocks.0.attn.relative_position_index', { shape: [81], data: new Float32Array(81) });
    withBuffers.set('layers.0.blocks.1.attn_mask', { shape: [1], data: new Float32Array(1) });
    const m = new SwinTransformer(SMALL);
    loadStateDict(m, withBuffers);
    const other = new SwinTransformer({ ...SMALL, numClasses: 5 });
    assert.throws(() => loadStateDict(other, sd), (e: unknown) =>
      e instanceof WeightsError && e.classCount?.file === 10 && e.classCount.model === 5);
    loadStateDict(other, sd, { ignoreHead: true });
    m.dispose();
    other.dispose();
  });
});

describe('Swin: params and MACs', () => {
  it('params equal timm\'s for swin_tiny / small / base_patch4_window7_224', () => {
    const expected: Record<string, number> = {
      swin_tiny_patch4_window7_224: 28_288_354,
      swin_small_patch4_window7_224: 49_606_258, // timm 1.0.29, sum(p.numel())
      swin_base_patch4_window7_224: 87_768_224,
    };
    for (const [name, n] of Object.entries(expected)) {
      assert.equal(counts.params[name], n, `fixture (timm) count of ${name}`);
      const m = withoutInit(() => createModel(name));
      assert.equal(m.numParams(), n, name);
      m.dispose();
    }
  });

  it('MACs at 224 within 1% of the paper\'s FLOPs (Swin-T 4.5G, Swin-S 8.7G, Swin-B 15.4G)', () => {
    const paper: Record<string, number> = {
      swin_tiny_patch4_window7_224: 4.5e9, swin_small_patch4_window7_224: 8.7e9, swin_base_patch4_window7_224: 15.4e9,
    };
    for (const [name, flops] of Object.entries(paper)) {
      const m = withoutInit(() => createModel(name));
      const c = complexity(m, 224);
      assert.ok(Math.abs(c.macs / flops - 1) < 0.01, `${name}: ${c.macs} vs ${flops}`);
      assert.deepEqual(c.outputShape, [1, 1, 1000]);
      m.dispose();
    }
  });

  it('Swin-T stage 1, by hand: 2 blocks of qkv + q·kᵀ + attn·v + proj + MLP on 64 windows of 49 tokens', () => {
    const m = withoutInit(() => createModel('swin_tiny_patch4_window7_224'));
    const c = complexity(m, 224);
    const [t, C, win, n] = [56 * 56, 96, 64, 49];
    const block = t * C * 3 * C + 2 * win * n * n * C + t * C * C + 2 * t * C * 4 * C;
    assert.equal(c.macsByScope.get('layers.0'), 2 * block);
    assert.equal(c.macsByScope.get('patch_embed.proj'), t * C * 4 * 4 * 3);
    m.dispose();
  });
});

describe('Swin: training and memory', function () {
  this.timeout(300_000);

  it('a tiny Swin (padded, shifted windows) fits a fixed batch: the loss falls; no tensor leak', () => {
    // 20 px, patch 2: a 10x10 map with window 4 (padded to 12, shift 2), then 5x5 (padded to 8).
    assertFitsFixedBatch(new SwinTransformer({ imgSize: 20, patchSize: 2, embedDim: 16, depths: [2, 2], numHeads: [2, 2], windowSize: 4, numClasses: 3, dropPathRate: 0.1 }), 20);
  });
});

describe('Swin: round trip through timm (python with torch, timm, safetensors)', function () {
  this.timeout(300_000);
  before(function () {
    if (!findPython()) {
      console.log(`    skipped: no python (PYTHON, python3, .venv/bin/python, /usr/bin/python3) runs ${SCRIPT} --check`);
      this.skip();
    }
  });

  it('weights saved here load strictly into timm\'s SwinTransformer and give our logits', () => {
    // Random weights: the check covers the exporter alone.
    assertTimmRoundTrip(new SwinTransformer(SMALL).eval(), 'swin', get(io, 'input'));
  });
});
