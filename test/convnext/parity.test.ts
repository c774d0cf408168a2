/**
 * Numerical parity with PyTorch: a small ConvNeXt with non-trivial weights (official keys, timm keys,
 * timm's 1x1-conv MLP, half-precision copies), its layers one by one, and params / MACs of every variant.
 * References: test/fixtures/make_parity_fixtures.py (a ConvNeXt written from the paper, checked against
 * timm's before anything is written).
 *
 * Tolerance: |ours - torch| <= ATOL + RTOL * |torch| elementwise, RTOL = 1e-4, ATOL = 1e-5 (float32
 * kernels differ in summation order; measured errors are ~1e-6, see PARITY_VERBOSE=1).
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../../src/backend';
import {
  Block, ConvNeXt, HostTensor, complexity, createModel,
  loadStateDict, loadWeights, readStateDict
} from '../../src/convnext';
import { Conv2d, LayerNorm, Module, Sequential, gelu, withoutInit } from "../../src/nn";
import { assertClose as assertCloseTo } from '../fixtures/parity';

const DIR = path.join(__dirname, '..', 'fixtures', 'parity');
const SMALL = { depths: [1, 1, 2, 1], dims: [8, 16, 24, 32], numClasses: 10 };

const io = readStateDict(path.join(DIR, 'convnext_io.safetensors')).stateDict;
const layers = readStateDict(path.join(DIR, 'layers.safetensors')).stateDict;

function get(sd: Map<string, HostTensor>, key: string): HostTensor {
  const t = sd.get(key);
  if (!t) throw new Error(`fixture has no ${key}`);
  return t;
}

/** NCHW fixture tensor → NHWC tf tensor. */
function nhwc(t: HostTensor): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.tensor4d(t.data, t.shape as [number, number, number, number]), [0, 2, 3, 1]));
}

/** Asserts elementwise closeness and returns the measured errors. */
/** Elementwise closeness to a PyTorch tensor; `fromNhwc` compares our NHWC map in PyTorch's NCHW. */
function assertClose(ours: tf.Tensor, ref: HostTensor, what: string, fromNhwc = false): void {
  const o = fromNhwc ? tf.tidy(() => tf.transpose(ours, [0, 3, 1, 2])) : ours;
  try {
    assertCloseTo(o, ref, what);
  } finally {
    if (o !== ours) o.dispose();
  }
}

/** Loads `prefix.*` fixture tensors into a module (official names below the prefix). */
function loadPrefixed(m: Module, prefix: string): void {
  const sd = new Map<string, HostTensor>();
  for (const [k, v] of layers) if (k.startsWith(prefix) && !/\.(x|y)$/.test(k)) sd.set(k.slice(prefix.length), v);
  loadStateDict(m, sd);
  m.eval();
}

describe('PyTorch parity: small ConvNeXt (depths 1,1,2,1, dims 8..32, 10 classes, 2x3x32x32)', () => {
  const cases: Array<[string, string]> = [
    ['official keys', 'convnext_official.safetensors'],
    ['timm keys', 'convnext_timm.safetensors'],
    ['timm keys, conv_mlp (1x1-conv MLP) and a module. prefix', 'convnext_timm_convmlp.safetensors'],
  ];
  for (const [what, file] of cases) {
    it(`${what}: logits match PyTorch`, () => {
      const m = new ConvNeXt(SMALL).eval();
      const r = loadWeights(m, path.join(DIR, file));
      assert.equal(r.convention, file.includes('timm') ? 'timm' : 'official');
      const x = nhwc(get(io, 'input'));
      const y = m.forward(x);
      assertClose(y, get(io, 'logits'), what);
      tf.dispose([x, y]);
      m.dispose();
    });
  }

  for (const stemType of ['overlap', 'overlap_tiered', 'overlap_act'] as const) {
    it(`timm's ${stemType} stem (timm's own ConvNeXt, stem_type='${stemType}'): logits match PyTorch`, () => {
      const stems = readStateDict(path.join(DIR, 'convnext_stems_io.safetensors')).stateDict;
      const m = new ConvNeXt({ ...SMALL, stemType }).eval();
      const r = loadWeights(m, path.join(DIR, `convnext_stem_${stemType}.safetensors`));
      assert.equal(r.convention, 'timm');
      const x = nhwc(get(stems, 'input'));
      const y = m.forward(x);
      assertClose(y, get(stems, `logits_${stemType}`), stemType);
      tf.dispose([x, y]);
      m.dispose();
    });
  }

  it('F16 weights are widened exactly: logits match PyTorch with the same half-precision weights', () => {
    const m = new ConvNeXt(SMALL).eval();
    loadWeights(m, path.join(DIR, 'convnext_official_f16.safetensors'));
    const x = nhwc(get(io, 'input'));
    const y = m.forward(x);
    assertClose(y, get(io, 'logits_f16_weights'), 'f16 weights');
    tf.dispose([x, y]);
    m.dispose();
  });

  it('F16 and BF16 values are within their rounding of the F32 weights', () => {
    const f32 = readStateDict(path.join(DIR, 'convnext_official.safetensors')).stateDict;
    for (const [file, relStep] of [['convnext_official_f16.safetensors', 2 ** -11], ['convnext_official_bf16.safetensors', 2 ** -8]] as const) {
      const half = readStateDict(path.join(DIR, file)).stateDict;
      assert.deepEqual([...half.keys()].sort(), [...f32.keys()].sort());
      for (const [k, t] of half) {
        const ref = get(f32, k).data;
        t.data.forEach((v, i) => {
          // Round to nearest: at most half a unit in the last place (f16 subnormals: 2^-25 absolute).
          assert.ok(Math.abs(v - ref[i]) <= relStep * Math.abs(ref[i]) + 2 ** -25, `${file} ${k}[${i}]: ${v} vs ${ref[i]}`);
        });
      }
    }
  });
});

describe('PyTorch parity: layers', () => {
  it('LayerNorm, channels_last (input mean 3, std 2)', () => {
    const ln = new LayerNorm(8);
    loadPrefixed(ln, 'ln_cl.');
    const x = tf.tensor4d(get(layers, 'ln_cl.x').data, [2, 5, 5, 8]);
    const y = ln.forward(x);
    assertClose(y, get(layers, 'ln_cl.y'), 'LayerNorm channels_last');
    tf.dispose([x, y]);
    ln.dispose();
  });

  it('LayerNorm, channels_first (the official custom LayerNorm on NCHW)', () => {
    const ln = new LayerNorm(8);
    loadPrefixed(ln, 'ln_cf.');
    const x = nhwc(get(layers, 'ln_cf.x'));
    const y = ln.forward(x);
    assertClose(y, get(layers, 'ln_cf.y'), 'LayerNorm channels_first', true);
    tf.dispose([x, y]);
    ln.dispose();
  });

  it('depthwise 7x7 conv, padding 3, on a 9x9 map', () => {
    const conv = new Conv2d(8, 8, { kernelSize: 7, padding: 3, groups: 8 });
    loadPrefixed(conv, 'dw.');
    const x = nhwc(get(layers, 'dw.x'));
    const y = conv.forward(x);
    assertClose(y, get(layers, 'dw.y'), 'depthwise conv', true);
    tf.dispose([x, y]);
    conv.dispose();
  });

  it('exact (erf) GELU on [-8, 8]', () => {
    const x = tf.tensor1d(get(layers, 'gelu.x').data);
    const y = gelu(x);
    assertClose(y, get(layers, 'gelu.y'), 'gelu');
    tf.dispose([x, y]);
  });

  it('one ConvNeXt block (dwconv, LN, MLP, GELU, layer scale, residual)', () => {
    const block = new Block(8);
    loadPrefixed(block, 'block.');
    const x = nhwc(get(layers, 'block.x'));
    const y = block.forward(x);
    assertClose(y, get(layers, 'block.y'), 'block', true);
    tf.dispose([x, y]);
    block.dispose();
  });

  it('stem (4x4 stride-4 conv, LN) and downsampling layer (LN, 2x2 stride-2 conv)', () => {
    const stem = new Sequential([new Conv2d(3, 8, { kernelSize: 4, stride: 4 }), new LayerNorm(8)]);
    const down = new Sequential([new LayerNorm(8), new Conv2d(8, 16, { kernelSize: 2, stride: 2 })]);
    loadPrefixed(stem, 'stem.');
    loadPrefixed(down, 'down.');
    for (const [m, key] of [[stem, 'stem'], [down, 'down']] as const) {
      const x = nhwc(get(layers, `${key}.x`));
      const y = m.forward(x);
      assertClose(y, get(layers, `${key}.y`), key, true);
      tf.dispose([x, y]);
      m.dispose();
    }
  });
});

interface Counts {
  params: Record<string, number>;
  macs: Record<string, number>;
  macs_by_scope: Record<string, Record<string, number>>;
}

describe('params and MACs of every variant vs timm (1000 classes; MACs from torch forward hooks)', () => {
  const counts: Counts = JSON.parse(fs.readFileSync(path.join(DIR, 'counts.json'), 'utf-8'));
  for (const [name, params] of Object.entries(counts.params)) {
    const sizes = Object.keys(counts.macs).filter((k) => k.startsWith(`${name}@`)).map((k) => Number(k.split('@')[1]));
    it(`${name}: ${params.toLocaleString()} params, MACs at ${sizes.join(' and ')}, per stage at 224`, () => {
      const m = withoutInit(() => createModel(name));
      assert.equal(m.numParams(), params);
      for (const size of sizes) assert.equal(complexity(m, size).macs, counts.macs[`${name}@${size}`], `MACs at ${size}`);
      const byScope = Object.fromEntries(complexity(m, 224).macsByScope);
      assert.deepEqual(byScope, counts.macs_by_scope[name]);
      m.dispose();
    });
  }
});
