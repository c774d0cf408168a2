/**
 * A training run as one plain config object (JSON or YAML): model, data, augmentation, recipe. The CLI
 * loads a file, applies flag overrides (`--set recipe.lr=1e-3`, `--epochs 5` …) and runs it; the resolved
 * object is recorded in the run folder, and its hash names cached ablation runs.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';

import type { AugmentConfig } from '../augment/config';
import type { ConvNeXtConfig } from '../convnext/convnext';
import type { ModelOptions } from '../convnext/model';
import type { TrainRecipe } from './recipe';

export interface ModelConfig {
  /** A registered model name (`convnext_tiny`, `convnext_cifar` …). */
  name?: string;
  /** Or an explicit ConvNeXt architecture (depths, dims, stemPatchSize, stemType, kernelSize …). */
  arch?: Pick<ConvNeXtConfig, 'depths' | 'dims' | 'stemPatchSize' | 'stemType' | 'kernelSize'>;
  /** Registry options; numClasses defaults to the dataset's class count. */
  options?: ModelOptions;
  /** Initial weights (a convnext-ts checkpoint / weights file). */
  weights?: string;
  /** Leave the classification head out when loading `weights` (fine-tuning to new classes). */
  newHead?: boolean;
}

export interface DataConfig {
  /** A project dataset prepared and cached by src/data: cifar10 (train / test) or flowers5 (seeded 90/10). */
  name?: 'cifar10' | 'flowers5';
  /** Or ImageFolder roots: root/<class>/<image>. */
  train?: string;
  val?: string;
  /** Keep the first n images of each class (smoke runs and small budgets). */
  perClass?: number;
  /** Images per class of the evaluation split (default: perClass). */
  valPerClass?: number;
  /** Seed of the flowers5 split. */
  splitSeed?: number;
  /** Batch size of evaluation (default: the recipe's micro-batch). */
  evalBatchSize?: number;
  /** Root of the data/ folder (default: the repository's). */
  dataDir?: string;
}

/** AugmentConfig plus the CIFAR-style pad-and-crop (which then replaces RandomResizedCrop). */
export type AugmentSettings = Partial<AugmentConfig> & {
  /** Zero padding of a random crop at the input size (torchvision RandomCrop(padding)); 0 / absent: off. */
  cropPadding?: number;
};

export interface TrainConfig {
  name: string;
  model: ModelConfig;
  data: DataConfig;
  augment?: AugmentSettings;
  recipe?: Partial<TrainRecipe>;
  /** Run folder (default runs/<name>). */
  out?: string;
}

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

export function checkConfig(raw: unknown, source = 'config'): TrainConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${source}: expected an object`);
  const c = raw as Partial<TrainConfig>;
  const known = ['name', 'model', 'data', 'augment', 'recipe', 'out'];
  const unknown = Object.keys(c).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new Error(`${source}: unknown keys ${unknown.join(', ')} (known: ${known.join(', ')})`);
  if (!c.model || (!c.model.name && !c.model.arch)) throw new Error(`${source}: model.name or model.arch is required`);
  if (!c.data || (!c.data.name && !c.data.train)) throw new Error(`${source}: data.name or data.train is required`);
  if (c.data.name && !['cifar10', 'flowers5'].includes(c.data.name)) {
    throw new Error(`${source}: unknown dataset ${c.data.name} (cifar10 | flowers5, or give data.train / data.val folders)`);
  }
  return { ...c, name: c.name ?? path.basename(source).replace(/\.(ya?ml|json)$/i, '') } as TrainConfig;
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
