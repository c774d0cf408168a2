/**
 * Parameter groups as the official ConvNeXt `optim_factory.get_parameter_groups` builds them: no weight
 * decay on 1-D parameters (biases, norm weights, layer-scale gammas) and names ending in `.bias`, and, for
 * fine-tuning, a learning-rate scale per "layer" (layer-wise LR decay).
 */
import { tf } from '../backend';
import type { Module } from '../nn/module';

export interface ParamGroup {
  /** Trainable parameters under their PyTorch-style names. */
  params: Array<[string, tf.Variable]>;
  weightDecay: number;
  /** Multiplies the scheduled learning rate (layer-wise LR decay); 1 without it. */
  lrScale: number;
  /** Label for logs, e.g. `layer_3_decay`. */
  name: string;
}

export interface ParamGroupOptions {
  weightDecay: number;
  /** Layer-wise LR decay factor; 1 (default) disables it. */
  layerDecay?: number;
  /** Extra parameter names that get no weight decay (timm's `no_weight_decay()`). */
  skipList?: string[];
  /** Maps a parameter name to its layer id; default `convnextLayerId` for the model's stage depths. */
  layerId?: (name: string) => number;
  /** Number of layers the ids range over (the head gets numLayers + 1). */
  numLayers?: number;
}

/** timm / official rule: 1-D tensors and biases are not decayed (gamma is 1-D, so layer scale is covered). */
export function isNoDecay(name: string, v: tf.Variable, skipList: readonly string[] = []): boolean {
  return v.rank <= 1 || name.endsWith('.bias') || name.endsWith('.gamma') || skipList.includes(name);
}

/**
 * Number of layer ids for a ConvNeXt with these stage depths: stem + stage 0 (id 0, 1), stage 1 (2), stage
 * 2 in groups of three blocks, stage 3 (last id). Depths [3, 3, 27, 3] give 12, the official value.
 */
export function convnextNumLayers(depths: readonly number[]): number {
  if (depths.length !== 4) throw new Error(`layer-wise LR decay expects a 4-stage ConvNeXt, got ${depths.length} stages`);
  return 3 + Math.ceil(depths[2] / 3);
}

/**
 * The official `get_num_layer_for_convnext`, generalised from 27 to any stage-3 depth: downsample 0 → 0,
 * stage 0 → 1, stage 1 and downsample 1 → 2, downsample 2 → 3, stage 2 block j → 3 + j // 3, stage 3 and
 * downsample 3 → numLayers, everything else (final norm, head) → numLayers + 1.
 */
export function convnextLayerId(name: string, numLayers = 12): number {
  const parts = name.split('.');
  if (parts[0] === 'downsample_layers') {
    const stage = Number(parts[1]);
    if (stage === 0) return 0;
    if (stage === 1 || stage === 2) return stage + 1;
    return numLayers;
  }
  if (parts[0] === 'stages') {
    const stage = Number(parts[1]);
    const block = Number(parts[2]);
    if (stage === 0 || stage === 1) return stage + 1;
    if (stage === 2) return 3 + Math.floor(block / 3);
    return numLayers;
  }
  return numLayers + 1;
}

/** LR scale of each layer id: decay ** (numLayers + 1 - id), so the head keeps the full rate. */
export function layerScales(layerDecay: number, numLayers: number): number[] {
  return Array.from({ length: numLayers + 2 }, (_, i) => layerDecay ** (numLayers + 1 - i));
}

/** Stage depths of a ConvNeXt-like model, read from its parameter names (`stages.i.j.`). */
function stageDepths(names: string[]): number[] {
  const depths: number[] = [];
  for (const n of names) {
    const m = /^stages\.(\d+)\.(\d+)\./.exec(n);
    if (m) depths[Number(m[1])] = Math.max(depths[Number(m[1])] ?? 0, Number(m[2]) + 1);
  }
  return depths;
}

/** Groups a model's trainable parameters (frozen ones and buffers are left out, as in the official code). */
export function buildParamGroups(model: Module, opts: ParamGroupOptions): ParamGroup[] {
  const named = model.namedParameters().filter(([, v]) => v.trainable);
  const layerDecay = opts.layerDecay ?? 1;
  let layerOf: ((name: string) => number) | undefined;
  let scales: number[] | undefined;
  if (layerDecay !== 1) {
    const numLayers = opts.numLayers ?? convnextNumLayers(stageDepths(named.map(([n]) => n)));
    layerOf = opts.layerId ?? ((n) => convnextLayerId(n, numLayers));
    scales = layerScales(layerDecay, numLayers);
  }
  const groups = new Map<string, ParamGroup>();
  for (const [name, v] of named) {
    const noDecay = isNoDecay(name, v, opts.skipList);
    let key = noDecay ? 'no_decay' : 'decay';
    let lrScale = 1;
    if (layerOf && scales) {
      const id = layerOf(name);
      if (!(id >= 0 && id < scales.length)) {
        throw new Error(`layer id ${id} of ${name} is outside 0..${scales.length - 1} (layer-wise LR decay)`);
      }
      key = `layer_${id}_${key}`;
      lrScale = scales[id];
    }
    let g = groups.get(key);
    if (!g) {
      g = { name: key, params: [], weightDecay: noDecay ? 0 : opts.weightDecay, lrScale };
      groups.set(key, g);
    }
    g.params.push([name, v]);
  }
  return [...groups.values()];
}
