/**
 * The augmentation recipe as a plain object. Defaults are the paper's ImageNet-1K training recipe
 * (ConvNeXt Table 1 / Appendix A.1, following DeiT / timm): RandomResizedCrop 224 with scale (0.08, 1),
 * horizontal flip, RandAugment rand-m9-mstd0.5-inc1, Mixup 0.8, CutMix 1.0 (switch prob 0.5, prob 1.0),
 * label smoothing 0.1, Random Erasing 0.25 ('pixel' mode); eval: resize to 224 / 0.875 = 256 and centre
 * crop 224. `geometric` (off by default) is the reproduction study's extra random affine.
 */
import { distance } from 'fastest-levenshtein';
import { z } from 'zod';

import { IMAGENET_NORM } from '../image/normalize';

/** How a value a user typed reads in an error: `the string "2"`, `[1, 0.5]`, `-1`. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (Array.isArray(v)) return `[${v.map((x) => (typeof x === 'string' ? JSON.stringify(x) : typeof x === 'number' ? String(x) : describeValue(x))).join(', ')}]`;
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/**
 * A schema for a value that must satisfy `ok`, failing with `must be <what>, got <value>`: one message per
 * field naming the allowed values, whatever is wrong (type or range).
 */
export function valueSchema<T>(what: string, ok: (v: unknown) => boolean): z.ZodType<T> {
  return z.custom<T>(ok, { error: (iss) => `must be ${what}, got ${describeValue(iss.input)}` });
}

const isNum = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);
/** A number that satisfies `ok`, described as `what` in errors. */
export const numberIn = (what: string, ok: (n: number) => boolean): z.ZodType<number> =>
  valueSchema<number>(what, (v) => isNum(v) && ok(v));
export const positiveInt = numberIn('a positive integer', (n) => Number.isInteger(n) && n > 0);
export const nonNegativeInt = numberIn('an integer >= 0', (n) => Number.isInteger(n) && n >= 0);
export const probability = numberIn('a probability in [0, 1]', (n) => n >= 0 && n <= 1);
export const nonNegative = numberIn('a number >= 0', (n) => n >= 0 && n < Infinity);
/** A [min, max] pair with `ok(min, max)`. */
export const pairIn = (what: string, ok: (lo: number, hi: number) => boolean): z.ZodType<[number, number]> =>
  valueSchema<[number, number]>(`[min, max] with ${what}`, (v) => Array.isArray(v) && v.length === 2 && v.every(isNum) && ok(v[0], v[1]));
const triple = (what: string, ok: (n: number) => boolean): z.ZodType<readonly [number, number, number]> =>
  valueSchema<readonly [number, number, number]>(what, (v) => Array.isArray(v) && v.length === 3 && v.every((x) => isNum(x) && ok(x)));

// ---------------------------------------------------------------------------------------------------
// Errors a user can act on: one line per problem, naming the key path, the allowed values and the value
// given; an unknown key names the closest known one.

/** Names people write for a key, normalised (lower case, no `_` / `-`), and the key they mean. */
const KEY_ALIASES: Record<string, string> = {
  learningrate: 'lr', baselr: 'lr', wd: 'weightDecay', bs: 'batchSize', batch: 'batchSize', microbatchsize: 'microBatch',
  ema: 'modelEma', emadecay: 'emaDecay', size: 'inputSize', imagesize: 'inputSize', imgsize: 'inputSize',
  resolution: 'inputSize', droppath: 'dropPathRate', drop_path: 'dropPathRate', stochasticdepth: 'dropPathRate',
  labelsmoothing: 'smoothing', randaug: 'randAugment', aa: 'randAugment', warmup: 'warmupEpochs',
  cutmixminmax: 'cutmix', mixupmode: 'mixupSwitchProb', dataset: 'name', classes: 'numClasses', nbclasses: 'numClasses',
};
/** The known key within a third of `key`'s length in edits (at least 2), if any. */
function closest(key: string, known: string[]): string | undefined {
  const limit = Math.max(2, Math.floor(key.length / 3));
  return known.map((k) => [k, distance(key.toLowerCase(), k.toLowerCase())] as const)
    .filter(([, d]) => d <= limit).sort((a, b) => a[1] - b[1])[0]?.[0];
}
const norm = (k: string): string => k.toLowerCase().replace(/[-_\s]/g, '');

type AnySchema = { def?: { type?: string; innerType?: AnySchema; options?: AnySchema[]; shape?: Record<string, AnySchema> } };

/** The object schema a value at `path` is checked by (through optional / nullable / union), if any. */
function objectAt(root: unknown, path: readonly PropertyKey[]): Record<string, AnySchema> | undefined {
  let s = root as AnySchema | undefined;
  for (let i = 0; ; i++) {
    for (let t = s?.def?.type; t === 'optional' || t === 'nullable' || t === 'readonly' || t === 'default' || t === 'union'; t = s?.def?.type) {
      s = t === 'union' ? s!.def!.options!.find((o) => o.def?.type === 'object') : s!.def!.innerType;
    }
    const shape = s?.def?.type === 'object' ? s.def.shape : undefined;
    if (i === path.length || !shape) return i === path.length ? shape : undefined;
    s = shape[String(path[i])];
  }
}

/** Every key path of an object schema (`recipe.lr`, `model.options.dropPathRate` …). */
function allPaths(root: unknown, at: string[] = []): string[][] {
  const shape = objectAt(root, at);
  if (!shape) return [];
  return Object.keys(shape).flatMap((k) => [[...at, k], ...allPaths(root, [...at, k])]);
}

/** The known key (or key path elsewhere in the schema) meant by an unknown one; '' when none is close. */
function meant(root: unknown, at: string[], key: string): string {
  const known = Object.keys(objectAt(root, at) ?? {});
  const alias = KEY_ALIASES[norm(key)];
  const here = known.find((k) => norm(k) === norm(key)) ?? (alias && known.includes(alias) ? alias : undefined) ?? closest(key, known);
  const dotted = (p: string[]): string => p.join('.');
  if (here) return dotted([...at, here]);
  // A key of another level (`recipe.inputSize` for augment.inputSize, `options` for model.options).
  const elsewhere = allPaths(root).filter((p) => norm(p[p.length - 1]) === norm(key) || p[p.length - 1] === alias);
  return elsewhere.length ? elsewhere.map(dotted).join(' or ') : '';
}

/** The union branch that got into the value's fields (an object with bad or unknown keys), if one did. */
const branchInto = (branches: readonly (readonly z.core.$ZodIssue[])[]): readonly z.core.$ZodIssue[] | undefined =>
  branches.find((b) => b.length > 0 && b.every((x) => x.path.length > 0 || x.code === 'unrecognized_keys'));

const pathText = (path: readonly PropertyKey[]): string =>
  path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i > 0 ? '.' : ''}${String(k)}`)).join('');

/**
 * One line per problem a schema found: `recipe.epochs must be a positive integer, got the string "2"`,
 * `unknown keys recipe.learning_rate (did you mean recipe.lr?)`. Parse with `{ reportInput: true }`.
 */
export function schemaErrors(root: z.ZodType, error: z.ZodError): string[] {
  const lines: string[] = [];
  const add = (issues: readonly z.core.$ZodIssue[], base: PropertyKey[]): void => {
    for (const iss of issues) {
      const at = [...base, ...iss.path];
      const where = pathText(at);
      if (iss.code === 'unrecognized_keys') {
        lines.push(`unknown keys ${iss.keys.map((k) => {
          const m = meant(root, at.map(String), k);
          return `${pathText([...at, k])}${m ? ` (did you mean ${m}?)` : ''}`;
        }).join(', ')}${iss.keys.every((k) => !meant(root, at.map(String), k))
          ? ` (known keys${where ? ` of ${where}` : ''}: ${Object.keys(objectAt(root, at) ?? {}).join(', ')})` : ''}`);
      } else if (iss.code === 'invalid_union' && branchInto(iss.errors)) {
        // An object checked field by field: its fields say what is wrong.
        add(branchInto(iss.errors)!, at);
      } else if (iss.code === 'invalid_type' && iss.expected === 'object') {
        lines.push(iss.input === undefined ? `${where} is required` : `${where} must be an object, got ${describeValue(iss.input)}`);
      } else {
        lines.push(where ? `${where} ${iss.message}` : iss.message);
      }
    }
  };
  add(error.issues, []);
  return lines;
}

/** The study's extra random affine. */
export const geometricSchema = z.strictObject({
  /** Maximum rotation in degrees, drawn uniformly from [-rotate, rotate]. */
  rotate: numberIn('an angle in [0, 180] degrees', (n) => n >= 0 && n <= 180),
  /** Isotropic scale range. */
  scale: pairIn('0 < min <= max', (lo, hi) => lo > 0 && lo <= hi),
  /** Maximum translation as a fraction of width / height, drawn uniformly from [-t, t]. */
  translate: numberIn('a fraction in [0, 1]', (n) => n >= 0 && n <= 1),
});
export type GeometricConfig = z.infer<typeof geometricSchema>;

/** The augmentation recipe: the one definition of its keys, types and allowed values. */
export const augmentConfigSchema = z.strictObject({
  /** Square model input size (pixels). */
  inputSize: positiveInt,
  /** RandomResizedCrop area range; null for a plain resize + centre crop in training too. */
  scale: pairIn('0 < min <= max <= 1', (lo, hi) => lo > 0 && lo <= hi && hi <= 1).nullable(),
  /** RandomResizedCrop aspect-ratio range. */
  ratio: pairIn('0 < min <= max', (lo, hi) => lo > 0 && lo <= hi && hi < Infinity),
  /** Horizontal flip probability. */
  hflip: probability,
  /** timm RandAugment policy string, '' for none. */
  randAugment: valueSchema<string>('a RandAugment policy such as "rand-m9-mstd0.5-inc1", or "" for none',
    (v) => typeof v === 'string' && (v === '' || v.startsWith('rand'))),
  /** Random Erasing probability ('pixel' mode), 0 for none. */
  reprob: probability,
  /** Mixup alpha, 0 for none. */
  mixup: numberIn('an alpha >= 0 (0: off)', (n) => n >= 0 && n < Infinity),
  /** CutMix alpha, 0 for none. */
  cutmix: numberIn('an alpha >= 0 (0: off)', (n) => n >= 0 && n < Infinity),
  /** Probability of applying mixup or cutmix to a batch. */
  mixupProb: probability,
  /** Probability of CutMix instead of Mixup when both are on. */
  mixupSwitchProb: probability,
  /** Label smoothing. */
  smoothing: numberIn('in [0, 1)', (n) => n >= 0 && n < 1),
  /** Extra random affine (the study's geometric augmentation), or false. */
  geometric: z.union([z.literal(false), geometricSchema], {
    error: (iss) => `must be false or { rotate, scale, translate }, got ${describeValue(iss.input)}`,
  }),
  /** Eval centre-crop fraction: resize the short side to inputSize / cropPct, then crop inputSize. */
  cropPct: numberIn('in (0, 1]', (n) => n > 0 && n <= 1),
  /** Per-channel normalisation of x / 255. */
  normalize: z.strictObject({
    mean: triple('three channel means', () => true),
    std: triple('three positive channel standard deviations', (n) => n > 0),
  }),
});
export type AugmentConfig = z.infer<typeof augmentConfigSchema>;

/** AugmentConfig plus the CIFAR-style pad-and-crop (which then replaces RandomResizedCrop), every key optional. */
export const augmentSettingsSchema = augmentConfigSchema.extend({
  /** Zero padding of a random crop at the input size (torchvision RandomCrop(padding)); 0 / absent: off. */
  cropPadding: nonNegativeInt,
}).partial();
export type AugmentSettings = z.infer<typeof augmentSettingsSchema>;

export const PAPER_AUGMENT: AugmentConfig = {
  inputSize: 224,
  scale: [0.08, 1],
  ratio: [3 / 4, 4 / 3],
  hflip: 0.5,
  randAugment: 'rand-m9-mstd0.5-inc1',
  reprob: 0.25,
  mixup: 0.8,
  cutmix: 1.0,
  mixupProb: 1.0,
  mixupSwitchProb: 0.5,
  smoothing: 0.1,
  geometric: false,
  cropPct: 0.875,
  normalize: IMAGENET_NORM,
};

/** The study's geometric augmentation when switched on without explicit values. */
export const DEFAULT_GEOMETRIC: GeometricConfig = { rotate: 15, scale: [0.9, 1.1], translate: 0.1 };

/** The paper's augmentation with `overrides`; unknown keys and out-of-range values are refused. */
export function augmentConfig(overrides: Partial<AugmentConfig> = {}): AugmentConfig {
  // AugmentSettings pass too: the pad-and-crop's cropPadding is the caller's to use.
  const parsed = augmentSettingsSchema.safeParse(overrides, { reportInput: true });
  if (!parsed.success) throw new Error(`augment: ${schemaErrors(augmentSettingsSchema, parsed.error).join('; ')}`);
  return { ...PAPER_AUGMENT, ...overrides };
}
