/** The transformer MLP (timm's layers/mlp.py `Mlp`): Linear → exact GELU → Linear. */
import { tf } from '../backend';
import { gelu } from './activation';
import { Linear } from './linear';
import { FeatureShape, MacCounter, Module } from './module';

/**
 * fc1 (dim → hidden) → GELU (erf form) → fc2 (hidden → out) over the last axis, for token sequences
 * [B, N, C] and NHWC maps alike. Parameters `fc1`, `fc2` as timm's, so `blocks.0.mlp.fc1.weight` maps
 * one-to-one. MACs: the two Linears (the activation is not counted).
 */
export class Mlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(readonly inFeatures: number, readonly hiddenFeatures: number, outFeatures = inFeatures) {
    super();
    this.fc1 = this.registerModule('fc1', new Linear(inFeatures, hiddenFeatures));
    this.fc2 = this.registerModule('fc2', new Linear(hiddenFeatures, outFeatures));
  }

  forward<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => this.fc2.forward(gelu(this.fc1.forward(x))));
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    const s = counter.within('fc1', () => this.fc1.profile(input, counter));
    return counter.within('fc2', () => this.fc2.profile(s, counter));
  }
}
