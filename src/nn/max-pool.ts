import { tf } from '../backend';
import { FeatureShape, Module } from './module';

/**
 * torch.nn.MaxPool2d with symmetric padding. TensorFlow's 'same' pads only the bottom/right for a
 * 3x3/2 window on an even size, which shifts every window by one pixel against PyTorch; padding
 * -Infinity on both sides and pooling 'valid' gives PyTorch's windows exactly.
 */
export class MaxPool2d extends Module {
  constructor(readonly kernelSize: number, readonly stride: number, readonly padding = 0) {
    super();
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const p = this.padding;
      const padded = p > 0 ? tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], -Infinity) : x;
      return tf.maxPool(padded, this.kernelSize, this.stride, 'valid');
    });
  }

  outputSize(size: number): number {
    return Math.floor((size + 2 * this.padding - this.kernelSize) / this.stride) + 1;
  }

  profile(input: FeatureShape): FeatureShape {
    return [this.outputSize(input[0]), this.outputSize(input[1]), input[2]];
  }
}
