/** Short text summaries of a roadmap model's layout: what changes between steps, at a glance. */
import { BatchNorm2d } from '../../nn/batch-norm';
import { ConvNeXt } from '../convnext';
import { ModernResNet, ModernResNetConfig } from './modern-resnet';
import { ResidualBlock } from './residual-block';
import { configDiff } from './steps';

function stemLine(m: ModernResNet): string {
  const c = m.conv1;
  const norm = m.bn1 instanceof BatchNorm2d ? 'BN' : 'LN';
  const conv = `conv1 ${c.kernelSize}x${c.kernelSize}/${c.stride} ${c.inChannels}→${c.outChannels} · ${norm}`;
  if (!m.maxpool) return `stem: ${conv} (patchify)`;
  const act = m.config.act === 'relu' ? 'ReLU' : 'GELU';
  return `stem: ${conv} · ${act} · maxpool 3x3/2`;
}

function resnetSummary(m: ModernResNet, size: number): string[] {
  const c = m.config;
  const stemStride = m.conv1.stride * (m.maxpool ? 2 : 1);
  const spatial = c.depths.map((_, i) => size / stemStride / 2 ** i);
  const inner = m.layers[Math.min(2, m.layers.length - 1)];
  const stageIdx = m.layers.indexOf(inner) + 1;
  const plain = inner.layers[inner.layers.length - 1] as ResidualBlock;
  const first = inner.layers[0] as ResidualBlock;
  const lines = [
    stemLine(m),
    `stages: ${c.depths.join(',')} blocks · widths ${c.dims.join(',')} · ${spatial.join(',')} px at ${size}`,
    `block (layer${stageIdx}.${inner.layers.length - 1}):`,
    ...plain.describe().map((l) => `  ${l}`),
  ];
  if (first !== plain) {
    lines.push(`first block of stages 2+ (layer${stageIdx}.0): stride 2 in its ${first.options.layout === 'dw-first' ? 'depthwise conv' : 'spatial conv'}, ` +
      `${first.describe()[first.describe().length - 1]}`);
  }
  lines.push(`head: global average pool → fc ${m.fc.inFeatures}→${m.fc.outFeatures}`);
  return lines;
}

function convnextSummary(m: ConvNeXt, size: number): string[] {
  const c = m.config;
  const p = c.stemPatchSize;
  const block = m.stages[Math.min(2, m.stages.length - 1)].layers[0] as unknown as {
    dim: number; pwconv1: { outFeatures: number }; gamma?: unknown;
  };
  const k = c.kernelSize;
  return [
    `stem: conv ${p}x${p}/${p} ${c.inChans}→${c.dims[0]} · LN (patchify)`,
    `downsampling between stages: LN · conv 2x2/2`,
    `stages: ${c.depths.join(',')} blocks · widths ${c.dims.join(',')} · ${c.dims.map((_, i) => size / p / 2 ** i).join(',')} px at ${size}`,
    `block (stages.2.0):`,
    `  dwconv dw ${k}x${k} ${block.dim}→${block.dim} · LN`,
    `  pwconv1 1x1 ${block.dim}→${block.pwconv1.outFeatures} · GELU`,
    `  pwconv2 1x1 ${block.pwconv1.outFeatures}→${block.dim}`,
    ...(block.gamma ? ['  layer scale γ'] : []),
    `  + identity`,
    `head: global average pool → LN → head ${c.dims[c.dims.length - 1]}→${c.numClasses}`,
  ];
}

/** Stem, stage layout, one block's layers and the head, one line each. */
export function describeRoadmapModel(model: ModernResNet | ConvNeXt, size = 224): string[] {
  return model instanceof ModernResNet ? resnetSummary(model, size) : convnextSummary(model, size);
}

function formatValue(v: unknown): string {
  if (Array.isArray(v)) return v.join(',');
  if (typeof v === 'number' && !Number.isInteger(v)) return String(+v.toPrecision(4));
  return String(v);
}

/** The options a step changes, one `option: old → new` string each. */
export function changeLines(parent: ModernResNetConfig, config: ModernResNetConfig): string[] {
  return Object.entries(configDiff(parent, config)).map(([k, [a, b]]) => `${k}: ${formatValue(a)} → ${formatValue(b)}`);
}
