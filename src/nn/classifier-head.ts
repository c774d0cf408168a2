/** timm's layers/classifier.py ClassifierHead with average pooling, for NHWC maps (Swin's `head`). */
import { tf } from '../backend';
import { Linear } from './linear';
import { FeatureShape, MacCounter, Module } from './module';

/** Global average pool over H and W, then `fc`: [B, H, W, C] → [B, classes]; parameters `fc.*`. */
export class ClassifierHead extends Module {
  readonly fc: Linear;

  constructor(inFeatures: number, numClasses: number) {
    super();
    this.fc = this.registerModule('fc', new Linear(inFeatures, numClasses));
  }

  forward(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.fc.forward(tf.mean(x, [1, 2]) as tf.Tensor2D));
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    return counter.within('fc', () => this.fc.profile([1, 1, input[2]], counter));
  }
}
