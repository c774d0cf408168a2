/** CBAM, the Convolutional Block Attention Module (Woo et al., ECCV 2018): channel, then spatial attention. */
import { tf } from '../backend';
import { BatchNorm2d } from './batch-norm';
import { Linear } from './linear';
import { Conv2d } from './conv';
import { FeatureShape, MacCounter, Module } from './module';
import { globalAvgPool, globalMaxPool, scaleChannels } from './pool';
import { reducedWidth } from './squeeze-excite';

/** sigmoid(MLP(avgpool(x)) + MLP(maxpool(x))) with one shared MLP `fc1` → ReLU → `fc2`. */
export class ChannelAttention extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(readonly channels: number, reduction = 16) {
    super();
    const hidden = reducedWidth(channels, reduction);
    this.fc1 = this.registerModule('fc1', new Linear(channels, hidden));
    this.fc2 = this.registerModule('fc2', new Linear(hidden, channels));
  }

  /** Per-sample channel weights [N, C]. */
  weights(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      // Both pooled vectors go through the MLP as one batch of 2N rows.
      const n = x.shape[0];
      const pooled = tf.concat([globalAvgPool(x), globalMaxPool(x)], 0);
      const z = this.fc2.forward(tf.relu(this.fc1.forward(pooled)));
      return tf.sigmoid(tf.add(z.slice([0, 0], [n, -1]), z.slice([n, 0], [n, -1]))) as tf.Tensor2D;
    });
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => scaleChannels(x, this.weights(x)));
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    // The MLP runs twice per image: once on the average-pooled and once on the max-pooled vector.
    for (let i = 0; i < 2; i++) {
      counter.within('fc1', () => this.fc1.profile([1, 1, this.channels], counter));
      counter.within('fc2', () => this.fc2.profile([1, 1, this.fc1.outFeatures], counter));
    }
    return input;
  }
}

/** sigmoid(BN(conv7x7([max_c(x), mean_c(x)]))): one weight per pixel, shared by all channels. */
export class SpatialAttention extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;

  constructor(readonly kernelSize = 7) {
    super();
    // No conv bias: the BatchNorm right after it has its own shift.
    this.conv = this.registerModule('conv', new Conv2d(2, 1, { kernelSize, padding: kernelSize >> 1, bias: false }));
    this.bn = this.registerModule('bn', new BatchNorm2d(1));
  }

  /** Per-pixel weights [N, H, W, 1]. */
  weights(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const pooled = tf.concat([tf.max(x, 3, true), tf.mean(x, 3, true)], 3) as tf.Tensor4D;
      return tf.sigmoid(this.bn.forward(this.conv.forward(pooled)));
    });
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => tf.mul(x, this.weights(x)));
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    counter.within('conv', () => this.conv.profile([input[0], input[1], 2], counter));
    return input;
  }
}

export interface CBAMOptions {
  /** Reduction of the channel MLP (16). */
  reduction?: number;
  /** Kernel of the spatial attention conv (7). */
  spatialKernelSize?: number;
}

/** Channel attention `channel`, then spatial attention `spatial`, each multiplied onto the map. */
export class CBAM extends Module {
  readonly channel: ChannelAttention;
  readonly spatial: SpatialAttention;

  constructor(readonly channels: number, opts: CBAMOptions = {}) {
    super();
    this.channel = this.registerModule('channel', new ChannelAttention(channels, opts.reduction ?? 16));
    this.spatial = this.registerModule('spatial', new SpatialAttention(opts.spatialKernelSize ?? 7));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.spatial.forward(this.channel.forward(x)));
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    const s = counter.within('channel', () => this.channel.profile(input, counter));
    return counter.within('spatial', () => this.spatial.profile(s, counter));
  }
}
