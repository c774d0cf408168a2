/**
 * Serialisable descriptions of the loader's transforms. Closures cannot cross threads, so every transform
 * the augment builders return remembers the description it was built from; the DataLoader's worker
 * threads rebuild the same transform from it (`sampleTransformFromSpec` in ./transforms).
 */

import type { AugmentConfig } from './config';
import type { BatchTransform, SampleTransform } from '../image/batch';

export type SampleSpec =
  /** buildTrainTransform(augment), or pad-and-crop + the rest of it with cropPadding. */
  | { kind: 'train'; augment: AugmentConfig; cropPadding?: number }
  /** buildEvalTransform: resize + centre crop ('center', the default) or squash both sides then crop. */
  | { kind: 'eval'; inputSize: number; cropPct: number; cropMode?: 'center' | 'squash' };

/** buildBatchTransform(augment, numClasses). */
export interface BatchSpec {
  augment: AugmentConfig;
  numClasses: number;
}

const specs = new WeakMap<object, SampleSpec | BatchSpec>();

/** Records the description `fn` was built from and returns `fn`. */
export function describeSample(fn: SampleTransform, spec: SampleSpec): SampleTransform {
  specs.set(fn, spec);
  return fn;
}

export function describeBatch(fn: BatchTransform, spec: BatchSpec): BatchTransform {
  specs.set(fn, spec);
  return fn;
}

/** The description of a transform built by the augment builders; undefined for any other function. */
export function sampleSpecOf(fn: SampleTransform): SampleSpec | undefined {
  return specs.get(fn) as SampleSpec | undefined;
}

export function batchSpecOf(fn: BatchTransform): BatchSpec | undefined {
  return specs.get(fn) as BatchSpec | undefined;
}
