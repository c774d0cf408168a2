import { strict as assert } from 'assert';

import { ConvNeXt } from '../src/convnext/convnext';
import { withoutInit } from '../src/nn/init';
import { buildParamGroups, convnextLayerId, convnextNumLayers, layerScales } from '../src/train/param-groups';

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
