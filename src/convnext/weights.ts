/**
 * PyTorch weight interop: state dicts in PyTorch's layouts under the official ConvNeXt names, loaded
 * from either the official repository's or timm's key convention, and saved as safetensors that
 * `safetensors.torch.load_file` + `model.load_state_dict` read in PyTorch.
 *
 * Layouts (this library ↔ PyTorch):
 *   conv kernel        HWIO [kh, kw, in, out]  ↔ OIHW [out, in, kh, kw]
 *   depthwise kernel   [kh, kw, C, 1]          ↔ [C, 1, kh, kw]
 *   Linear weight      [in, out]               ↔ [out, in]   (timm's 1x1-conv MLP: [out, in, 1, 1]; also LinearNoBias)
 *   everything else    unchanged
 */
import { tf } from '../backend';
import { Linear, LinearNoBias } from '../nn';
import { ConvLayer } from '../nn/conv';
import { Module } from '../nn/module';
import { RawTensor, SafetensorsError, readSafetensors, toFloat32, writeSafetensors } from './safetensors';

/** A float32 tensor on the host, in PyTorch's layout. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/** Parameter name → tensor, like a PyTorch `state_dict()`; keys keep their order. */
export type StateDict = Map<string, HostTensor>;

/** The key conventions of the official ConvNeXt repository and of timm. */
export type KeyConvention = 'official' | 'timm';

/** How a parameter's PyTorch layout differs from ours. */
export type TorchLayout = 'plain' | 'conv' | 'depthwise' | 'linear';

export interface LoadOptions {
  /**
   * Like PyTorch's `strict`: missing and unexpected keys are errors (default). With `strict: false`
   * they are returned instead, and only the matching keys are loaded. Shape mismatches are always errors.
   */
  strict?: boolean;
  /**
   * Keep this model's freshly initialised classifier (`head.*`) and ignore the file's: fine-tuning a
   * checkpoint on a dataset with another number of classes.
   */
  ignoreHead?: boolean;
  /** Prefix of the classifier's parameters, for `ignoreHead` and class-count messages (default `head.`). */
  headPrefix?: string;
}

export interface LoadResult {
  convention: KeyConvention;
  /** Prefix removed from every key (`module.`, `model.`, `_orig_mod.`), or '' when none. */
  strippedPrefix: string;
  loadedKeys: string[];
  missingKeys: string[];
  unexpectedKeys: string[];
}

export interface ShapeMismatch {
  key: string;
  /** Shape this model needs, in PyTorch's layout. */
  expected: number[];
  /** Shape found in the state dict. */
  found: number[];
}

/** Everything wrong with a state dict, listed at once. */
export class WeightsError extends Error {
  override name = 'WeightsError';

  constructor(
    readonly missingKeys: string[],
    readonly unexpectedKeys: string[],
    readonly mismatched: ShapeMismatch[],
    readonly classCount?: { file: number; model: number },
    source = 'state dict',
  ) {
    super(describeProblems(missingKeys, unexpectedKeys, mismatched, classCount, source));
  }
}

const LIST_LIMIT = 20;

function listKeys(keys: string[]): string {
  const shown = keys.slice(0, LIST_LIMIT).join(', ');
  return keys.length > LIST_LIMIT ? `${shown}, … (${keys.length - LIST_LIMIT} more)` : shown;
}

function describeProblems(
  missing: string[], unexpected: string[], mismatched: ShapeMismatch[],
  classCount: { file: number; model: number } | undefined, source: string,
): string {
  const parts: string[] = [];
  if (classCount) {
    parts.push(`the weights have ${classCount.file} classes but the model has ${classCount.model}: ` +
      `build the model with numClasses ${classCount.file}, ` +
      'or pass ignoreHead to keep a freshly initialised head for fine-tuning');
  }
  const other = mismatched.filter((m) => !(classCount && m.key.startsWith('head.')));
  if (other.length > 0) {
    parts.push(`shape mismatch for ${other.map((m) =>
      `${m.key} (model [${m.expected.join(', ')}], weights [${m.found.join(', ')}])`).slice(0, LIST_LIMIT).join('; ')}` +
      (other.length > LIST_LIMIT ? `; … (${other.length - LIST_LIMIT} more)` : ''));
  }
  if (missing.length > 0) parts.push(`missing ${missing.length} key(s): ${listKeys(missing)}`);
  if (unexpected.length > 0) parts.push(`unexpected ${unexpected.length} key(s): ${listKeys(unexpected)}`);
  return `cannot load ${source}: ${parts.join('; ')}`;
}

// ---------------------------------------------------------------------------------------------------
// Layouts

const TO_TORCH: Record<Exclude<TorchLayout, 'plain'>, number[]> = {
  conv: [3, 2, 0, 1],
  depthwise: [2, 3, 0, 1],
  linear: [1, 0],
};

function inversePerm(perm: number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => { inv[p] = i; });
  return inv;
}

/** Transposes a row-major host array: output axis i is input axis perm[i]. */
export function permute(data: Float32Array, shape: number[], perm: number[]): HostTensor {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) { inStrides[i] = s; s *= shape[i]; }
  const strides = perm.map((p) => inStrides[p]);
  const out = new Float32Array(data.length);
  // Odometer over the output index; the input offset moves by the permuted strides.
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[src];
    for (let a = rank - 1; a >= 0; a--) {
      idx[a]++;
      src += strides[a];
      if (idx[a] < outShape[a]) break;
      src -= strides[a] * outShape[a];
      idx[a] = 0;
    }
  }
  return { shape: outShape, data: out };
}

/** Every parameter of `model` with its layout, under its PyTorch name. */
function parameterLayouts(model: Module): Map<string, { variable: tf.Variable; layout: TorchLayout }> {
  const layouts = new Map<string, TorchLayout>();
  for (const [name, m] of model.namedModules()) {
    const prefix = name === '' ? '' : `${name}.`;
    let own: Record<string, TorchLayout> = {};
    // Conv2d and the study's ScaledDynamicConv2d alike; every other parameter keeps its layout.
    if (m instanceof ConvLayer) own = { weight: m.depthwise ? 'depthwise' : 'conv' };
    else if (m instanceof Linear || m instanceof LinearNoBias) own = { weight: 'linear' };
    for (const [p, layout] of Object.entries(own)) layouts.set(prefix + p, layout);
  }
  const out = new Map<string, { variable: tf.Variable; layout: TorchLayout }>();
  for (const [name, variable] of model.namedParameters()) {
    out.set(name, { variable, layout: layouts.get(name) ?? 'plain' });
  }
  return out;
}

function torchShape(shape: number[], layout: TorchLayout): number[] {
  return layout === 'plain' ? shape : TO_TORCH[layout].map((p) => shape[p]);
}

/** A PyTorch-layout tensor in our layout, or undefined when its shape is not `expected` (PyTorch layout). */
function fromTorch(t: HostTensor, layout: TorchLayout, expected: number[]): Float32Array | undefined {
  let { shape } = t;
  // timm's conv_mlp blocks (atto…nano) hold the MLP as 1x1 convs: [out, in, 1, 1].
  if (layout === 'linear' && shape.length === 4 && shape[2] === 1 && shape[3] === 1) shape = shape.slice(0, 2);
  if (!sameShape(shape, expected)) return undefined;
  return layout === 'plain' ? t.data : permute(t.data, shape, inversePerm(TO_TORCH[layout])).data;
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

// ---------------------------------------------------------------------------------------------------
// Key conventions

const STRIPPABLE_PREFIXES = ['module.', 'model.', '_orig_mod.'];

/** Removes wrapper prefixes that DataParallel, torch.compile or Lightning put on every key. */
export function stripPrefixes(sd: StateDict): { stateDict: StateDict; stripped: string } {
  let stripped = '';
  let keys = [...sd.keys()];
  for (;;) {
    const p = STRIPPABLE_PREFIXES.find((pre) => keys.length > 0 && keys.every((k) => k.startsWith(pre)));
    if (!p) break;
    stripped += p;
    keys = keys.map((k) => k.slice(p.length));
  }
  if (stripped === '') return { stateDict: sd, stripped };
  const out: StateDict = new Map();
  for (const [k, v] of sd) out.set(k.slice(stripped.length), v);
  return { stateDict: out, stripped };
}

/** timm keys have a `stem`, `stages.i.blocks.j` and `head.fc`; the official repository's have none. */
export function detectConvention(keys: Iterable<string>): KeyConvention {
  for (const k of keys) {
    if (/^stem\.|^stages\.\d+\.(blocks|downsample)\.|^head\.(fc|norm)\./.test(k)) return 'timm';
  }
  return 'official';
}

const TIMM_TO_OFFICIAL: Array<[RegExp, string]> = [
  [/^stem\.(\d+)\./, 'downsample_layers.0.$1.'],
  [/^stages\.(\d+)\.downsample\.(\d+)\./, 'downsample_layers.$1.$2.'],
  [/^stages\.(\d+)\.blocks\.(\d+)\.conv_dw\./, 'stages.$1.$2.dwconv.'],
  [/^stages\.(\d+)\.blocks\.(\d+)\.mlp\.fc1\./, 'stages.$1.$2.pwconv1.'],
  [/^stages\.(\d+)\.blocks\.(\d+)\.mlp\.fc2\./, 'stages.$1.$2.pwconv2.'],
  [/^stages\.(\d+)\.blocks\.(\d+)\./, 'stages.$1.$2.'],
  [/^head\.norm\./, 'norm.'],
  [/^head\.fc\./, 'head.'],
];

/** Renames timm's ConvNeXt keys to the official ones (unknown keys pass through unchanged). */
export function timmToOfficialKey(key: string): string {
  for (const [re, to] of TIMM_TO_OFFICIAL) if (re.test(key)) return key.replace(re, to);
  return key;
}

// ---------------------------------------------------------------------------------------------------
// state_dict / load_state_dict

/** The model's parameters in PyTorch's layouts under the official names, like `model.state_dict()`. */
export function stateDict(model: Module): StateDict {
  const sd: StateDict = new Map();
  for (const [name, { variable, layout }] of parameterLayouts(model)) {
    const data = variable.dataSync() as Float32Array;
    sd.set(name, layout === 'plain'
      ? { shape: [...variable.shape], data: Float32Array.from(data) }
      : permute(data, variable.shape, TO_TORCH[layout]));
  }
  return sd;
}

/**
 * Loads a PyTorch state dict (official or timm keys, auto-detected; wrapper prefixes stripped) into
 * `model`, like `model.load_state_dict(sd)`. Nothing is assigned unless the whole load succeeds, and
 * every problem is reported together in one WeightsError.
 */
export function loadStateDict(
  model: Module,
  input: StateDict | Record<string, HostTensor>,
  opts: LoadOptions & { source?: string } = {},
): LoadResult {
  const strict = opts.strict ?? true;
  const headPrefix = opts.headPrefix ?? 'head.';
  const raw: StateDict = input instanceof Map ? input : new Map(Object.entries(input));
  const { stateDict: unprefixed, stripped } = stripPrefixes(raw);
  const convention = detectConvention(unprefixed.keys());
  const params = parameterLayouts(model);
  const sd: StateDict = new Map();
  for (const [k, v] of unprefixed) {
    // BatchNorm's step counter is bookkeeping with no effect on the forward pass; Swin's relative position
    // index and attention mask (saved by older checkpoints) are fixed by the window size and rebuilt here.
    if (/\.(num_batches_tracked|relative_position_index|attn_mask)$/.test(k)) continue;
    // Models named as timm names them (ViT, Swin: `head.fc`) take timm's keys as they are.
    sd.set(convention === 'timm' && !params.has(k) ? timmToOfficialKey(k) : k, v);
  }
  const isHead = (k: string) => opts.ignoreHead === true && k.startsWith(headPrefix);

  const missingKeys: string[] = [];
  const mismatched: ShapeMismatch[] = [];
  const assignments: Array<[string, tf.Variable, Float32Array]> = [];
  for (const [name, { variable, layout }] of params) {
    if (isHead(name)) continue;
    const t = sd.get(name);
    if (!t) {
      missingKeys.push(name);
      continue;
    }
    const expected = torchShape(variable.shape, layout);
    const data = fromTorch(t, layout, expected);
    if (data) assignments.push([name, variable, data]);
    else mismatched.push({ key: name, expected, found: t.shape });
  }
  const unexpectedKeys = [...sd.keys()].filter((k) => !params.has(k) && !isHead(k));

  const headWeight = mismatched.find((m) => m.key === `${headPrefix}weight` || m.key === `${headPrefix}fc.weight`);
  const classCount = headWeight && headWeight.expected.length === 2 && headWeight.found.length === 2 &&
    headWeight.expected[1] === headWeight.found[1]
    ? { file: headWeight.found[0], model: headWeight.expected[0] }
    : undefined;
  if (mismatched.length > 0 || (strict && (missingKeys.length > 0 || unexpectedKeys.length > 0))) {
    throw new WeightsError(missingKeys, unexpectedKeys, mismatched, classCount, opts.source);
  }
  tf.tidy(() => {
    for (const [, variable, data] of assignments) variable.assign(tf.tensor(data, variable.shape, 'float32'));
  });
  return {
    convention, strippedPrefix: stripped, loadedKeys: assignments.map(([name]) => name), missingKeys, unexpectedKeys,
  };
}

// ---------------------------------------------------------------------------------------------------
// Files

/** Reads a safetensors file as a state dict (all floating and integer dtypes become float32). */
export function readStateDict(file: string): { stateDict: StateDict; metadata: Record<string, string> } {
  if (/\.(pth|pt|bin|ckpt)$/i.test(file)) {
    throw new SafetensorsError(`${file} looks like a PyTorch pickle checkpoint, which cannot be read here; ` +
      'convert it first: python data-scripts/convert_pth.py IN.pth OUT.safetensors');
  }
  const { tensors, metadata } = readSafetensors(file);
  const sd: StateDict = new Map();
  for (const [name, t] of tensors) sd.set(name, { shape: t.shape, data: toFloat32(t as RawTensor) });
  return { stateDict: sd, metadata };
}

/** Writes a state dict as safetensors (F32), atomically. */
export function writeStateDict(file: string, sd: StateDict, metadata: Record<string, string> = {}): void {
  writeSafetensors(file, sd, { format: 'pt', ...metadata });
}

/** Saves the model's weights as safetensors in PyTorch's layouts under the official names. */
export function saveWeights(model: Module, file: string, metadata: Record<string, string> = {}): void {
  writeStateDict(file, stateDict(model), metadata);
}

/** Reads a safetensors file (official or timm keys) into `model`; see `loadStateDict`. */
export function loadWeights(model: Module, file: string, opts: LoadOptions = {}): LoadResult {
  return loadStateDict(model, readStateDict(file).stateDict, { ...opts, source: file });
}
