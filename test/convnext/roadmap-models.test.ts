import { strict as assert } from 'assert';
import {
  ConvNeXt, ModernResNet, ROADMAP, buildModernResNet, complexity, configDiff, createModel, listModels, macsByPart,
  normElements, roadmapModelName, roadmapStep
} from '../../src/convnext';
import { readComplexity } from '../fixtures/roadmap/load';
import { withoutInit } from "../../src/nn";

const fixture = readComplexity();

function counted(name: string) {
  const m = withoutInit(() => createModel(name));
  const c = complexity(m, 224);
  return { m, ...c };
}

describe('roadmap: ResNet baselines against torchvision (torch-hook fixture)', () => {
  for (const name of ['resnet18', 'resnet50']) {
    const ref = fixture.torchvision[name];
    it(`${name}: ${ref.params.toLocaleString()} params, ${ref.macs.toLocaleString()} MACs, torchvision names and shapes`, () => {
      const { m, params, macs } = counted(name);
      assert.equal(params, ref.params);
      assert.equal(macs, ref.macs);
      // Same names in the same order; HWIO/[in,out] shapes are torchvision's OIHW/[out,in] permuted.
      const ours = m.namedParameters().map(([n, v]) => [n, v.shape.length === 4
        ? [v.shape[3], v.shape[2], v.shape[0], v.shape[1]]
        : v.shape.length === 2 ? [v.shape[1], v.shape[0]] : v.shape]);
      assert.deepEqual(ours, ref.stateDict);
      m.dispose();
    });
  }

  it('ResNet-50 has torchvision\'s 25,557,032 parameters (running statistics are not parameters)', () => {
    const { m, params } = counted('resnet50');
    assert.equal(params, 25_557_032);
    m.dispose();
  });
});

describe('roadmap: every step\'s params, MACs and normalised elements', () => {
  for (const step of ROADMAP.slice(0, 15)) {
    const ref = fixture.roadmap[step.id];
    it(`${step.id} equals the independent PyTorch build: ${ref.params.toLocaleString()} params, ${ref.macs.toLocaleString()} MACs`, () => {
      const m = withoutInit(() => buildModernResNet(step.config));
      const { params, macs } = complexity(m, 224);
      assert.equal(params, ref.params);
      assert.equal(macs, ref.macs);
      assert.deepEqual(normElements(m, 224), { batch: ref.batchNormElements, layer: ref.layerNormElements });
      m.dispose();
    });
  }

  it('16-convnext-t is the library\'s ConvNeXt-T: same params and MACs as convnext_tiny', () => {
    const a = counted('roadmap_16_convnext_t');
    const b = counted('convnext_tiny');
    assert.equal(a.params, 28_589_128);
    assert.equal(a.params, b.params);
    assert.equal(a.macs, b.macs);
    assert.deepEqual(a.m.namedParameters().map(([n]) => n), b.m.namedParameters().map(([n]) => n));
    // LayerNorm inputs, by hand: stem 56²·96; blocks 3·56²·96 + 3·28²·192 + 9·14²·384 + 3·7²·768;
    // before each downsampling conv 56²·96 + 28²·192 + 14²·384; after pooling 768.
    const blocks = 3 * 301056 + 3 * 150528 + 9 * 75264 + 3 * 37632;
    assert.deepEqual(normElements(a.m as ConvNeXt, 224), { batch: 0, layer: 301056 + blocks + 301056 + 150528 + 75264 + 768 });
    a.m.dispose();
    b.m.dispose();
  });

  for (const step of ROADMAP.filter((s) => s.id !== '15-layer-norm')) {
    it(`${step.id}: MACs within 1% of the paper's ${step.paper.gflops} GFLOPs`, () => {
      const { m, macs } = counted(roadmapModelName(step));
      const gap = macs / 1e9 / step.paper.gflops - 1;
      assert.ok(Math.abs(gap) < 0.01, `${(macs / 1e9).toFixed(3)} G vs ${step.paper.gflops} G (${(gap * 100).toFixed(2)}%)`);
      m.dispose();
    });
  }

  it('15-layer-norm: the paper\'s 4.46 is ConvNeXt-T\'s count, not this architecture\'s (explained in notebook 02)', () => {
    // Swapping BN for LN changes no conv, so the count stays at step 14's; the paper's 4.46 is the next
    // row's architecture (separate downsampling layers) rounded to two decimals.
    const s14 = counted('roadmap_14_fewer_norms');
    const s15 = counted('roadmap_15_layer_norm');
    const s16 = counted('roadmap_16_convnext_t');
    assert.equal(s15.macs, s14.macs);
    assert.equal((s16.macs / 1e9).toFixed(2), '4.46');
    assert.ok(s15.macs / 1e9 / 4.46 - 1 < -0.05);
    // The gap is exactly the downsampling re-layout: separate convs and full first blocks in, shortcuts out.
    const p15 = macsByPart(s15.m, 224);
    const p16 = macsByPart(s16.m, 224);
    assert.equal(p16.shortcuts, 0);
    assert.equal(s16.macs - s15.macs, p16.downsampling - p15.shortcuts + (p16.blocks - p15.blocks));
    for (const s of [s14, s15, s16]) s.m.dispose();
  });
});

describe('roadmap: configs and registry', () => {
  it('registers the baselines and all 16 steps under roadmap_<step>', () => {
    const names = listModels();
    for (const n of ['resnet18', 'resnet50', 'resnet200', ...ROADMAP.map((s) => roadmapModelName(s))]) {
      assert.ok(names.includes(n), n);
    }
    assert.equal(ROADMAP.length, 16);
    assert.deepEqual(ROADMAP.map((s) => s.id.slice(0, 2)), Array.from({ length: 16 }, (_, i) => String(i + 1).padStart(2, '0')));
  });

  it('each step changes only its named options from its parent', () => {
    const expected: Record<string, string[]> = {
      '02-stage-ratio': ['depths'], '03-patchify-stem': ['stem', 'stemStride'], '04-depthwise-conv': ['depthwise'],
      '05-width-96': ['dims', 'stemChannels'], '06-inverted-bottleneck': ['dims', 'hiddenRatio'],
      '07-move-up-dwconv': ['layout'], '08-kernel-5': ['kernelSize'], '09-kernel-7': ['kernelSize'],
      '10-kernel-9': ['kernelSize'], '11-kernel-11': ['kernelSize'], '12-gelu': ['act'],
      '13-fewer-activations': ['activations'], '14-fewer-norms': ['norms'], '15-layer-norm': ['norm'],
      '16-convnext-t': ['downsampling', 'layerScaleInitValue'],
    };
    for (const step of ROADMAP.slice(1)) {
      const parent = roadmapStep(step.parent!);
      assert.deepEqual(Object.keys(configDiff(parent.config, step.config)).sort(), expected[step.id].sort(), step.id);
    }
    assert.equal(roadmapStep('12-gelu').parent, '09-kernel-7');
  });

  it('passes model options through (classes, layer scale) and rejects unknown steps', () => {
    const m = withoutInit(() => createModel('roadmap_14_fewer_norms', { numClasses: 10, layerScaleInitValue: 1e-6 }));
    assert.ok(m instanceof ModernResNet);
    const base = withoutInit(() => createModel('roadmap_14_fewer_norms', { numClasses: 10 }));
    // γ adds one value per output channel of every block: 3·96 + 3·192 + 9·384 + 3·768.
    assert.equal(m.numParams() - base.numParams(), 6624);
    assert.deepEqual(complexity(m, 224).outputShape, [1, 1, 10]);
    assert.throws(() => roadmapStep('99-nope'), /unknown roadmap step "99-nope"/);
    m.dispose();
    base.dispose();
  });

  it('builds separate downsampling layers only for the ConvNeXt block', () => {
    const bad = { ...roadmapStep('14-fewer-norms').config, downsampling: 'separate' as const };
    assert.throws(() => buildModernResNet(bad), /separate downsampling layers are built for the ConvNeXt block only/);
  });
});
