/**
 * A training run as one plain config object (JSON or YAML): model, data, augmentation, recipe. The CLI
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
import { trainRecipeSchema } from './recipe';

export type { AugmentSettings };

const DATASETS = ['cifar10', 'flowers5'] as const;
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
}).partial();

/** A training config: every key, type and allowed value, at every level (unknown keys are refused). */
export const trainConfigSchema = z.strictObject({
  /** Default: the config file's name. */
  name: text.optional(),
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
  return { ...c, name: c.name ?? path.basename(source).replace(/\.(ya?ml|json)$/i, '') };
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
