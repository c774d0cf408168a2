import { strict as assert } from 'assert';

import { ConvNeXt } from '../../src/convnext/convnext';
import { SwinTransformer } from '../../src/convnext/swin';
import { VisionTransformer } from '../../src/convnext/vit';
import { withoutInit } from '../../src/nn/init';
import {
  type ParamGroup, buildParamGroups, convnextLayerId, convnextNumLayers, layerGrouping, layerScales, swinLayerId, vitLayerId,
} from '../../src/train/param-groups';

/** The group holding a parameter (fails the test when none does). */
function groupOf(groups: ParamGroup[], name: string): ParamGroup {
  const g = groups.find((x) => x.params.some(([n]) => n === name));
  assert.ok(g, `${name} is in no group`);
  return g;
}

/**
 * timm's `group_with_matcher` (timm/models/_manipulate.py) for a list of (regex, suffix) matchers in the
 * order of timm's `group_matcher` dict: each name maps to the tuple (group ordinal, regex groups…, suffix…),
 * unmatched names to (inf); the sorted distinct tuples are numbered from 0, and a tuple ending in
 * MATCH_PREV_GROUP (99999) joins the previous number. An independent check of `swinLayerId`.
 */
function timmLayerIds(names: string[], matchers: Array<[number, RegExp, number[] | null]>): Map<string, number> {
  const key = (name: string): number[] => {
    for (const [ordinal, re, suffix] of matchers) {
      const m = re.exec(name);
      if (m) return [ordinal, ...m.slice(1).map(Number), ...(suffix ?? [])];
    }
    return [Infinity];
  };
  const cmp = (a: number[], b: number[]) => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  };
  const keys = new Map(names.map((n) => [n, key(n)]));
  const distinct = [...new Map([...keys.values()].map((k) => [k.join(','), k])).values()].sort(cmp);
  const idOf = new Map<string, number>();
  let lid = -1;
  for (const k of distinct) {
    if (lid < 0 || k[k.length - 1] !== 99999) lid++;
    idOf.set(k.join(','), lid);
  }
  return new Map(names.map((n) => [n, idOf.get(keys.get(n)!.join(','))!]));
}

/** timm's SwinTransformer.group_matcher(coarse=False), as (ordinal, regex, suffix). */
const SWIN_MATCHERS: Array<[number, RegExp, number[] | null]> = [
  [0, /^absolute_pos_embed|^patch_embed/, null],
  [1, /^layers\.(\d+).downsample/, [0]],
  [1, /^layers\.(\d+)\.\w+\.(\d+)/, null],
  [1, /^norm/, [99999]],
];

describe('parameter groups', () => {
  const model = withoutInit(() => new ConvNeXt({ depths: [3, 3, 27, 3], dims: [8, 8, 8, 8], numClasses: 5 }));
  after(() => model.dispose());

  it('no weight decay on 1-D parameters, biases and layer-scale gammas; decay on conv / linear weights', () => {
    const groups = buildParamGroups(model, { weightDecay: 0.05 });
    assert.deepEqual(groups.map((g) => g.name).sort(), ['decay', 'no_decay']);
    const decay = groups.find((g) => g.name === 'decay')!;
    const noDecay = groups.find((g) => g.name === 'no_decay')!;
    assert.equal(decay.weightDecay, 0.05);
    assert.equal(noDecay.weightDecay, 0);
    for (const [n, v] of decay.params) assert.ok(v.rank > 1 && !n.endsWith('.bias'), n);
    const noDecayNames = noDecay.params.map(([n]) => n);
    for (const n of ['stages.0.0.gamma', 'stages.0.0.norm.weight', 'stages.0.0.pwconv1.bias', 'head.bias', 'norm.weight']) {
      assert.ok(noDecayNames.includes(n), n);
    }
    for (const n of ['stages.0.0.dwconv.weight', 'stages.0.0.pwconv1.weight', 'head.weight', 'downsample_layers.1.1.weight']) {
      assert.ok(decay.params.some(([m]) => m === n), n);
    }
    const total = groups.reduce((s, g) => s + g.params.length, 0);
    assert.equal(total, model.namedParameters().length);
  });

  it('layer ids follow the official get_num_layer_for_convnext for [3, 3, 27, 3]', () => {
    assert.equal(convnextNumLayers([3, 3, 27, 3]), 12);
    const cases: Array<[string, number]> = [
      ['downsample_layers.0.0.weight', 0],
      ['stages.0.2.dwconv.weight', 1],
      ['downsample_layers.1.1.weight', 2],
      ['stages.1.0.gamma', 2],
      ['downsample_layers.2.0.weight', 3],
      ['stages.2.0.pwconv1.weight', 3],
      ['stages.2.5.pwconv1.weight', 4],
      ['stages.2.26.norm.bias', 11],
      ['downsample_layers.3.1.bias', 12],
      ['stages.3.2.pwconv2.weight', 12],
      ['norm.weight', 13],
      ['head.weight', 13],
    ];
    for (const [n, id] of cases) assert.equal(convnextLayerId(n, 12), id, n);
  });

  it('layer-wise LR decay scales: decay^(13 - id), head at 1', () => {
    const s = layerScales(0.8, 12);
    assert.equal(s.length, 14);
    assert.equal(s[13], 1);
    assert.ok(Math.abs(s[12] - 0.8) < 1e-12);
    assert.ok(Math.abs(s[0] - 0.8 ** 13) < 1e-12);
    const groups = buildParamGroups(model, { weightDecay: 0.05, layerDecay: 0.8 });
    const head = groups.find((g) => g.params.some(([n]) => n === 'head.weight'))!;
    assert.equal(head.name, 'layer_13_decay');
    assert.equal(head.lrScale, 1);
    const stem = groups.find((g) => g.params.some(([n]) => n === 'downsample_layers.0.0.weight'))!;
    assert.equal(stem.name, 'layer_0_decay');
    assert.ok(Math.abs(stem.lrScale - 0.8 ** 13) < 1e-12);
    const stemBias = groups.find((g) => g.params.some(([n]) => n === 'downsample_layers.0.0.bias'))!;
    assert.equal(stemBias.name, 'layer_0_no_decay');
    assert.equal(stemBias.weightDecay, 0);
  });

  it('ConvNeXt-T (stage 3 depth 9) gets 6 layers: stage 3 → 6, head → 7', () => {
    const t = withoutInit(() => new ConvNeXt({ depths: [3, 3, 9, 3], dims: [8, 8, 8, 8], numClasses: 5 }));
    const groups = buildParamGroups(t, { weightDecay: 0.05, layerDecay: 0.7 });
    const names = new Set(groups.map((g) => g.name));
    for (const id of [0, 1, 2, 3, 4, 5, 6, 7]) assert.ok(names.has(`layer_${id}_no_decay`), `layer ${id}`);
    assert.ok(!names.has('layer_8_no_decay'));
    t.dispose();
  });

  it('frozen parameters are left out', () => {
    const m = withoutInit(() => new ConvNeXt({ depths: [1, 1, 1, 1], dims: [4, 4, 4, 4], numClasses: 2 }));
    const [, stemW] = m.namedParameters()[0];
    (stemW as { trainable: boolean }).trainable = false;
    const groups = buildParamGroups(m, { weightDecay: 0.05 });
    assert.ok(!groups.some((g) => g.params.some(([, v]) => v === stemW)));
    m.dispose();
  });
});

describe('parameter groups: Vision Transformer', () => {
  // 3 blocks of width 8: ids 0 (embeddings), 1-3 (blocks), 4 (final norm, head).
  const vit = withoutInit(() => new VisionTransformer({ imgSize: 8, patchSize: 4, embedDim: 8, depth: 3, numHeads: 2, numClasses: 5 }));
  after(() => vit.dispose());

  it('no weight decay on cls_token and pos_embed (timm\'s no_weight_decay), norms and biases', () => {
    assert.deepEqual(layerGrouping(vit).noWeightDecay.sort(), ['cls_token', 'pos_embed']);
    const groups = buildParamGroups(vit, { weightDecay: 0.05 });
    assert.deepEqual(groups.map((g) => g.name).sort(), ['decay', 'no_decay']);
    const noDecay = groups.find((g) => g.name === 'no_decay')!.params.map(([n]) => n);
    const decay = groups.find((g) => g.name === 'decay')!.params.map(([n]) => n);
    for (const n of ['cls_token', 'pos_embed', 'patch_embed.proj.bias', 'blocks.0.norm1.weight', 'blocks.0.norm1.bias',
      'blocks.1.attn.qkv.bias', 'blocks.2.mlp.fc2.bias', 'norm.weight', 'head.bias']) assert.ok(noDecay.includes(n), n);
    // What stays decayed: the patch projection's and every Linear's weight (4 per block) and the head's.
    assert.deepEqual(decay.sort(), ['blocks.0.attn.proj.weight', 'blocks.0.attn.qkv.weight', 'blocks.0.mlp.fc1.weight',
      'blocks.0.mlp.fc2.weight', 'blocks.1.attn.proj.weight', 'blocks.1.attn.qkv.weight', 'blocks.1.mlp.fc1.weight',
      'blocks.1.mlp.fc2.weight', 'blocks.2.attn.proj.weight', 'blocks.2.attn.qkv.weight', 'blocks.2.mlp.fc1.weight',
      'blocks.2.mlp.fc2.weight', 'head.weight', 'patch_embed.proj.weight']);
    assert.equal(noDecay.length + decay.length, vit.namedParameters().length);
  });

  it('layer ids follow BEiT / MAE get_layer_id_for_vit: embeddings 0, block i → i + 1, norm and head → depth + 1', () => {
    const cases: Array<[string, number]> = [
      ['cls_token', 0], ['pos_embed', 0], ['patch_embed.proj.weight', 0], ['patch_embed.proj.bias', 0],
      ['blocks.0.norm1.weight', 1], ['blocks.0.attn.qkv.weight', 1], ['blocks.1.mlp.fc1.bias', 2],
      ['blocks.2.mlp.fc2.weight', 3], ['norm.weight', 4], ['norm.bias', 4], ['head.weight', 4], ['head.bias', 4],
    ];
    for (const [n, id] of cases) assert.equal(vitLayerId(n, 3), id, n);
    // ViT-B's 12 blocks: block 11 → 12, head → 13.
    assert.equal(vitLayerId('blocks.11.attn.proj.weight', 12), 12);
    assert.equal(vitLayerId('head.weight', 12), 13);
    assert.equal(layerGrouping(vit).numLayers, 3);
  });

  it('layer-wise LR decay 0.5 over depth 3: scale 0.5^(4 - id), embeddings at 0.0625, head at 1', () => {
    const groups = buildParamGroups(vit, { weightDecay: 0.05, layerDecay: 0.5 });
    const expect: Array<[string, string, number, number]> = [
      // name, group, lrScale (0.5 ** (4 - id)), weight decay
      ['cls_token', 'layer_0_no_decay', 0.0625, 0],
      ['pos_embed', 'layer_0_no_decay', 0.0625, 0],
      ['patch_embed.proj.weight', 'layer_0_decay', 0.0625, 0.05],
      ['blocks.0.attn.qkv.weight', 'layer_1_decay', 0.125, 0.05],
      ['blocks.1.norm2.weight', 'layer_2_no_decay', 0.25, 0],
      ['blocks.2.mlp.fc2.weight', 'layer_3_decay', 0.5, 0.05],
      ['norm.weight', 'layer_4_no_decay', 1, 0],
      ['head.weight', 'layer_4_decay', 1, 0.05],
    ];
    for (const [n, group, scale, wd] of expect) {
      const g = groupOf(groups, n);
      assert.equal(g.name, group, n);
      assert.equal(g.lrScale, scale, n);
      assert.equal(g.weightDecay, wd, n);
    }
    assert.equal(groups.length, 10); // ids 0-4, each with decayed and undecayed parameters
  });
});

describe('parameter groups: Swin Transformer', () => {
  // Depths [2, 2, 3]: ids 0 (patch embed), 1-2 (stage 0), 3-4 (stage 1), 5-7 (stage 2), 8 (head).
  const swin = withoutInit(() => new SwinTransformer({
    imgSize: 32, patchSize: 2, embedDim: 8, depths: [2, 2, 3], numHeads: [1, 2, 4], windowSize: 4, numClasses: 5,
  }));
  after(() => swin.dispose());

  it('no weight decay on every relative_position_bias_table (timm\'s no_weight_decay), norms and biases', () => {
    const tables = swin.namedParameters().map(([n]) => n).filter((n) => n.endsWith('relative_position_bias_table'));
    assert.equal(tables.length, 7); // one per block
    assert.deepEqual(layerGrouping(swin).noWeightDecay.sort(), tables.sort());
    const groups = buildParamGroups(swin, { weightDecay: 0.05 });
    const noDecay = groups.find((g) => g.name === 'no_decay')!.params.map(([n]) => n);
    const decay = groups.find((g) => g.name === 'decay')!.params.map(([n]) => n);
    for (const n of [...tables, 'patch_embed.norm.weight', 'layers.1.downsample.norm.weight', 'layers.2.blocks.2.attn.qkv.bias',
      'norm.bias', 'head.fc.bias']) assert.ok(noDecay.includes(n), n);
    for (const n of ['patch_embed.proj.weight', 'layers.1.downsample.reduction.weight', 'layers.0.blocks.1.attn.qkv.weight',
      'layers.2.blocks.0.mlp.fc2.weight', 'head.fc.weight']) assert.ok(decay.includes(n), n);
    // The tables are 2-D ([(2·4 − 1)², heads]): only the no_weight_decay list keeps them out of decay.
    assert.equal(swin.namedParameters().find(([n]) => n === tables[0])![1].rank, 2);
  });

  it('layer ids follow timm\'s swin grouping: one per block, patch merging with its stage\'s first block, norm with the last', () => {
    const cases: Array<[string, number]> = [
      ['patch_embed.proj.weight', 0], ['patch_embed.norm.bias', 0],
      ['layers.0.blocks.0.norm1.weight', 1], ['layers.0.blocks.1.attn.relative_position_bias_table', 2],
      ['layers.1.downsample.norm.weight', 3], ['layers.1.downsample.reduction.weight', 3], ['layers.1.blocks.0.mlp.fc1.weight', 3],
      ['layers.1.blocks.1.attn.proj.bias', 4],
      ['layers.2.downsample.reduction.weight', 5], ['layers.2.blocks.0.norm2.weight', 5], ['layers.2.blocks.2.mlp.fc2.weight', 7],
      ['norm.weight', 7], ['head.fc.weight', 8], ['head.fc.bias', 8],
    ];
    for (const [n, id] of cases) assert.equal(swinLayerId(n, [2, 2, 3]), id, n);
    assert.equal(layerGrouping(swin).numLayers, 7);
  });

  it('Swin-T\'s ids equal timm\'s group_with_matcher on every parameter name: 14 ids, stage 3 → 11-12, head 13', () => {
    const t = withoutInit(() => new SwinTransformer({ embedDim: 96, depths: [2, 2, 6, 2], numHeads: [3, 6, 12, 24] }));
    const names = t.namedParameters().map(([n]) => n);
    const timm = timmLayerIds(names, SWIN_MATCHERS);
    for (const n of names) assert.equal(swinLayerId(n, [2, 2, 6, 2]), timm.get(n), n);
    assert.equal(Math.max(...timm.values()), 13);
    assert.equal(swinLayerId('layers.3.downsample.reduction.weight', [2, 2, 6, 2]), 11);
    assert.equal(swinLayerId('layers.3.blocks.1.mlp.fc2.weight', [2, 2, 6, 2]), 12);
    assert.equal(swinLayerId('norm.weight', [2, 2, 6, 2]), 12);
    t.dispose();
  });

  it('layer-wise LR decay 0.5 over 7 blocks: scale 0.5^(8 - id)', () => {
    const groups = buildParamGroups(swin, { weightDecay: 0.05, layerDecay: 0.5 });
    const expect: Array<[string, string, number, number]> = [
      ['patch_embed.proj.weight', 'layer_0_decay', 0.5 ** 8, 0.05],
      ['layers.0.blocks.1.attn.relative_position_bias_table', 'layer_2_no_decay', 0.5 ** 6, 0],
      ['layers.1.downsample.reduction.weight', 'layer_3_decay', 0.5 ** 5, 0.05],
      ['layers.2.blocks.2.mlp.fc1.weight', 'layer_7_decay', 0.5, 0.05],
      ['norm.weight', 'layer_7_no_decay', 0.5, 0],
      ['head.fc.weight', 'layer_8_decay', 1, 0.05],
    ];
    for (const [n, group, scale, wd] of expect) {
      const g = groupOf(groups, n);
      assert.equal(g.name, group, n);
      assert.equal(g.lrScale, scale, n);
      assert.equal(g.weightDecay, wd, n);
    }
  });
});
