/**
 * The transformer layers one by one against timm's (test/fixtures/make_transformer_fixtures.py): ViT's
 * attention, Swin's window attention with and without the shifted-window mask, window partition and
 * reverse, the mask itself, patch merging on an odd map, a shifted Swin block on a padded map, and the
 * position-embedding resampling (bicubic, antialiased) up and down. Plus MAC counts by hand.
 */
import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { SwinTransformerBlock } from '../../src/convnext';
import {
  Attention, MacCounter, Mlp, PatchMerging, WindowAttention, interpolationMatrix, relativePositionIndex,
  resampleAbsPosEmbed, shiftedWindowMask, windowPartition, windowReverse, cyclicShift,
} from '../../src/nn';
import { assertClose, fixture, get, loadPrefixed, tensor } from '../fixtures/parity';

const layers = fixture('transformer_layers.safetensors');
const DATA = /^(x|y|y_masked|mask)$/;

describe('transformer layers: parity with timm', () => {
  it('Attention (ViT: fused qkv, 3 heads) on [2, 5, 12]', () => {
    const m = new Attention(12, 3);
    loadPrefixed(m, layers, 'attn.', DATA);
    const x = tensor(get(layers, 'attn.x')) as tf.Tensor3D;
    const y = m.forward(x);
    assertClose(y, get(layers, 'attn.y'), 'attention');
    tf.dispose([x, y]);
    m.dispose();
  });

  it('WindowAttention with its relative position bias, without and with the shifted-window mask', () => {
    const m = new WindowAttention(8, 2, [3, 3]);
    loadPrefixed(m, layers, 'wattn.', DATA);
    const x = tensor(get(layers, 'wattn.x')) as tf.Tensor3D;
    const mask = tensor(get(layers, 'wattn.mask'));
    const y = m.forward(x);
    const ym = m.forward(x, { mask });
    assertClose(y, get(layers, 'wattn.y'), 'window attention');
    assertClose(ym, get(layers, 'wattn.y_masked'), 'window attention, masked');
    // The mask must matter, or the masked case tests nothing.
    assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(y, ym))).dataSync()[0]) > 1e-2);
    tf.dispose([x, mask, y, ym]);
    m.dispose();
  });

  it('shiftedWindowMask equals timm\'s attn_mask (square 6x6 and padded 6x9 maps)', () => {
    const sq = get(layers, 'wattn.mask');
    assert.deepEqual(Array.from(shiftedWindowMask(6, 6, [3, 3], [1, 1])), Array.from(sq.data));
    const padded = get(layers, 'block.mask');
    assert.deepEqual(padded.shape, [6, 9, 9]);
    assert.deepEqual(Array.from(shiftedWindowMask(6, 9, [3, 3], [1, 1])), Array.from(padded.data));
  });

  it('relativePositionIndex: timm\'s layout (corner cases of a 3x3 window)', () => {
    const idx = relativePositionIndex(3, 3);
    // Token 0 against itself: offset (0, 0) → (2)·5 + 2 = 12, the table's centre; token 0 vs 8: (-2, -2) → 0.
    assert.equal(idx[0], 12);
    assert.equal(idx[0 * 9 + 8], 0);
    assert.equal(idx[8 * 9 + 0], 24);
    assert.equal(Math.max(...idx), 24);
  });

  it('windowPartition and windowReverse match timm\'s and invert each other', () => {
    const x = tensor(get(layers, 'window.x')) as tf.Tensor4D;
    const w = windowPartition(x, [3, 3]);
    assertClose(w, get(layers, 'window.partitioned'), 'window partition');
    const back = windowReverse(w, [3, 3], 6, 9);
    assert.deepEqual(Array.from(back.dataSync()), Array.from(x.dataSync()));
    tf.dispose([x, w, back]);
  });

  it('cyclicShift is torch.roll and undoes itself', () => {
    const x = tf.range(0, 12).reshape([1, 3, 4, 1]) as tf.Tensor4D;
    const s = cyclicShift(x, -1, -1);
    // torch.roll(x, (-1, -1), (1, 2)): row 0 becomes old row 1 shifted left by one.
    assert.deepEqual(Array.from(s.dataSync()).slice(0, 4), [5, 6, 7, 4]);
    const back = cyclicShift(s, 1, 1);
    assert.deepEqual(Array.from(back.dataSync()), Array.from(x.dataSync()));
    tf.dispose([x, s, back]);
  });

  it('PatchMerging (timm\'s concat order, LayerNorm eps 1e-5, bias-free reduction) on an odd 5x7 map', () => {
    const m = new PatchMerging(6);
    loadPrefixed(m, layers, 'merge.', DATA);
    const x = tensor(get(layers, 'merge.x')) as tf.Tensor4D;
    const y = m.forward(x);
    assertClose(y, get(layers, 'merge.y'), 'patch merging');
    tf.dispose([x, y]);
    m.dispose();
  });

  it('a shifted Swin block (window 3, shift 1) on a 5x7 map: padded to 6x9, masked, cropped', () => {
    const m = new SwinTransformerBlock(8, 2, [5, 7], 3, 1);
    assert.deepEqual([m.windowSize, m.shiftSize], [[3, 3], [1, 1]]);
    loadPrefixed(m, layers, 'block.', DATA);
    const x = tensor(get(layers, 'block.x')) as tf.Tensor4D;
    const y = m.forward(x);
    assertClose(y, get(layers, 'block.y'), 'swin block');
    tf.dispose([x, y]);
    m.dispose();
  });

  it('resampleAbsPosEmbed = timm\'s resample_abs_pos_embed (bicubic, antialias), up to 6x5 and down to 2x3', () => {
    const pe = tensor(get(layers, 'pos.in'));
    const up = resampleAbsPosEmbed(pe, [6, 5], [4, 4], 1);
    const down = resampleAbsPosEmbed(pe, [2, 3], [4, 4], 1);
    assertClose(up, get(layers, 'pos.up'), 'pos embed up');
    assertClose(down, get(layers, 'pos.down'), 'pos embed down');
    assert.equal(resampleAbsPosEmbed(pe, [4, 4], [4, 4], 1), pe, 'the same grid is returned as is');
    tf.dispose([pe, up, down]);
  });

  it('interpolationMatrix rows sum to 1', () => {
    for (const [i, o] of [[4, 6], [14, 4], [7, 7], [3, 11]]) {
      const m = interpolationMatrix(i, o);
      for (let r = 0; r < o; r++) {
        const s = m.slice(r * i, (r + 1) * i).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(s - 1) < 1e-6, `${i}→${o} row ${r}: ${s}`);
      }
    }
  });
});

describe('transformer layers: MACs (qkv, q·kᵀ, attn·v, proj; MLP fc1, fc2)', () => {
  it('Attention on [S, N, C] counts S·N·C·3C + 2·S·N·N·C + S·N·C·C', () => {
    const c = new MacCounter();
    const m = new Attention(12, 3);
    assert.deepEqual(m.profile([4, 9, 12], c), [4, 9, 12]);
    assert.equal(c.total, 4 * 9 * 12 * 36 + 2 * 4 * 9 * 9 * 12 + 4 * 9 * 12 * 12);
    m.dispose();
  });

  it('Mlp and PatchMerging (padded odd map)', () => {
    const c = new MacCounter();
    const mlp = new Mlp(8, 32);
    mlp.profile([1, 5, 8], c);
    assert.equal(c.total, 2 * 5 * 8 * 32);
    const pm = new PatchMerging(6);
    const c2 = new MacCounter();
    assert.deepEqual(pm.profile([5, 7, 6], c2), [3, 4, 12]);
    assert.equal(c2.total, 3 * 4 * 24 * 12);
    mlp.dispose();
    pm.dispose();
  });
});
