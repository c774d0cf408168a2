/**
 * Parameter groups as the official ConvNeXt `optim_factory.get_parameter_groups` builds them: no weight
 * decay on 1-D parameters (biases, norm weights, layer-scale gammas) and names ending in `.bias`, and, for
 * fine-tuning, a learning-rate scale per "layer" (layer-wise LR decay).
 *
 * The Transformers follow timm: their `no_weight_decay()` names (ViT: `cls_token`, `pos_embed`; Swin: every
 * `relative_position_bias_table`) join the no-decay group, and their layer ids are
 * - ViT (BEiT / MAE `param_groups_lrd`, `get_layer_id_for_vit`): patch embedding, class token and position
 *   embedding 0, block i → i + 1, everything after the blocks (final norm, head) → depth + 1;
 * - Swin (timm's `group_matcher` through `param_groups_layer_decay`): patch embedding 0, then one id per block
 *   counted over all stages from 1, a stage's patch merging with its first block, the final norm with the last
 *   block (timm's MATCH_PREV_GROUP), the head → total blocks + 1.
 * `buildParamGroups` picks the rule from the model's class.
 */
import { tf } from '../backend';
import { SwinTransformer } from '../convnext/swin';
import { VisionTransformer } from '../convnext/vit';
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
  /** Extra parameter names that get no weight decay, beside the model's own (`layerGrouping(model).noWeightDecay`). */
  skipList?: string[];
  /**
   * Maps a parameter name to its layer id; default by the model's class: `vitLayerId`, `swinLayerId`, else
   * `convnextLayerId` for the model's stage depths.
   */
  layerId?: (name: string) => number;
  /** Number of layers the ids range over (the head gets numLayers + 1); default from the model, as layerId. */
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

/**
 * A ViT parameter's layer id (BEiT / MAE `get_layer_id_for_vit` with numLayers = depth): `cls_token`,
 * `pos_embed`, `dist_token` and `patch_embed.*` → 0, `blocks.i.*` → i + 1, the rest (final norm, head) →
 * numLayers + 1, which keeps the full learning rate.
 */
export function vitLayerId(name: string, numLayers: number): number {
  if (name === 'cls_token' || name === 'pos_embed' || name === 'dist_token' || name.startsWith('patch_embed.')) return 0;
  const m = /^blocks\.(\d+)\./.exec(name);
  if (m) return Number(m[1]) + 1;
  return numLayers + 1;
}

/**
 * A Swin parameter's layer id as timm's `group_matcher` (fine) and `group_with_matcher` number it, for these
 * stage depths (numLayers = their sum): `patch_embed.*` → 0; block j of stage i → 1 + (blocks of the stages
 * before i) + j; `layers.i.downsample.*` → the id of block 0 of stage i (timm matches it as `(i, 0)`); the
 * final `norm.*` → numLayers, with the last block (its ordinal ends in MATCH_PREV_GROUP); the rest (the
 * head) → numLayers + 1.
 */
export function swinLayerId(name: string, depths: readonly number[]): number {
  const numLayers = depths.reduce((a, b) => a + b, 0);
  if (name.startsWith('patch_embed.') || name === 'absolute_pos_embed') return 0;
  const first = (stage: number) => 1 + depths.slice(0, stage).reduce((a, b) => a + b, 0);
  const ds = /^layers\.(\d+)\.downsample\./.exec(name);
  if (ds) return first(Number(ds[1]));
  const blk = /^layers\.(\d+)\.blocks\.(\d+)\./.exec(name);
  if (blk) return first(Number(blk[1])) + Number(blk[2]);
  if (name.startsWith('norm.')) return numLayers;
  return numLayers + 1;
}

/** How a model's parameters are grouped: its layer ids, their count, and its own no-decay names (timm's `no_weight_decay()`). */
export interface LayerGrouping {
  family: 'convnext' | 'vit' | 'swin';
  numLayers: number;
  layerId: (name: string) => number;
  noWeightDecay: string[];
}

/** The grouping rule of a model: ViT and Swin by class, anything else as a ConvNeXt (its `stages.i.j.` names). */
export function layerGrouping(model: Module): LayerGrouping {
  const names = model.namedParameters().map(([n]) => n);
  if (model instanceof VisionTransformer) {
    const numLayers = model.config.depth;
    return { family: 'vit', numLayers, layerId: (n) => vitLayerId(n, numLayers),
      noWeightDecay: names.filter((n) => n === 'cls_token' || n === 'pos_embed' || n === 'dist_token') };
  }
  if (model instanceof SwinTransformer) {
    const depths = model.config.depths;
    return { family: 'swin', numLayers: depths.reduce((a, b) => a + b, 0), layerId: (n) => swinLayerId(n, depths),
      noWeightDecay: names.filter((n) => n.includes('relative_position_bias_table') || n === 'absolute_pos_embed') };
  }
  // A model without ConvNeXt's four stages gets NaN layers, and an error only if layer-wise decay asks for them.
  const depths = stageDepths(names);
  return { family: 'convnext', numLayers: depths.length === 4 ? convnextNumLayers(depths) : NaN,
    layerId: (n) => convnextLayerId(n, convnextNumLayers(depths)), noWeightDecay: [] };
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
  const grouping = layerGrouping(model);
  const skipList = [...grouping.noWeightDecay, ...(opts.skipList ?? [])];
  let layerOf: ((name: string) => number) | undefined;
  let scales: number[] | undefined;
  if (layerDecay !== 1) {
    const numLayers = opts.numLayers ?? (grouping.family === 'convnext' ? convnextNumLayers(stageDepths(named.map(([n]) => n))) : grouping.numLayers);
    const byFamily = { convnext: (n: string) => convnextLayerId(n, numLayers), vit: (n: string) => vitLayerId(n, numLayers), swin: grouping.layerId };
    layerOf = opts.layerId ?? byFamily[grouping.family];
    scales = layerScales(layerDecay, numLayers);
  }
  const groups = new Map<string, ParamGroup>();
  for (const [name, v] of named) {
    const noDecay = isNoDecay(name, v, skipList);
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
