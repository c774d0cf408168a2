/**
 * `convnext predict --onnx model.onnx`: an exported model (`convnext export --format onnx`) run in ONNX
 * Runtime instead of TensorFlow.js. The file holds the architecture, weights and input size; predict
 * preprocesses images as for the TensorFlow.js path (eval-transform.ts) into NHWC pixels, and this
 * transposes them to the NCHW float32 input the exported graph takes.
 */
import * as fs from 'fs';
import type * as OrtModule from 'onnxruntime-node';

/**
 * What predict needs of a model, whatever runs it: its input size, its class count, and logits for a batch
 * of NHWC pixels.
 */
export interface ImageClassifier {
  readonly size: number;
  readonly channels: number;
  readonly classes: number;
  /** Logits [n][classes] for `n` images of size x size x channels, NHWC float32 back to back. */
  logits(nhwc: Float32Array, n: number): Promise<number[][]>;
  dispose(): Promise<void>;
}

/** The session's input dims [batch, C, H, W] and output dims [batch, classes], checked against what export writes. */
function dimsOf(meta: OrtModule.InferenceSession.ValueMetadata, what: string, rank: number, file: string): ReadonlyArray<number | string> {
  const shape = meta.isTensor ? meta.shape : undefined;
  if (!shape || shape.length !== rank) {
    throw new Error(`${file}: ${what} "${meta.name}" is not a rank-${rank} tensor (is it a convnext export?)`);
  }
  return shape;
}

/** Opens an exported model; `size` and `classes`, when given, must be the file's. */
export async function openOnnxClassifier(file: string, size?: number, classes?: number): Promise<ImageClassifier> {
  if (!fs.existsSync(file)) throw new Error(`ONNX model not found: ${file}`);
  if (fs.statSync(file).isDirectory()) throw new Error(`--onnx ${file} is a folder, expected a .onnx file`);
  // Loaded here, not at start-up: only this path pays for ONNX Runtime.
  const ort = await import('onnxruntime-node');
  let session: OrtModule.InferenceSession;
  try {
    session = await ort.InferenceSession.create(file);
  } catch (err) {
    throw new Error(`${file} is not a model ONNX Runtime can load: ${(err as Error).message.split('\n')[0]}`);
  }
  const [, c, h, w] = dimsOf(session.inputMetadata[0], 'input', 4, file);
  const [, k] = dimsOf(session.outputMetadata[0], 'output', 2, file);
  if (typeof c !== 'number' || typeof h !== 'number' || typeof w !== 'number' || typeof k !== 'number' || h !== w) {
    await session.release();
    throw new Error(`${file}: expected a fixed square NCHW input and fixed logits, got input [${[c, h, w].join(', ')}] and ${k} classes`);
  }
  if (c !== 3) {
    await session.release();
    throw new Error(`${file} takes ${c}-channel input; predict feeds RGB images`);
  }
  if (classes !== undefined && classes !== k) {
    await session.release();
    throw new Error(`--classes ${classes} does not match ${file}, whose head has ${k} classes`);
  }
  if (size !== undefined && size !== h) {
    await session.release();
    throw new Error(`--size ${size} does not match ${file}, exported for ${h}x${w} inputs (leave --size out, or export again with --size ${size})`);
  }
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  return {
    size: h,
    channels: c,
    classes: k,
    async logits(nhwc: Float32Array, n: number): Promise<number[][]> {
      const hw = h * w;
      const nchw = new Float32Array(n * c * hw);
      for (let b = 0; b < n; b++) {
        for (let p = 0; p < hw; p++) {
          for (let k = 0; k < c; k++) nchw[(b * c + k) * hw + p] = nhwc[(b * hw + p) * c + k];
        }
      }
      const out = await session.run({ [inputName]: new ort.Tensor('float32', nchw, [n, c, h, w]) });
      const data = out[outputName].data as Float32Array;
      return Array.from({ length: n }, (_, b) => Array.from(data.subarray(b * k, (b + 1) * k)));
    },
    dispose: () => session.release(),
  };
}
