/**
 * Every model this library builds, in one place and complete on import: each family lists its entries in
 * its own file under models/ (as timm's `@register_model` functions), and this module collects them all.
 * One naming scheme, timm's: lowercase snake_case, family first.
 */
import { didYouMean } from '../util/suggest';
import type { Classifier, ModelEntry, ModelOptions } from './model';
import { CIFAR_MODELS } from './models/cifar';
import { CONVNEXT_MODELS } from './models/convnext';
import { RESNET_MODELS, ROADMAP_MODELS } from './models/roadmap';
import { STUDY_MODELS } from './models/study';
import { SWIN_MODELS } from './models/swin';
import { VIT_MODELS } from './models/vit';

const NAME = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

const entries = new Map<string, ModelEntry>();
for (const entry of [...CONVNEXT_MODELS, ...CIFAR_MODELS, ...RESNET_MODELS, ...ROADMAP_MODELS, ...STUDY_MODELS, ...VIT_MODELS, ...SWIN_MODELS]) {
  if (!NAME.test(entry.name)) throw new Error(`model name "${entry.name}" is not lowercase snake_case`);
  if (entries.has(entry.name)) throw new Error(`model ${entry.name} is listed twice`);
  entries.set(entry.name, entry);
}

export function listModels(): string[] {
  return [...entries.keys()];
}

/** The entry of `name`, or an error suggesting the closest known names. */
export function getModelEntry(name: string): ModelEntry {
  const e = entries.get(name);
  if (!e) {
    throw new Error(`unknown model "${name}"${didYouMean(name, entries.keys())}; ` +
      `listModels() or \`convnext info --list\` shows all ${entries.size}`);
  }
  return e;
}

export function createModel(name: string, opts: ModelOptions = {}): Classifier {
  return getModelEntry(name).create(opts);
}
