/**
 * Every registered model, as timm's tests/test_models.py loops over its registry: output shape, parameter
 * count, every parameter reached by the gradient, and no tensor leak across a forward and a training step.
 */
import { strict as assert } from 'assert';
import * as lib from '../../src';
import { tf } from '../../src/backend';
import { complexity, createModel, getModelEntry, listModels } from '../../src/convnext';
import { withoutInit } from '../../src/nn';

/** Models above this many parameters are checked from shapes only (their backward is seconds of CPU each). */
const MAX_TRAINED_PARAMS = 12e6;
const NUM_CLASSES = 3;

/** Small inputs: two stride-32 pyramids' worth for ImageNet models, the native 32 px for CIFAR ones. */
function inputSize(name: string): number {
  return getModelEntry(name).defaultSize <= 32 ? 32 : 64;
}

function trainableSize(model: lib.Classifier): number {
  return model.namedParameters().filter(([, v]) => v.trainable).reduce((s, [, v]) => s + v.size, 0);
}

/** One plain SGD step on a cross-entropy loss; returns how many trainable variables got a gradient. */
function sgdStep(model: lib.Classifier, x: tf.Tensor4D, labels: tf.Tensor2D): number {
  model.train();
  const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, model.forward(x)) as tf.Scalar);
  const byName = new Map(model.parameters().map((v) => [v.name, v]));
  tf.tidy(() => {
    for (const [name, g] of Object.entries(grads)) byName.get(name)?.assign(byName.get(name)!.sub(g.mul(1e-3)));
  });
  const n = Object.keys(grads).length;
  value.dispose();
  tf.dispose(grads);
  return n;
}

describe('every registered model', function () {
  this.timeout(300_000);

  it('has a unique lowercase snake_case name', () => {
    const names = listModels();
    assert.ok(names.length >= 60, `only ${names.length} models`);
    assert.equal(new Set(names).size, names.length);
    for (const n of names) assert.match(n, /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
  });

  it('is reachable from the public API', () => {
    assert.deepEqual(lib.listModels(), listModels());
    assert.equal(typeof lib.nn.Module, 'function');
  });

  for (const name of listModels()) {
    it(`${name}: logits [2, ${NUM_CLASSES}], params as counted, gradients reach every parameter, no leak`, () => {
      const before = tf.memory().numTensors;
      const shapes = withoutInit(() => createModel(name, { numClasses: NUM_CLASSES }));
      const size = inputSize(name);
      const counted = complexity(shapes, size);
      assert.equal(counted.params, trainableSize(shapes));
      assert.deepEqual(counted.outputShape, [1, 1, NUM_CLASSES]);
      const big = counted.params > MAX_TRAINED_PARAMS;
      shapes.dispose();
      if (big) {
        assert.equal(tf.memory().numTensors, before);
        return;
      }

      const model = createModel(name, { numClasses: NUM_CLASSES });
      const x = tf.randomNormal([2, size, size, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const labels = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 2], 'int32'), NUM_CLASSES).toFloat() as tf.Tensor2D);
      const round = (): number => {
        const reached = sgdStep(model, x, labels);
        model.eval();
        const logits = model.forward(x);
        assert.deepEqual(logits.shape, [2, NUM_CLASSES]);
        assert.ok(logits.dataSync().every(Number.isFinite), 'non-finite logits');
        logits.dispose();
        return reached;
      };
      // The first round may create caches that live with the model (packed inference weights).
      const trainable = model.parameters().filter((v) => v.trainable).length;
      assert.equal(round(), trainable, 'parameters the gradient does not reach');
      const settled = tf.memory().numTensors;
      round();
      assert.equal(tf.memory().numTensors, settled, 'tensors leaked by a training step and a forward');
      model.dispose();
      tf.dispose([x, labels]);
      assert.equal(tf.memory().numTensors, before, 'tensors left after dispose');
    });
  }
});
