/** torch.nn.ModuleList: children named "0", "1", ... under one container, for any kind of module. */
import { FeatureShape, MacCounter, Module } from './module';

/**
 * An indexed list of modules, so parameters read `blocks.3.attn.qkv.weight` as in PyTorch. Unlike
 * `Sequential` it has no forward of its own (the transformer blocks here map token sequences, not NHWC
 * maps); its `profile` chains the children's shapes in order, counting each under its index.
 */
export class ModuleList<M extends Module = Module> extends Module {
  readonly items: M[];

  constructor(items: M[]) {
    super();
    this.items = items.map((m, i) => this.registerModule(String(i), m));
  }

  get length(): number {
    return this.items.length;
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    return this.items.reduce((s, m, i) => counter.within(String(i), () => m.profile(s, counter)), input);
  }
}
