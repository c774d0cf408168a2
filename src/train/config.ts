/**
 * A training run as one plain config object (JSON or YAML): task, model, data, augmentation, recipe. The CLI
 * loads a file, applies flag overrides (`--set recipe.lr=1e-3`, `--epochs 5` …) and runs it; the resolved
 * object is recorded in the run folder, and its hash names cached ablation runs.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';

import { z } from 'zod';

import { augmentSettingsSchema, numberIn, positiveInt, schemaErrors, valueSchema, type AugmentSettings } from '../augment/config';
import { STEM_TYPES, type StemType } from '../convnext/stem';
import { isRegressionLoss, trainRecipeSchema } from './recipe';

export type { AugmentSettings };

const DATASETS = ['cifar10', 'flowers5', 'pet-age', 'pet-age-stand-in'] as const;
/** The named datasets whose targets are real numbers (task: regression). */
export const REGRESSION_DATASETS: readonly string[] = ['pet-age', 'pet-age-stand-in'];
export const TASKS = ['classification', 'regression'] as const;
export type Task = (typeof TASKS)[number];
const text = valueSchema<string>('a string', (v) => typeof v === 'string');
const positiveInts = valueSchema<number[]>('a non-empty list of positive integers',
  (v) => Array.isArray(v) && v.length > 0 && v.every((x) => Number.isInteger(x) && x > 0));

const modelSchema = z.strictObject({
  /** A registered model name (`convnext_tiny`, `convnext_cifar` …). */
  name: valueSchema<string>('a registered model name', (v) => typeof v === 'string' && v.length > 0),
  /** Or an explicit ConvNeXt architecture (depths, dims, stemPatchSize, stemType, kernelSize). */
  arch: z.strictObject({
    depths: positiveInts,
    dims: positiveInts,
    stemPatchSize: positiveInt.optional(),
    stemType: valueSchema<StemType>(`one of ${STEM_TYPES.join(' | ')}`, (v) => (STEM_TYPES as readonly unknown[]).includes(v)).optional(),
    kernelSize: numberIn('an odd positive integer', (n) => Number.isInteger(n) && n > 0 && n % 2 === 1).optional(),
  }),
  /** Registry options; numClasses defaults to the dataset's class count. */
  options: z.strictObject({
    numClasses: positiveInt,
    inChans: positiveInt,
    /** Stochastic depth rate of the last block. */
    dropPathRate: numberIn('a rate in [0, 1)', (n) => n >= 0 && n < 1),
    headInitScale: numberIn('a number > 0', (n) => n > 0 && n < Infinity),
    layerScaleInitValue: numberIn('a number >= 0', (n) => n >= 0 && n < Infinity),
  }).partial(),
  /** Initial weights (a convnext-ts checkpoint / weights file). */
  weights: text,
  /** Leave the classification head out when loading `weights` (fine-tuning to new classes). */
  newHead: valueSchema<boolean>('true or false', (v) => typeof v === 'boolean'),
}).partial();

const dataSchema = z.strictObject({
  /** A project dataset prepared and cached by src/data: cifar10 (train / test) or flowers5 (seeded 90/10). */
  name: valueSchema<(typeof DATASETS)[number]>(`a known dataset (${DATASETS.join(' | ')}), or give data.train / data.val folders`,
    (v) => (DATASETS as readonly unknown[]).includes(v)),
  /** Or ImageFolder roots: root/<class>/<image>. */
  train: text,
  val: text,
  /** Keep the first n images of each class (smoke runs and small budgets). */
  perClass: positiveInt,
  /** Images per class of the evaluation split (default: perClass). */
  valPerClass: positiveInt,
  /** Seed of the flowers5 split. */
  splitSeed: numberIn('an integer', (n) => Number.isSafeInteger(n)),
  /** Batch size of evaluation (default: the recipe's micro-batch). */
  evalBatchSize: positiveInt,
  /** Root of the data/ folder (default: the repository's). */
  dataDir: text,
  /** pet-age: the competition folder (trainset/, valset/, testset/, annotations/). */
  root: text,
  /** Keep the first n items of each split (regression datasets, where perClass means nothing). */
  limit: positiveInt,
  /** pet-age-stand-in: side of the generated images in pixels (default 64). */
  imageSize: positiveInt,
  /** pet-age-stand-in: fraction of train and validation labels replaced by wrong ones (default 0.06; test stays clean). */
  labelNoise: numberIn('a fraction in [0, 1)', (n) => n >= 0 && n < 1),
}).partial();

const increasing = valueSchema<number[]>('at least two increasing numbers',
  (v) => Array.isArray(v) && v.length >= 2 && v.every((x, i) => typeof x === 'number' && Number.isFinite(x) && (i === 0 || x > v[i - 1])));

/** `task: regression`: a one-output head predicting a real number (the pet-age study: age in months). */
const regressionSchema = z.strictObject({
  /**
   * The head predicts (target − mean) / std and predictions are mapped back: 'auto' takes mean and std of the
   * training targets (the resolved config records the numbers), 'none' trains on raw targets. Default 'auto'.
   */
  targetNorm: z.union([
    valueSchema<'auto' | 'none'>('auto | none', (v) => v === 'auto' || v === 'none'),
    z.strictObject({ mean: numberIn('a number', (n) => Number.isFinite(n)), std: numberIn('a number > 0', (n) => n > 0 && n < Infinity) }),
  ], { error: (iss) => `must be auto, none or { mean, std }, got ${JSON.stringify(iss.input)}` }),
  /** The targets' range [lo, hi]: evaluation clamps predictions into it (pet-age: [0, 192] months). */
  range: valueSchema<[number, number]>('[lo, hi] with lo < hi', (v) => Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x)) && v[0] < v[1]),
  /** Edges of the buckets `convnext eval` reports the MAE of (default: the pet-age study's age groups in months). */
  buckets: increasing,
}).partial();

/** A training config: every key, type and allowed value, at every level (unknown keys are refused). */
export const trainConfigSchema = z.strictObject({
  /** Default: the config file's name. */
  name: text.optional(),
  /** classification (default) or regression: a one-output head, regression losses, MAE / RMSE / R². */
  task: valueSchema<Task>(`one of ${TASKS.join(' | ')}`, (v) => (TASKS as readonly unknown[]).includes(v)).optional(),
  regression: regressionSchema.optional(),
  model: modelSchema,
  data: dataSchema,
  augment: augmentSettingsSchema.optional(),
  recipe: trainRecipeSchema.partial().optional(),
  /** Run folder (default runs/<name>). */
  out: text.optional(),
});

export type TrainConfig = Omit<z.infer<typeof trainConfigSchema>, 'name'> & { name: string };
export type ModelConfig = TrainConfig['model'];
export type DataConfig = TrainConfig['data'];

/** Reads a .json / .yaml / .yml config file with a clear error on a missing file or bad syntax. */
export function loadConfigFile(file: string): TrainConfig {
  if (!fs.existsSync(file)) throw new Error(`config file not found: ${file}`);
  const text = fs.readFileSync(file, 'utf8');
  let raw: unknown;
  try {
    raw = /\.ya?ml$/i.test(file) ? yaml.load(text) : JSON.parse(text);
  } catch (err) {
    throw new Error(`cannot parse ${file}: ${(err as Error).message}`);
  }
  return checkConfig(raw, file);
}

/**
 * Checks a config against the schema: unknown keys at any level (with the key meant), values of the wrong
 * type or out of range (with the allowed values and the value given). Returns it with its name filled in.
 */
export function checkConfig(raw: unknown, source = 'config'): TrainConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${source}: expected an object`);
  const parsed = trainConfigSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new Error(`${source}: ${schemaErrors(trainConfigSchema, parsed.error).join('; ')}`);
  const c = raw as z.infer<typeof trainConfigSchema>;
  if (!c.model.name && !c.model.arch) throw new Error(`${source}: model.name or model.arch is required`);
  if (!c.data.name && !c.data.train) throw new Error(`${source}: data.name or data.train is required`);
  const problems = taskProblems(c);
  if (problems.length > 0) throw new Error(`${source}: ${problems.join('; ')}`);
  return { ...c, name: c.name ?? path.basename(source).replace(/\.(ya?ml|json)$/i, '') };
}

/**
 * What a config asks that its task cannot do. Under `task: regression`, the classification-only parts are
 * refused rather than silently ignored: Mixup / CutMix (they mix one-hot targets; mixing the images of two
 * dogs does not show a dog of the mean age, so no regression meaning is given to them), label smoothing, the
 * cross-entropy losses, top-1 monitors, a head of more than one output, and per-class subsets.
 */
export function taskProblems(c: Pick<z.infer<typeof trainConfigSchema>, 'task' | 'regression' | 'model' | 'data' | 'augment' | 'recipe'>): string[] {
  const out: string[] = [];
  const regression = c.task === 'regression';
  const loss = c.recipe?.loss;
  const dataName = c.data.name;
  if (!regression) {
    if (loss !== undefined && isRegressionLoss(loss)) out.push(`recipe.loss ${loss} is a regression loss: set task: regression`);
    if (c.regression) out.push('the regression section needs task: regression');
    if (dataName && REGRESSION_DATASETS.includes(dataName)) out.push(`data.name ${dataName} is a regression dataset: set task: regression`);
    if (c.recipe?.monitor === 'valMae' || c.recipe?.monitor === 'emaMae') out.push(`recipe.monitor ${c.recipe.monitor} is a regression metric: set task: regression`);
    return out;
  }
  const refuse = (what: string, why: string): void => void out.push(`${what} is not available under task: regression (${why})`);
  if (loss !== undefined && !isRegressionLoss(loss)) refuse(`recipe.loss ${loss}`, 'use l1 | mse | smooth-l1 | huber | trimmed-l1');
  if (c.recipe?.monitor === 'valTop1' || c.recipe?.monitor === 'emaTop1') refuse(`recipe.monitor ${c.recipe.monitor}`, 'use valMae or emaMae');
  if ((c.augment?.mixup ?? 0) > 0) refuse(`augment.mixup ${c.augment!.mixup}`, 'Mixup mixes class targets; set it to 0');
  if ((c.augment?.cutmix ?? 0) > 0) refuse(`augment.cutmix ${c.augment!.cutmix}`, 'CutMix mixes class targets; set it to 0');
  if ((c.augment?.smoothing ?? 0) > 0) refuse(`augment.smoothing ${c.augment!.smoothing}`, 'label smoothing is for class targets; set it to 0');
  if ((c.recipe?.smoothing ?? 0) > 0) refuse(`recipe.smoothing ${c.recipe!.smoothing}`, 'label smoothing is for class targets; set it to 0');
  const heads = c.model.options?.numClasses;
  if (heads !== undefined && heads !== 1) refuse(`model.options.numClasses ${heads}`, 'the regression head has one output');
  if (c.data.perClass !== undefined || c.data.valPerClass !== undefined) refuse('data.perClass / data.valPerClass', 'there are no classes; use data.limit');
  if (dataName && !REGRESSION_DATASETS.includes(dataName)) refuse(`data.name ${dataName}`, `a classification dataset; use ${REGRESSION_DATASETS.join(' | ')}, or data.train / data.val CSV files of path,target rows`);
  if (dataName === 'pet-age' && !c.data.root) out.push('data.name pet-age needs data.root: the folder holding trainset/, valset/, testset/ and annotations/');
  return out;
}

/** The config's task (classification unless it says regression). */
export function taskOf(c: { task?: Task }): Task {
  return c.task ?? 'classification';
}

/** Parses a CLI value: numbers, booleans, null, JSON arrays / objects, else the string. */
export function parseValue(v: string): unknown {
  if (/^-?\d+(\.\d+)?(e-?\d+)?$/i.test(v)) return Number(v);
  if (v === 'true' || v === 'false') return v === 'true';
  if (v === 'null') return null;
  if (/^[[{]/.test(v)) return JSON.parse(v);
  return v;
}

/** Sets `a.b.c = value` on a copy of the config (CLI `--set a.b.c=value`). */
export function setPath<T extends object>(config: T, dotted: string, value: unknown): T {
  const out = structuredClone(config) as Record<string, unknown>;
  const keys = dotted.split('.');
  let node = out;
  for (const k of keys.slice(0, -1)) {
    if (node[k] === undefined || node[k] === null) node[k] = {};
    if (typeof node[k] !== 'object') throw new Error(`cannot set ${dotted}: ${k} is not an object`);
    node = node[k] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1];
  if (value === null) delete node[last];
  else node[last] = value;
  return out as T;
}

/** A short stable hash of a config (key order independent), naming cached runs. */
export function configHash(config: unknown): string {
  return createHash('sha1').update(stableStringify(config)).digest('hex').slice(0, 10);
}

function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** One difference between two configs: the key path and the values before and after (undefined: absent). */
export interface ConfigChange {
  path: string;
  old: unknown;
  new: unknown;
}

/** The key paths where two configs (as JSON would record them) differ; lists compare whole. */
export function configDiff(before: unknown, after: unknown): ConfigChange[] {
  const plain = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v, typedArrays)));
  const out: ConfigChange[] = [];
  const walk = (a: unknown, b: unknown, at: string): void => {
    const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
    if (isObj(a) && isObj(b)) {
      const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
      for (const k of keys) walk(a[k], b[k], at ? `${at}.${k}` : k);
    } else if (stableStringify(a) !== stableStringify(b)) {
      out.push({ path: at || '(config)', old: a, new: b });
    }
  };
  walk(plain(before), plain(after), '');
  return out;
}

/** `recipe.lr 0.01 → 0.02; augment.mixup (absent) → 0.2`. */
export function describeChanges(changes: readonly ConfigChange[]): string {
  const show = (v: unknown): string => (v === undefined ? '(absent)' : JSON.stringify(v));
  return changes.map((c) => `${c.path} ${show(c.old)} → ${show(c.new)}`).join('; ');
}

function typedArrays(_key: string, value: unknown): unknown {
  return ArrayBuffer.isView(value) && !(value instanceof DataView) ? Array.from(value as unknown as ArrayLike<number>) : value;
}
