/**
 * Vision Transformer: logits against timm's VisionTransformer (small config, random non-trivial weights,
 * test/fixtures/make_transformer_fixtures.py) at its native size and at a non-square other size (position
 * embedding resampled as timm's dynamic_img_size); params of the timm models exactly; ViT-B/16's MACs by
 * hand; weights that load strictly into timm; a few training steps; no tensor leak.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../../src/backend';
import {
  VisionTransformer, complexity, createModel, loadStateDict, loadWeights, readStateDict, resampleVitPosEmbed,
} from '../../src/convnext';
import { withoutInit } from '../../src/nn';
import {
  PARITY_DIR, SCRIPT, assertClose, assertFitsFixedBatch, assertTimmRoundTrip, findPython, fixture, get, nhwc,
} from '../fixtures/parity';

/** The fixture's configuration (VIT_SMALL in make_transformer_fixtures.py). */
const SMALL = { imgSize: 32, patchSize: 8, embedDim: 24, depth: 2, numHeads: 3, numClasses: 10 };
const io = fixture('vit_io.safetensors');
const counts = JSON.parse(fs.readFileSync(path.join(PARITY_DIR, 'transformer_counts.json'), 'utf-8')) as
  { params: Record<string, number> };

function loaded(): VisionTransformer {
  const m = new VisionTransformer(SMALL).eval();
  loadWeights(m, path.join(PARITY_DIR, 'vit_timm.safetensors'));
  return m;
}

describe('ViT: parity with timm', () => {
  it('timm\'s keys load one-to-one (strict), and the logits match at 32x32', () => {
    const m = loaded();
    const x = nhwc(get(io, 'input'));
    const y = m.forward(x);
    assertClose(y, get(io, 'logits'), 'vit logits 32x32');
    tf.dispose([x, y]);
    m.dispose();
  });

  it('at 48x40 (6x5 grid) the position embedding is resampled as timm\'s dynamic_img_size', () => {
    const m = loaded();
    const x = nhwc(get(io, 'input_other'));
    const y = m.forward(x);
    assertClose(y, get(io, 'logits_other'), 'vit logits 48x40');
    tf.dispose([x, y]);
    m.dispose();
  });

  it('resampleVitPosEmbed loads the 32-px weights into a model built for 48 px', () => {
    const sd = readStateDict(path.join(PARITY_DIR, 'vit_timm.safetensors')).stateDict;
    const big = new VisionTransformer({ ...SMALL, imgSize: 48 }).eval();
    assert.throws(() => loadStateDict(big, sd), /pos_embed/);
    loadStateDict(big, resampleVitPosEmbed(sd, big));
    // Resampled once at load, the 48-px model gives what the 32-px one gives at 48 px (6x6 grid).
    const small = loaded();
    const x = tf.randomNormal([1, 48, 48, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const [a, b] = [big.forward(x), small.forward(x)];
    assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]) < 1e-4);
    tf.dispose([x, a, b]);
    big.dispose();
    small.dispose();
  });
});

describe('ViT: params and MACs', () => {
  it('params equal timm\'s for vit_tiny / small / base_patch16_224', () => {
    const expected: Record<string, number> = {
      vit_tiny_patch16_224: 5_717_416, vit_small_patch16_224: 22_050_664, vit_base_patch16_224: 86_567_656,
    };
    for (const [name, n] of Object.entries(expected)) {
      assert.equal(counts.params[name], n, `fixture (timm) count of ${name}`);
      const m = withoutInit(() => createModel(name));
      assert.equal(m.numParams(), n, name);
      m.dispose();
    }
  });

  it('ViT-B/16 at 224: 17,563,828,224 MACs, as counted by hand', () => {
    // 14x14 patches + the class token = 197 tokens of width 768, MLP 3072, 12 blocks, 1000 classes.
    const [n, d, hidden, depth] = [197, 768, 3072, 12];
    const patchEmbed = 196 * d * (16 * 16 * 3); //  115,605,504
    const qkv = n * d * 3 * d; //                   348,585,984
    const qk = n * n * d; //                          29,805,312 (q·kᵀ, all heads)
    const av = n * n * d; //                          29,805,312 (attn·v)
    const proj = n * d * d; //                      116,195,328
    const mlp = 2 * n * d * hidden; //              929,562,624
    const head = d * 1000; //                           768,000
    const byHand = patchEmbed + depth * (qkv + qk + av + proj + mlp) + head;
    assert.equal(byHand, 17_563_828_224);
    const m = withoutInit(() => createModel('vit_base_patch16_224'));
    const c = complexity(m, 224);
    assert.equal(c.macs, byHand);
    assert.equal(c.macsByScope.get('blocks.0'), qkv + qk + av + proj + mlp);
    assert.equal(c.macsByScope.get('patch_embed.proj'), patchEmbed);
    m.dispose();
  });
});

describe('ViT: training and memory', function () {
  this.timeout(300_000);

  it('a tiny ViT fits a fixed batch: the loss falls; no tensor leak after a forward and a training step', () => {
    assertFitsFixedBatch(new VisionTransformer({ imgSize: 16, patchSize: 4, embedDim: 32, depth: 2, numHeads: 2, numClasses: 3, dropPathRate: 0.1 }), 16);
  });
});

describe('ViT: round trip through timm (python with torch, timm, safetensors)', function () {
  this.timeout(300_000);
  before(function () {
    if (!findPython()) {
      console.log(`    skipped: no python (PYTHON, python3, .venv/bin/python, /usr/bin/python3) runs ${SCRIPT} --check`);
      this.skip();
    }
  });

  it('weights saved here load strictly into timm\'s VisionTransformer and give our logits', () => {
    // Random weights: the check covers the exporter alone.
    assertTimmRoundTrip(new VisionTransformer(SMALL).eval(), 'vit', get(io, 'input'));
  });
});
