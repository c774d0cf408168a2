import { tf } from '../backend';

/**
 * A differentiable op of two tensors made of a forward kernel and the kernel of its two gradients, neither of
 * which records a gradient itself (the native ops): tf.customGrad, keeping both inputs for the backward pass.
 */
export function withGradient<A extends tf.Tensor, B extends tf.Tensor, Y extends tf.Tensor>(
  forward: (a: A, b: B) => Y,
  backward: (dy: tf.Tensor, a: A, b: B) => tf.Tensor[],
): (a: A, b: B) => Y {
  return tf.customGrad((...args: unknown[]) => {
    const [a, b] = args as [A, B];
    (args[2] as tf.GradSaveFunc)([a, b]);
    return {
      value: forward(a, b),
      gradFunc: (dy: tf.Tensor, [as, bs]: tf.Tensor[]) => backward(dy, as as A, bs as B),
    };
  }) as (a: A, b: B) => Y;
}
