import { strict as assert } from 'assert';
import { complexity, createModel } from '../../src/convnext';
import { withoutInit } from "../../src/nn";

/** Figures stated for the official models (paper Table 1 / timm model cards), 1000-class head. */
const PARAMS: Record<string, number> = {
  convnext_atto: 3_695_520,
  convnext_tiny: 28_589_128,
  convnext_small: 50_223_688,
  convnext_base: 88_591_464,
  convnext_large: 197_767_336,
  convnext_xlarge: 350_196_968,
};

const MACS: Array<[string, number, number]> = [
  ['convnext_tiny', 224, 4_455_531_264],
  ['convnext_xlarge', 224, 60_921_030_656],
  ['convnext_base', 384, 45_122_117_632],
];

describe('ConvNeXt params and MACs (exact)', () => {
  for (const [name, params] of Object.entries(PARAMS)) {
    it(`${name} has ${params.toLocaleString()} params`, () => {
      const m = withoutInit(() => createModel(name));
      assert.equal(m.numParams(), params);
      m.dispose();
    });
  }
  for (const [name, size, macs] of MACS) {
    it(`${name} at ${size} has ${macs.toLocaleString()} MACs`, () => {
      const m = withoutInit(() => createModel(name));
      assert.equal(complexity(m, size).macs, macs);
      m.dispose();
    });
  }
});
