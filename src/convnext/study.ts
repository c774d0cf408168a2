/**
 * The reproduction study's ConvNeXt with add-on modules: dynamic depthwise convs, SE, CBAM, the SE→CBAM
 * hybrid, and a multi-scale feature-fusion (FF) head, each placed per stage by a plain config.
 */
import { tf } from '../backend';
import { FeatureLayer } from './block';
import { ConvNeXt, ConvNeXtConfig } from './convnext';
import { FeatureShape, MacCounter } from '../nn/module';
import { CBAM } from '../nn/cbam';
import { DynamicConv2d, TemperatureSchedule } from '../nn/dynamic-conv';
import { FeatureFusion, FusionMode } from '../nn/feature-fusion';
import { ScaledDynamicConv2d } from '../nn/scaled-conv';
import { SECBAM } from '../nn/se-cbam';
import { SqueezeExcite } from '../nn/squeeze-excite';

export type AttentionKind = 'se' | 'cbam' | 'se_cbam';
/** 'dynamic': Chen et al.'s K-kernel attention; 'scaled': the study's input-conditioned kernel scaling. */
export type DwconvKind = 'dynamic' | 'scaled';

export interface AttentionPlacement {
  kind: AttentionKind;
  /** Stages whose every block gets the module (default: all). */
  stages?: number[];
  /** MLP reduction (16 for SE and CBAM). */
  reduction?: number;
  /**
   * SE only ('se', and the SE of 'se_cbam'): the study's BatchNorm on the recalibrated map (true, the default) or
   * the canonical SE of Hu et al. without it (false).
   */
  batchNorm?: boolean;
}

export interface DwconvPlacement {
  kind: DwconvKind;
  /** Stages whose every block's depthwise conv is replaced (default: all). */
  stages?: number[];
  /** 'dynamic' only: parallel kernels K (4) and the temperature schedule (30 → 1 over 10 epochs). */
  kernels?: number;
  temperature?: TemperatureSchedule;
}

export interface FusionPlacement {
  mode?: FusionMode;
  /** Stage whose resolution the fused map takes (default: the last). */
  targetStage?: number;
}

export interface StudyConfig extends Omit<ConvNeXtConfig, 'blockHooks'> {
  attention?: AttentionPlacement;
  dwconv?: DwconvPlacement;
  /** Present: the head classifies the fused multi-scale map instead of the last stage's map. */
  fusion?: FusionPlacement;
}

function stageSet(stages: number[] | undefined, nStages: number, what: string): Set<number> {
  const s = stages ?? Array.from({ length: nStages }, (_, i) => i);
  for (const i of s) {
    if (!(Number.isInteger(i) && i >= 0 && i < nStages)) {
      throw new Error(`${what}: stage ${i} is not one of 0..${nStages - 1}`);
    }
  }
  return new Set(s);
}

function attentionFactory(p: AttentionPlacement): (dim: number) => FeatureLayer {
  const reduction = p.reduction ?? 16;
  switch (p.kind) {
    case 'se': return (dim) => new SqueezeExcite(dim, { reduction, batchNorm: p.batchNorm });
    case 'cbam': return (dim) => new CBAM(dim, { reduction });
    case 'se_cbam': return (dim) => new SECBAM(dim, { se: { reduction, batchNorm: p.batchNorm }, cbam: { reduction } });
    default: throw new Error(`unknown attention kind '${String(p.kind)}' (se, cbam, se_cbam)`);
  }
}

function dwconvFactory(p: DwconvPlacement): (dim: number, k: number) => FeatureLayer {
  switch (p.kind) {
    case 'dynamic':
      return (dim, k) => new DynamicConv2d(dim, { kernelSize: k, padding: k >> 1, kernels: p.kernels, temperature: p.temperature });
    case 'scaled':
      return (dim, k) => new ScaledDynamicConv2d(dim, dim, { kernelSize: k, padding: k >> 1, groups: dim });
    default: throw new Error(`unknown dwconv kind '${String(p.kind)}' (dynamic, scaled)`);
  }
}

/**
 * ConvNeXt plus the study's modules. Parameter names are the plain model's plus `attn` / replaced
 * `dwconv` inside blocks and `fusion.*`, so plain ConvNeXt weights load by name (strictly when only
 * attention or FF is added; the scaled dwconv keeps `dwconv.weight/bias` too).
 */
export class StudyConvNeXt extends ConvNeXt {
  readonly study: StudyConfig;
  readonly fusion?: FeatureFusion;

  constructor(config: StudyConfig) {
    const n = config.depths.length;
    const att = config.attention;
    const dw = config.dwconv;
    const attStages = att && stageSet(att.stages, n, 'attention');
    const dwStages = dw && stageSet(dw.stages, n, 'dwconv');
    const attention = att && attentionFactory(att);
    const dwconv = dw && dwconvFactory(dw);
    super({
      ...config,
      blockHooks: (stage) => ({
        attention: attStages?.has(stage) ? attention : undefined,
        dwconv: dwStages?.has(stage) ? dwconv : undefined,
      }),
    });
    this.study = config;
    if (config.fusion) {
      // Fused width = last stage width, so the usual norm and head classify the fused map.
      this.fusion = this.registerModule('fusion', new FeatureFusion(config.dims, {
        mode: config.fusion.mode, targetStage: config.fusion.targetStage, width: config.dims[n - 1],
      }));
    }
  }

  /** The fused multi-scale map (FF models) or the last stage's map. */
  forwardMap(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const stages = this.forwardStages(x);
      return this.fusion ? this.fusion.forward(stages) : stages[stages.length - 1];
    });
  }

  override forwardFeatures(x: tf.Tensor4D): tf.Tensor2D {
    if (!this.fusion) return super.forwardFeatures(x);
    return tf.tidy(() => this.norm.forward(tf.mean(this.forwardMap(x), [1, 2]) as tf.Tensor2D));
  }

  /** Training hook: anneals the softmax temperature of every dynamic conv for `epoch` (0-based). */
  onEpochStart(epoch: number): void {
    for (const [, m] of this.namedModules()) if (m instanceof DynamicConv2d) m.onEpochStart(epoch);
  }

  override profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    const out = super.profile(input, counter);
    const fusion = this.fusion;
    if (fusion) {
      const s = this.stemStride;
      counter.within('fusion', () => fusion.profile([input[0] / s, input[1] / s, this.config.dims[0]], counter));
    }
    return out;
  }
}

/** The seven rows of the study's Table 3. */
export const STUDY_PRESETS = {
  convnext: { label: 'ConvNeXt', modules: {} },
  dynamic: { label: '+DynamicConv2d', modules: { dwconv: { kind: 'scaled' } } },
  ff: { label: '+FF', modules: { fusion: {} } },
  cbam: { label: '+CBAM', modules: { attention: { kind: 'cbam' } } },
  se_ff: { label: '+SE&FF', modules: { attention: { kind: 'se' }, fusion: {} } },
  cbam_ff: { label: '+CBAM&FF', modules: { attention: { kind: 'cbam' }, fusion: {} } },
  se_cbam: { label: '+CBAM&SE', modules: { attention: { kind: 'se_cbam' } } },
} satisfies Record<string, { label: string; modules: Pick<StudyConfig, 'attention' | 'dwconv' | 'fusion'> }>;

export type StudyPreset = keyof typeof STUDY_PRESETS;

export const STUDY_PRESET_NAMES = Object.keys(STUDY_PRESETS) as StudyPreset[];

/**
 * The study's extensions set against their canonical forms (notebook 04's extension rows), each one change from a
 * Table 3 row: Chen et al.'s K-kernel dynamic conv against the study's input-scaled one (+DynamicConv2d), FF by
 * channel concatenation against the learned weighted sum (+FF), and SE+FF with the canonical SE (no BatchNorm)
 * against the study's SE with BatchNorm (+SE&FF).
 */
export const STUDY_EXTENSION_PRESETS = {
  dynamic_k4: { label: '+DynamicConv2d (canonical, K=4)', modules: { dwconv: { kind: 'dynamic', kernels: 4 } } },
  ff_concat: { label: '+FF (concat)', modules: { fusion: { mode: 'concat' } } },
  se_plain_ff: { label: '+SE&FF (SE without BN)', modules: { attention: { kind: 'se', batchNorm: false }, fusion: {} } },
} satisfies Record<string, { label: string; modules: Pick<StudyConfig, 'attention' | 'dwconv' | 'fusion'> }>;

export type StudyExtensionPreset = keyof typeof STUDY_EXTENSION_PRESETS;
export const STUDY_EXTENSION_NAMES = Object.keys(STUDY_EXTENSION_PRESETS) as StudyExtensionPreset[];

/** Every preset a study model can be built with: Table 3's rows and the extension rows. */
export type StudyModelPreset = StudyPreset | StudyExtensionPreset;

const ALL_PRESETS: Record<StudyModelPreset, { label: string; modules: Pick<StudyConfig, 'attention' | 'dwconv' | 'fusion'> }> = {
  ...STUDY_PRESETS, ...STUDY_EXTENSION_PRESETS,
};

/** The label of a Table 3 or extension preset. */
export function studyPresetLabel(preset: StudyModelPreset): string {
  return ALL_PRESETS[preset].label;
}

/** A study model: an architecture (depths, dims, …) plus one preset's modules. */
export function createStudyModel(preset: StudyModelPreset, arch: Omit<StudyConfig, 'attention' | 'dwconv' | 'fusion'>): StudyConvNeXt {
  const p = ALL_PRESETS[preset];
  if (!p) throw new Error(`unknown study preset '${preset}'. Known: ${Object.keys(ALL_PRESETS).join(', ')}`);
  return new StudyConvNeXt({ ...arch, ...p.modules });
}
