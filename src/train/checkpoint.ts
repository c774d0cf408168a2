/**
 * Training checkpoints. A checkpoint is a folder:
 *   model.safetensors   the model's parameters and buffers in PyTorch's layouts under the official names
 *                       (src/convnext/weights.ts), so `safetensors.torch.load_file` + `load_state_dict`
 *                       and `convnext eval --weights` read it as they read official weights
 *   state.safetensors   optimizer slots (`<slot>/<param>`) and EMA weights (`ema/<param>`), flat, in this
 *                       library's layouts
 *   state.json          epoch / update position, optimizer kind and step, seed, history, best metric
 * It is written into a temporary folder unique to the process and call (`<name>.<pid>-<n>.tmp`), then swapped
 * in with renames, so a crash at any point leaves either the old or the new checkpoint whole (`<name>.old` is
 * picked up if the crash fell between the two renames). Temporary folders a killed process left behind are
 * never read, and are removed by the next save of the same checkpoint.
 */
import * as fs from 'fs';
import * as path from 'path';

import { tf } from '../backend';
import type { Module } from '../nn/module';
import { readSafetensors, toFloat32, writeSafetensors, type TensorToWrite } from '../convnext/safetensors';
import { loadWeights, saveWeights, WeightsError } from '../convnext/weights';
import type { ModelEma } from './ema';
import type { Optimizer, OptimizerState } from './optimizer';
import { readJsonFile, tempPathFor, writeFileAtomic } from '../util/fs';
import { processAlive } from './run-dir';

export const CHECKPOINT_FORMAT = 'convnext-ts-checkpoint-1';

/** Where a run stands, saved with its weights. */
export interface TrainPosition {
  /** Epochs fully done (the next epoch to run). */
  epoch: number;
  /** Batches of `epoch` already consumed (0 at an epoch boundary). */
  batchInEpoch: number;
  /** Optimizer updates so far (the schedule position). */
  step: number;
  /** Micro-batches so far (seeds drop path). */
  microStep: number;
}

export interface CheckpointMeta<H = unknown> {
  format: string;
  position: TrainPosition;
  seed: number;
  optimizer: { kind: string; step: number; hyper: Record<string, number | boolean> };
  hasEma: boolean;
  /** Anything the trainer needs to continue (history, best metric, partial-epoch sums). */
  extra: H;
  savedAt: string;
}

export interface Checkpoint<H = unknown> {
  dir: string;
  meta: CheckpointMeta<H>;
  /** model.safetensors of the checkpoint. */
  weightsFile: string;
  optimizer: OptimizerState;
  ema?: Record<string, Float32Array>;
}

/** Assigns name → values (this library's layouts) to a model's parameters, checking names and sizes. */
function assignFlat(model: Module, values: Record<string, Float32Array>, source: string): void {
  const params = model.namedParameters();
  for (const [name, v] of params) {
    const x = values[name];
    if (!x) throw new Error(`${source} has no values for ${name}`);
    if (x.length !== v.size) throw new Error(`${source}: ${name} has ${x.length} values, the model's has ${v.size}`);
  }
  tf.tidy(() => {
    for (const [name, v] of params) v.assign(tf.tensor(values[name], v.shape));
  });
}

export interface SaveCheckpointArgs<H> {
  model: Module;
  optimizer: Optimizer;
  ema?: ModelEma;
  position: TrainPosition;
  seed: number;
  extra: H;
}

/** Writes checkpoint `name` under `root` (e.g. runs/x/checkpoints/last), atomically as a whole. */
export function saveCheckpoint<H>(root: string, name: string, a: SaveCheckpointArgs<H>): string {
  const final = path.join(root, name);
  const tmp = tempPathFor(final);
  const old = `${final}.old`;
  removeStaleTemps(root, name);
  fs.mkdirSync(tmp, { recursive: true });
  const opt = a.optimizer.state();
  const meta: CheckpointMeta<H> = {
    format: CHECKPOINT_FORMAT,
    position: a.position,
    seed: a.seed,
    optimizer: { kind: opt.kind, step: opt.step, hyper: opt.hyper },
    hasEma: a.ema !== undefined,
    extra: a.extra,
    savedAt: new Date().toISOString(),
  };
  // Tagged as this library's, and readable as official weights by `loadWeights` and PyTorch alike.
  saveWeights(a.model, path.join(tmp, 'model.safetensors'), {
    convnext_ts: CHECKPOINT_FORMAT,
    epoch: String(a.position.epoch),
    step: String(a.position.step),
  });
  const state = new Map<string, TensorToWrite>();
  for (const [slot, perParam] of Object.entries(opt.slots)) {
    for (const [n, values] of Object.entries(perParam)) state.set(`${slot}/${n}`, { shape: [values.length], data: values });
  }
  if (a.ema) for (const [n, values] of Object.entries(a.ema.state())) state.set(`ema/${n}`, { shape: [values.length], data: values });
  writeSafetensors(path.join(tmp, 'state.safetensors'), state, { format: CHECKPOINT_FORMAT });
  writeFileAtomic(path.join(tmp, 'state.json'), JSON.stringify(meta, null, 1));
  // Swap: final → old, tmp → final, drop old. Between the renames only `old` exists; load() accepts it.
  fs.rmSync(old, { recursive: true, force: true });
  if (fs.existsSync(final)) fs.renameSync(final, old);
  fs.renameSync(tmp, final);
  fs.rmSync(old, { recursive: true, force: true });
  return final;
}

/**
 * Removes temporary folders of checkpoint `name` left by processes that are gone (a killed run): the old
 * fixed `<name>.tmp` and `<name>.<pid>-<n>.tmp` of this process or of a pid that is not alive. Another live
 * process's are kept.
 */
function removeStaleTemps(root: string, name: string): void {
  if (!fs.existsSync(root)) return;
  for (const entry of fs.readdirSync(root)) {
    if (!entry.startsWith(`${name}.`) || !entry.endsWith('.tmp')) continue;
    const m = /^(\d+)-\d+$/.exec(entry.slice(name.length + 1, -'.tmp'.length));
    // This process's own are leftovers of a failed save (saves are synchronous: none is in progress).
    if (m && Number(m[1]) !== process.pid && processAlive(Number(m[1]))) continue;
    if (!m && entry !== `${name}.tmp`) continue;
    fs.rmSync(path.join(root, entry), { recursive: true, force: true });
  }
}

/** The folder of checkpoint `name`, recovering from a crash mid-swap; undefined if there is none. */
export function findCheckpoint(root: string, name: string): string | undefined {
  const final = path.join(root, name);
  if (fs.existsSync(path.join(final, 'state.json'))) return final;
  const old = `${final}.old`;
  if (fs.existsSync(path.join(old, 'state.json'))) return old;
  return undefined;
}

export function loadCheckpoint<H>(dir: string): Checkpoint<H> {
  const metaFile = path.join(dir, 'state.json');
  if (!fs.existsSync(metaFile)) throw new Error(`${dir} is not a checkpoint folder (no state.json)`);
  const meta = readJsonFile<CheckpointMeta<H>>(metaFile);
  if (meta.format !== CHECKPOINT_FORMAT) throw new Error(`${dir}: unknown checkpoint format ${meta.format}`);
  const state = readSafetensors(path.join(dir, 'state.safetensors'));
  const slots: OptimizerState['slots'] = {};
  const ema: Record<string, Float32Array> = {};
  for (const [key, t] of state.tensors) {
    const i = key.indexOf('/');
    const slot = key.slice(0, i);
    const n = key.slice(i + 1);
    if (slot === 'ema') ema[n] = toFloat32(t);
    else (slots[slot] ??= {})[n] = toFloat32(t);
  }
  const optimizer: OptimizerState = { kind: meta.optimizer.kind, step: meta.optimizer.step, hyper: meta.optimizer.hyper, slots };
  return { dir, meta, weightsFile: path.join(dir, 'model.safetensors'), optimizer, ema: meta.hasEma ? ema : undefined };
}

/** Puts a loaded checkpoint's weights, optimizer and EMA state back into live objects. */
export function restoreCheckpoint(ck: Checkpoint, model: Module, optimizer: Optimizer, ema?: ModelEma): void {
  loadWeights(model, ck.weightsFile);
  optimizer.loadState(ck.optimizer);
  if (ema) {
    if (!ck.ema) throw new Error(`${ck.dir} has no EMA weights but this run uses EMA`);
    ema.loadState(ck.ema);
  }
}

/** Loads a checkpoint folder's model weights, or its EMA weights with `ema`, into a model. */
export function loadCheckpointWeights(model: Module, dir: string, opts: { ema?: boolean } = {}): CheckpointMeta {
  const ck = loadCheckpoint(dir);
  if (!opts.ema) {
    try {
      loadWeights(model, ck.weightsFile);
    } catch (err) {
      // The library's hint names numClasses and --classes; a checkpoint's class count is its run's data's.
      if (!(err instanceof WeightsError && err.classCount)) throw err;
      throw new Error(`${dir} holds a ${err.classCount.file}-class model but the model was built for ` +
        `${err.classCount.model} classes (the data's): evaluate on data with the run's ${err.classCount.file} classes`);
    }
    return ck.meta;
  }
  if (!ck.ema) throw new Error(`${dir} holds no EMA weights (the run did not use modelEma)`);
  assignFlat(model, ck.ema, `${dir} (EMA)`);
  return ck.meta;
}
