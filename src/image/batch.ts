/** A batch on the host, and the transform signatures that augment provides and the loader runs. */
import type { Rng } from '../util/rng';
import type { Sample } from './sample';

/** A batch before it becomes tensors: what batch transforms edit in place. */
export interface HostBatch {
  /** float32 NHWC, normalised, length B*H*W*C. */
  x: Float32Array;
  shape: [number, number, number, number];
  /** Row-major [B, yWidth] targets: one-hot (classification) or the target (regression). */
  y: Float32Array;
  yWidth: number;
  labels: Int32Array | Float32Array;
  indices: Int32Array;
}

/** Per-sample transform on Uint8 HWC images; `rng` is private to this sample in this epoch. */
export type SampleTransform = (sample: Sample, rng: Rng) => Sample | Promise<Sample>;
/** Batch-level transform on typed arrays (edits in place); `rng` is private to this batch in this epoch. */
export type BatchTransform = (batch: HostBatch, rng: Rng) => void;
