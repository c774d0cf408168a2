/** The study's ConvNeXt builder: module placement, parameter names, hand-counted params and MACs. */
import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import {
  Block, ConvNeXt, STUDY_PRESET_NAMES, StudyConvNeXt, complexity, createModel, createStudyModel, listModels
} from '../../src/convnext';
import { loadStateDict, stateDict } from '../../src/convnext/weights';
import { CBAM, Conv2d, DynamicConv2d, FeatureFusion, ScaledDynamicConv2d, SqueezeExcite, gelu, temperatureAt } from "../../src/nn";

// Stage maps at 64 px: 16, 8, 4, 2 pixels wide.
const arch = { depths: [1, 1, 2, 1], dims: [16, 32, 64, 128], numClasses: 5 };

function shapes(m: { namedParameters(): Array<[string, tf.Variable]> }): Map<string, string> {
  return new Map(m.namedParameters().map(([n, p]) => [n, p.shape.join('x')]));
}

function blocks(m: ConvNeXt): Block[][] {
  return m.stages.map((s) => s.layers as unknown as Block[]);
}

describe('StudyConvNeXt', () => {
  it('without modules is the plain ConvNeXt: same names, shapes, params and MACs', () => {
    const plain = new ConvNeXt(arch);
    const study = new StudyConvNeXt(arch);
    assert.deepEqual([...shapes(study)], [...shapes(plain)]);
    assert.deepEqual(complexity(study, 64).macs, complexity(plain, 64).macs);
    plain.dispose();
    study.dispose();
  });

  it('places attention and dynamic convs only in the configured stages', () => {
    const m = new StudyConvNeXt({ ...arch, attention: { kind: 'se', stages: [2, 3] }, dwconv: { kind: 'dynamic', stages: [0] } });
    blocks(m).forEach((stage, i) => stage.forEach((b) => {
      assert.equal(b.attn instanceof SqueezeExcite, i >= 2, `stage ${i} attention`);
      assert.equal(b.dwconv instanceof DynamicConv2d, i === 0, `stage ${i} dwconv`);
      if (i > 0) assert.ok(b.dwconv instanceof Conv2d);
    }));
    m.dispose();
  });

  it('keeps every plain ConvNeXt parameter name and shape when adding attention, FF or the scaled dwconv', () => {
    const plain = shapes(new ConvNeXt(arch));
    for (const preset of ['cbam', 'se_cbam', 'se_ff', 'dynamic'] as const) {
      const m = createStudyModel(preset, arch);
      const s = shapes(m);
      for (const [name, shape] of plain) assert.equal(s.get(name), shape, `${preset}: ${name}`);
      m.dispose();
    }
  });

  it('counts the extra params and MACs of CBAM by hand', () => {
    const plain = complexity(new ConvNeXt(arch), 64);
    const c = complexity(createStudyModel('cbam', arch), 64);
    // Per block of width C at HxW, hidden h = C // 16: shared MLP on two pooled vectors 2·(C·h + h·C)
    // plus the 7x7 conv on 2 maps, H·W·98. Stages (C, H, blocks): (16,16,1) (32,8,1) (64,4,2) (128,2,1):
    // 25,152 + 6,528 + 2·2,592 + 4,488.
    assert.equal(c.macs - plain.macs, 41_352);
    // Params: fc1 C·h + h, fc2 h·C + C, conv 98, BN 2 (running stats are buffers): 149 + 262 + 2·680 + 2,284.
    assert.equal(c.params - plain.params, 4_055);
  });

  it('counts the extra MACs of SE, FF and both dynamic convs by hand', () => {
    const plainMacs = complexity(new ConvNeXt(arch), 64).macs;
    const extra = (m: ConvNeXt) => complexity(m, 64).macs - plainMacs;
    // SE: 2·C·h per block: 32 + 128 + 2·512 + 2,048.
    assert.equal(extra(new StudyConvNeXt({ ...arch, attention: { kind: 'se' } })), 3_232);
    // FF: four 1x1 projections to 128 channels at the 2x2 target: 4·128·(16 + 32 + 64 + 128).
    assert.equal(extra(createStudyModel('ff', arch)), 122_880);
    // Scaled dwconv: the C→C gate per block: 256 + 1,024 + 2·4,096 + 16,384.
    assert.equal(extra(createStudyModel('dynamic', arch)), 25_856);
    // Canonical dynamic conv: attention C·C/4 + C/4·4 plus kernel aggregation 4·(49 + 1)·C per block:
    // 3,280 + 6,688 + 2·13,888 + 29,824 (the conv itself costs what the static one does).
    assert.equal(extra(new StudyConvNeXt({ ...arch, dwconv: { kind: 'dynamic' } })), 67_568);
  });

  it('classifies the fused map in FF models and exposes it and the stage maps', () => {
    const m = createStudyModel('cbam_ff', arch);
    assert.ok(m.fusion instanceof FeatureFusion);
    assert.deepEqual(m.fusion.fusionWeights(), [0.25, 0.25, 0.25, 0.25]);
    const x = tf.randomNormal([2, 64, 64, 3]) as tf.Tensor4D;
    const map = m.forwardMap(x);
    assert.deepEqual(map.shape, [2, 2, 2, 128]);
    const stages = m.forwardStages(x);
    assert.deepEqual(stages.map((s) => s.shape), [[2, 16, 16, 16], [2, 8, 8, 32], [2, 4, 4, 64], [2, 2, 2, 128]]);
    m.eval();
    const logits = m.forward(x);
    const expected = tf.tidy(() => m.head.forward(m.norm.forward(tf.mean(m.forwardMap(x), [1, 2]) as tf.Tensor2D)));
    assert.deepEqual(logits.arraySync(), expected.arraySync());
    tf.dispose([x, map, ...stages, logits, expected]);
    m.dispose();
  });

  it('fuses at an earlier stage\'s resolution into the last stage\'s width, which the norm and head expect', () => {
    const m = new StudyConvNeXt({ ...arch, fusion: { mode: 'concat', targetStage: 1 } });
    const x = tf.randomNormal([2, 64, 64, 3]) as tf.Tensor4D;
    const map = m.forwardMap(x);
    assert.deepEqual(map.shape, [2, 8, 8, 128]);
    const logits = m.forward(x);
    assert.deepEqual(logits.shape, [2, 5]);
    assert.deepEqual(complexity(m, 64).outputShape, [1, 1, 5]);
    tf.dispose([x, map, logits]);
    m.dispose();
  });

  it('anneals the dynamic convs\' softmax temperature from 30 to 1 over 10 epochs via onEpochStart', () => {
    assert.deepEqual([0, 5, 10, 20].map((e) => temperatureAt(e)), [30, 15.5, 1, 1]);
    assert.equal(temperatureAt(2, { start: 10, end: 2, epochs: 4 }), 6);
    const m = new StudyConvNeXt({ ...arch, dwconv: { kind: 'dynamic' } });
    const convs = m.namedModules().map(([, x]) => x).filter((x): x is DynamicConv2d => x instanceof DynamicConv2d);
    assert.equal(convs.length, 5);
    assert.ok(convs.every((c) => c.attention.temperature === 30));
    m.onEpochStart(5);
    assert.ok(convs.every((c) => c.attention.temperature === 15.5));
    m.dispose();
  });

  it('dynamic conv at a huge temperature convolves with the average kernel (uniform attention)', () => {
    const d = new DynamicConv2d(6, { kernelSize: 3, padding: 1, kernels: 3 });
    d.bias.assign(tf.randomNormal([3, 6]));
    d.attention.temperature = 1e9;
    const ref = new Conv2d(6, 6, { kernelSize: 3, padding: 1, groups: 6 });
    ref.weight.assign(tf.mean(d.weight, 0));
    ref.bias?.assign(tf.mean(d.bias, 0));
    const x = tf.randomNormal([3, 5, 5, 6]) as tf.Tensor4D;
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(d.forward(x), ref.forward(x)))).dataSync()[0]);
    assert.ok(diff < 1e-5, `max diff ${diff}`);
    tf.dispose(x);
    d.dispose();
    ref.dispose();
  });

  it('scaled dwconv with a saturated gate (s = 1) is the plain conv with its weights', () => {
    const s = new ScaledDynamicConv2d(4, 4, { kernelSize: 3, padding: 1, groups: 4 });
    s.bias?.assign(tf.randomNormal([4]));
    s.gate.weight.assign(tf.zeros([4, 4]));
    s.gate.bias.assign(tf.fill([4], 30));
    const x = tf.randomNormal([2, 6, 6, 4]) as tf.Tensor4D;
    const plain = new Conv2d(4, 4, { kernelSize: 3, padding: 1, groups: 4 });
    plain.weight.assign(s.weight);
    plain.bias?.assign(s.bias as tf.Variable);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(s.forward(x), plain.forward(x)))).dataSync()[0]);
    plain.dispose();
    assert.ok(diff < 1e-6, `max diff ${diff}`);
    tf.dispose(x);
    s.dispose();
  });

  it('a block with a replaced dwconv runs that module (not a fused plain-conv shortcut)', () => {
    for (const dwconv of [
      (d: number, k: number) => new ScaledDynamicConv2d(d, d, { kernelSize: k, padding: k >> 1, groups: d }),
      (d: number, k: number) => new DynamicConv2d(d, { kernelSize: k, padding: k >> 1 }),
    ]) {
      const b = new Block(8, { dwconv, layerScaleInitValue: 1 });
      for (const [, p] of b.namedParameters()) p.assign(tf.randomNormal(p.shape, 0, 0.5));
      b.eval();
      const x = tf.randomNormal([2, 6, 6, 8]) as tf.Tensor4D;
      const diff = tf.tidy(() => {
        const h = b.pwconv2.forward(gelu(b.pwconv1.forward(b.norm.forward(b.dwconv.forward(x)))));
        const ref = tf.add(x, tf.mul(h, b.gamma as tf.Tensor));
        return tf.max(tf.abs(tf.sub(b.forward(x), ref))).dataSync()[0];
      });
      assert.ok(diff < 1e-4, `${b.dwconv.constructor.name}: max diff ${diff}`);
      tf.dispose(x);
      b.dispose();
    }
  });

  it('state dicts round-trip every preset; the scaled dwconv exports PyTorch layouts', () => {
    for (const preset of STUDY_PRESET_NAMES) {
      const a = createStudyModel(preset, arch);
      const b = createStudyModel(preset, arch);
      loadStateDict(b, stateDict(a));
      for (const [[n, p], [, q]] of a.namedParameters().map((e, i) => [e, b.namedParameters()[i]])) {
        assert.deepEqual(q.dataSync(), p.dataSync(), `${preset}: ${n}`);
      }
      a.dispose();
      b.dispose();
    }
    const sd = stateDict(new ScaledDynamicConv2d(6, 6, { kernelSize: 7, padding: 3, groups: 6 }));
    assert.deepEqual(sd.get('weight')?.shape, [6, 1, 7, 7]);
    const dense = stateDict(new ScaledDynamicConv2d(4, 6, { kernelSize: 3 }));
    assert.deepEqual(dense.get('weight')?.shape, [6, 4, 3, 3]);
    assert.deepEqual(dense.get('gate.weight')?.shape, [6, 4]);
  });

  it('registers the seven Table 3 rows for the mini CPU arch, ConvNeXt-atto and ConvNeXt-T', () => {
    for (const v of ['mini', 'atto', 'tiny']) for (const p of STUDY_PRESET_NAMES) assert.ok(listModels().includes(`study_${v}_${p}`));
    assert.equal(STUDY_PRESET_NAMES.length, 7);
    const m = createModel('study_atto_cbam', { numClasses: 5 });
    assert.ok((blocks(m as ConvNeXt)[0][0]).attn instanceof CBAM);
    m.dispose();
  });

  it('trains every preset without leaking tensors (train-mode gradients, BN running stats)', () => {
    const x = tf.randomNormal([2, 32, 32, 3]) as tf.Tensor4D;
    for (const preset of STUDY_PRESET_NAMES) {
      const m = createStudyModel(preset, { ...arch, dropPathRate: 0.1 });
      const step = () => {
        const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(m.forward(x))) as tf.Scalar,
          m.parameters().filter((p) => p.trainable));
        assert.ok(Number.isFinite(value.dataSync()[0]), preset);
        tf.dispose([value, ...Object.values(grads)]);
      };
      step();
      const before = tf.memory().numTensors;
      step();
      step();
      assert.equal(tf.memory().numTensors, before, `${preset} leaks`);
      m.dispose();
    }
    x.dispose();
  });

  it('rejects bad placements and fusion inputs with clear errors', () => {
    assert.throws(() => new StudyConvNeXt({ ...arch, attention: { kind: 'se', stages: [4] } }), /attention: stage 4 is not one of 0\.\.3/);
    assert.throws(() => new StudyConvNeXt({ ...arch, attention: { kind: 'eca' as never } }), /unknown attention kind 'eca'/);
    assert.throws(() => new StudyConvNeXt({ ...arch, dwconv: { kind: 'deformable' as never } }), /unknown dwconv kind/);
    assert.throws(() => createStudyModel('vit' as never, arch), /unknown study preset 'vit'/);
    const f = new FeatureFusion([4, 8]);
    assert.throws(() => f.forward([tf.zeros([1, 4, 4, 4]), tf.zeros([1, 1, 1, 8])] as tf.Tensor4D[]), /stage 0 map is \[1, 4, 4, 4\]; expected 4 channels at 2x2/);
    assert.throws(() => f.forward([tf.zeros([1, 2, 2, 4])] as tf.Tensor4D[]), /expects 2 stage maps, got 1/);
    f.dispose();
  });
});
