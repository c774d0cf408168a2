/**
 * ONNX export (src/convnext/onnx): small models of every family the registry builds, with random
 * non-trivial weights (BatchNorm running statistics too), exported and run in ONNX Runtime; the logits
 * must match ours. The exported ConvNeXt (all stems), ViT and Swin must also match the PyTorch parity
 * fixtures (test/fixtures/parity) through ONNX Runtime.
 *
 * Tolerance, as the parity tests: |ort - ref| <= ATOL + RTOL·|ref| elementwise, RTOL = 1e-4, ATOL = 1e-5,
 * and the largest error relative to the largest logit (per model) below 1e-4. ONNX_VERBOSE=1 prints them.
 */
import { strict as assert } from 'assert';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { tf } from '../../src/backend';
import { ConvNeXt } from '../../src/convnext/convnext';
import { createModel, listModels } from '../../src/convnext/registry';
import type { Classifier } from '../../src/convnext/model';
import { ModernResNet } from '../../src/convnext/roadmap/modern-resnet';
import { RESNET18, RESNET50, ROADMAP, roadmapModelName, smallScale } from '../../src/convnext/roadmap/steps';
import { StudyConvNeXt } from '../../src/convnext/study';
import { STUDY_PRESET_NAMES } from '../../src/convnext/study';
import { SwinTransformer } from '../../src/convnext/swin';
import { VisionTransformer } from '../../src/convnext/vit';
import { HostTensor, loadWeights, readStateDict } from '../../src/convnext';
import { exportModuleOnnx, exportOnnx, exportableClasses } from '../../src/convnext/onnx/export';
import { emitterFor } from '../../src/convnext/onnx/emit';
import { withoutInit } from '../../src/nn/init';
import { FeatureFusion } from '../../src/nn/feature-fusion';
import { FeatureShape, Module } from '../../src/nn/module';
import { normals, randomize } from './onnx-helpers';

const RTOL = 1e-4;
const ATOL = 1e-5;
const PARITY = path.join(__dirname, '..', 'fixtures', 'parity');

/** Largest errors per family, printed at the end with ONNX_VERBOSE=1 (and used in the report). */
const worst = new Map<string, { rel: number; abs: number }>();

function note(family: string, rel: number, abs: number): void {
  const w = worst.get(family) ?? { rel: 0, abs: 0 };
  worst.set(family, { rel: Math.max(w.rel, rel), abs: Math.max(w.abs, abs) });
}

/** An NCHW float32 batch and the same batch NHWC for our model. */
function inputs(n: number, c: number, h: number, w: number, seed: number): { nchw: Float32Array; nhwc: tf.Tensor4D } {
  const nchw = normals(n * c * h * w, seed);
  const nhwc = tf.tidy(() => tf.tensor4d(nchw, [n, c, h, w]).transpose([0, 2, 3, 1]) as tf.Tensor4D);
  return { nchw, nhwc };
}

async function runOrt(bytes: Uint8Array, x: Float32Array, dims: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ input: new ort.Tensor('float32', x, dims) });
    assert.deepEqual(session.outputNames, ['logits']);
    return out.logits.data as Float32Array;
  } finally {
    await session.release();
  }
}

/** Asserts closeness to `ref`; returns the largest error relative to the largest |ref|, and the largest absolute error. */
function compare(got: ArrayLike<number>, ref: ArrayLike<number>, what: string): { rel: number; abs: number } {
  assert.equal(got.length, ref.length, `${what}: ${got.length} logits, expected ${ref.length}`);
  let abs = 0;
  let scale = 0;
  let bad = -1;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(got[i] - ref[i]);
    abs = Math.max(abs, e);
    scale = Math.max(scale, Math.abs(ref[i]));
    if (!(e <= ATOL + RTOL * Math.abs(ref[i])) && bad < 0) bad = i;
  }
  const rel = abs / scale;
  if (process.env.ONNX_VERBOSE) console.log(`    ${what}: max abs ${abs.toExponential(2)}, max rel ${rel.toExponential(2)} (logit scale ${scale.toFixed(3)})`);
  assert.ok(bad < 0, `${what}: logit ${bad} is ${got[bad]}, expected ${ref[bad]} (max abs err ${abs})`);
  assert.ok(rel < RTOL, `${what}: max error ${abs} is ${rel} of the largest logit`);
  assert.ok(scale > 0.1, `${what}: logits too small to compare meaningfully (${scale})`);
  return { rel, abs };
}

/** Exports `model` at `size`, runs it in ONNX Runtime and compares with our forward pass. */
async function checkModel(family: string, what: string, model: Classifier, size: number, opts: { opset?: number; batch?: number; inChans?: number } = {}): Promise<void> {
  const n = opts.batch ?? 2;
  const c = opts.inChans ?? 3;
  model.eval();
  const bytes = exportOnnx(model, { size, opset: opts.opset });
  const { nchw, nhwc } = inputs(n, c, size, size, 99);
  const ours = tf.tidy(() => model.forward(nhwc).dataSync() as Float32Array);
  nhwc.dispose();
  const theirs = await runOrt(bytes, nchw, [n, c, size, size]);
  const e = compare(theirs, ours, `${what} (opset ${opts.opset ?? 17})`);
  note(family, e.rel, e.abs);
}

function built<M extends Classifier>(m: M, seed = 1): M {
  randomize(m, seed);
  return m;
}

const SMALL = { depths: [1, 1, 2, 1], dims: [8, 16, 24, 32], numClasses: 10 };

describe('ONNX export: every family through ONNX Runtime matches our logits', function () {
  this.timeout(300_000);

  after(() => {
    if (process.env.ONNX_VERBOSE) {
      for (const [family, w] of worst) console.log(`    ${family}: max rel ${w.rel.toExponential(2)}, max abs ${w.abs.toExponential(2)}`);
    }
  });

  describe('ConvNeXt', () => {
    for (const stemType of ['patch', 'overlap', 'overlap_tiered', 'overlap_act'] as const) {
      it(`${stemType} stem, opsets 17 (erf GELU) and 20 (Gelu)`, async () => {
        const m = built(new ConvNeXt({ ...SMALL, stemType, layerScaleInitValue: 0.5 }));
        await checkModel('convnext', `convnext ${stemType}`, m, 32, { opset: 17 });
        await checkModel('convnext', `convnext ${stemType}`, m, 32, { opset: 20 });
        m.dispose();
      });
    }

    it('convnext_cifar_ols from the registry; batch 1 and 3 through one exported file (dynamic batch)', async () => {
      const m = built(createModel('convnext_cifar_ols'));
      await checkModel('convnext', 'convnext_cifar_ols batch 1', m, 32, { batch: 1 });
      await checkModel('convnext', 'convnext_cifar_ols batch 3', m, 32, { batch: 3 });
      m.dispose();
    });

    it('a 4-channel input and opsets 18 and 21', async () => {
      const m = built(new ConvNeXt({ ...SMALL, inChans: 4 }));
      await checkModel('convnext', 'convnext 4 channels', m, 64, { inChans: 4, opset: 18 });
      await checkModel('convnext', 'convnext 4 channels', m, 64, { inChans: 4, opset: 21 });
      m.dispose();
    });
  });

  describe('ResNets and the roadmap (ModernResNet)', () => {
    const resnets = { resnet18: RESNET18, resnet50: RESNET50 };
    for (const [name, config] of Object.entries(resnets)) {
      it(`${name} layout at a quarter width (BatchNorm, ReLU, max pool, ${name === 'resnet18' ? 'basic' : 'bottleneck'} blocks)`, async () => {
        const m = built(new ModernResNet(smallScale(config, { widthMultiplier: 1 / 8, depthDivisor: 2, numClasses: 10 })));
        await checkModel('resnet', name, m, 32);
        m.dispose();
      });
    }

    for (const step of ROADMAP) {
      const name = roadmapModelName(step, 'cifar');
      it(`${name}`, async () => {
        const m = built(createModel(name));
        await checkModel('roadmap', name, m, 32, { opset: step.id.startsWith('1') ? 20 : 17 });
        m.dispose();
      });
    }
  });

  describe("the study's ConvNeXt", () => {
    for (const preset of STUDY_PRESET_NAMES) {
      it(`study_mini_${preset}`, async () => {
        const m = built(createModel(`study_mini_${preset}`, { numClasses: 10 }));
        await checkModel('study', `study_mini_${preset}`, m, 64);
        m.dispose();
      });
    }

    it("Chen et al.'s K-kernel DynamicConv2d (K = 3, temperature 5), with SE in stage 2", async () => {
      const m = built(new StudyConvNeXt({
        ...SMALL, dwconv: { kind: 'dynamic', kernels: 3, stages: [0, 2], temperature: { start: 5, end: 1, epochs: 10 } },
        attention: { kind: 'se', stages: [2], reduction: 4 },
      }));
      await checkModel('study', 'dynamic conv K=3', m, 32);
      m.onEpochStart(20);
      await checkModel('study', 'dynamic conv K=3, τ=1', m, 32);
      m.dispose();
    });

    it('feature fusion: concat mode, and a middle target stage (finer maps pooled, coarser upsampled)', async () => {
      for (const fusion of [{ mode: 'concat' as const }, { mode: 'sum' as const, targetStage: 2 }, { mode: 'concat' as const, targetStage: 1 }]) {
        // The fused width is the target stage's and the head's the last stage's: equal widths for targets 1 and 2.
        const m = built(new StudyConvNeXt({ ...SMALL, dims: [8, 32, 32, 32], fusion, attention: { kind: 'cbam', reduction: 4 } }));
        await checkModel('study', `fusion ${fusion.mode} target ${fusion.targetStage ?? 'last'}`, m, 64);
        m.dispose();
      }
    });
  });

  it('FeatureFusion on its own: the fused map itself (pooling and upsampling positions), every target and mode', async () => {
    // The logits average the fused map, which hides where each pixel lands; compare the map.
    const dims = [8, 16, 24, 32];
    const sizes = [16, 8, 4, 2];
    for (const mode of ['sum', 'concat'] as const) {
      for (const targetStage of [0, 1, 2, 3]) {
        const ff = new FeatureFusion(dims, { mode, targetStage });
        randomize(ff, 3);
        const maps = dims.map((c, i) => inputs(2, c, sizes[i], sizes[i], 10 + i));
        const ours = tf.tidy(() => ff.forward(maps.map((m) => m.nhwc)).transpose([0, 3, 1, 2]).dataSync() as Float32Array);
        const session = await ort.InferenceSession.create(exportModuleOnnx(ff, dims.map((c, i) => [c, sizes[i], sizes[i]])));
        const feeds = Object.fromEntries(maps.map((m, i) => [`input${i}`, new ort.Tensor('float32', m.nchw, [2, dims[i], sizes[i], sizes[i]])]));
        const theirs = (await session.run(feeds)).output.data as Float32Array;
        await session.release();
        const e = compare(theirs, ours, `fusion map ${mode} target ${targetStage}`);
        note('study', e.rel, e.abs);
        tf.dispose(maps.map((m) => m.nhwc));
        ff.dispose();
      }
    }
  });

  describe('ViT and Swin', () => {
    it('ViT with layer scale, at its size and at another (position embedding resampled at export)', async () => {
      const m = built(new VisionTransformer({ imgSize: 32, patchSize: 8, embedDim: 24, depth: 2, numHeads: 3, numClasses: 10, layerScaleInitValue: 0.5 }));
      await checkModel('vit', 'vit 32', m, 32);
      await checkModel('vit', 'vit 48 (resampled)', m, 48, { opset: 20 });
      m.dispose();
    });

    it('Swin with shifted, padded windows and an odd map before patch merging', async () => {
      const m = built(new SwinTransformer({ imgSize: 32, patchSize: 2, embedDim: 12, depths: [2, 2, 2], numHeads: [2, 2, 4], windowSize: 4, numClasses: 10 }));
      await checkModel('swin', 'swin 32', m, 32);
      await checkModel('swin', 'swin 36 (padded windows, odd merge)', m, 36);
      m.dispose();
    });

    it('the registry\'s mini ViT and Swin', async () => {
      for (const name of ['vit_mini_patch4_32', 'swin_mini_patch2_window4_32']) {
        const m = built(createModel(name));
        await checkModel(name.split('_')[0], name, m, 32);
        m.dispose();
      }
    });
  });
});

describe('ONNX export: PyTorch parity fixtures through ONNX Runtime', function () {
  this.timeout(120_000);

  function get(sd: Map<string, HostTensor>, key: string): HostTensor {
    const t = sd.get(key);
    if (!t) throw new Error(`fixture has no ${key}`);
    return t;
  }

  async function viaOrt(model: Classifier, input: HostTensor): Promise<Float32Array> {
    model.eval();
    const [, , h, w] = input.shape;
    assert.equal(h, w, 'square fixture input');
    return runOrt(exportOnnx(model, { size: h }), Float32Array.from(input.data), input.shape);
  }

  const io = readStateDict(path.join(PARITY, 'convnext_io.safetensors')).stateDict;
  for (const file of ['convnext_official.safetensors', 'convnext_timm.safetensors', 'convnext_timm_convmlp.safetensors']) {
    it(`ConvNeXt with ${file}: ONNX Runtime's logits match PyTorch's`, async () => {
      const m = new ConvNeXt(SMALL);
      loadWeights(m, path.join(PARITY, file));
      const e = compare(await viaOrt(m, get(io, 'input')), get(io, 'logits').data, `torch fixture ${file}`);
      note('convnext vs PyTorch', e.rel, e.abs);
      m.dispose();
    });
  }

  const stems = readStateDict(path.join(PARITY, 'convnext_stems_io.safetensors')).stateDict;
  for (const stemType of ['overlap', 'overlap_tiered', 'overlap_act'] as const) {
    it(`ConvNeXt with timm's ${stemType} stem: ONNX Runtime's logits match PyTorch's`, async () => {
      const m = new ConvNeXt({ ...SMALL, stemType });
      loadWeights(m, path.join(PARITY, `convnext_stem_${stemType}.safetensors`));
      const e = compare(await viaOrt(m, get(stems, 'input')), get(stems, `logits_${stemType}`).data, `torch fixture ${stemType}`);
      note('convnext vs PyTorch', e.rel, e.abs);
      m.dispose();
    });
  }

  it("ViT and Swin: ONNX Runtime's logits match timm's", async () => {
    const vitIo = readStateDict(path.join(PARITY, 'vit_io.safetensors')).stateDict;
    const vit = new VisionTransformer({ imgSize: 32, patchSize: 8, embedDim: 24, depth: 2, numHeads: 3, numClasses: 10 });
    loadWeights(vit, path.join(PARITY, 'vit_timm.safetensors'));
    let e = compare(await viaOrt(vit, get(vitIo, 'input')), get(vitIo, 'logits').data, 'timm fixture vit');
    note('vit vs PyTorch', e.rel, e.abs);
    vit.dispose();
    const swinIo = readStateDict(path.join(PARITY, 'swin_io.safetensors')).stateDict;
    const swin = new SwinTransformer({ imgSize: 20, patchSize: 2, embedDim: 12, depths: [2, 2, 2], numHeads: [2, 2, 4], windowSize: 3, numClasses: 10 });
    loadWeights(swin, path.join(PARITY, 'swin_timm.safetensors'));
    for (const [input, logits] of [['input', 'logits'], ['input_other', 'logits_other']]) {
      e = compare(await viaOrt(swin, get(swinIo, input)), get(swinIo, logits).data, `timm fixture swin ${input}`);
      note('swin vs PyTorch', e.rel, e.abs);
    }
    swin.dispose();
  });

  after(() => {
    if (process.env.ONNX_VERBOSE) {
      for (const [family, w] of worst) if (family.includes('PyTorch')) console.log(`    ${family}: max rel ${w.rel.toExponential(2)}, max abs ${w.abs.toExponential(2)}`);
    }
  });
});

describe('ONNX export: errors and the file', () => {
  it('every module of every registered model has an emitter', function () {
    this.timeout(300_000);
    const missing = new Set<string>();
    for (const name of listModels()) {
      const m = withoutInit(() => createModel(name));
      for (const [p, mod] of m.namedModules()) if (!emitterFor(mod)) missing.add(`${name}: ${mod.constructor.name} at ${p}`);
      m.dispose();
    }
    assert.deepEqual([...missing], []);
  });

  it('a module class without an emitter is named with its path', () => {
    class Mystery extends Module {
      forward(x: tf.Tensor4D): tf.Tensor4D {
        return x;
      }

      profile(input: FeatureShape): FeatureShape {
        return input;
      }
    }
    const m = new ConvNeXt({ ...SMALL, blockHooks: (stage, block) => (stage === 1 && block === 0 ? { attention: () => new Mystery() } : {}) });
    assert.throws(() => exportOnnx(m, { size: 32 }), /no emitter for module class Mystery at "stages\.1\.0\.attn"/);
    m.dispose();
  });

  it('opsets outside 17-21 and sizes off the model\'s stride are refused', () => {
    const m = new ConvNeXt(SMALL);
    assert.throws(() => exportOnnx(m, { size: 32, opset: 13 }), /opset 13 is not supported: choose 17 to 21/);
    assert.throws(() => exportOnnx(m, { size: 40 }), /not divisible by 32/);
    m.dispose();
  });

  it('the file declares a dynamic batch and NCHW input; exporting leaks no tensors', async () => {
    const m = built(new ConvNeXt(SMALL));
    const before = tf.memory().numTensors;
    const bytes = exportOnnx(m, { size: 32 });
    assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
    const session = await ort.InferenceSession.create(bytes);
    assert.deepEqual(session.inputNames, ['input']);
    const meta = session.inputMetadata[0] as { isTensor: boolean; shape?: Array<number | string> };
    assert.deepEqual(meta.shape, ['batch', 3, 32, 32]);
    await session.release();
    assert.ok(exportableClasses().includes('ConvNeXt') && exportableClasses().includes('BatchNorm2d'));
    m.dispose();
  });
});
