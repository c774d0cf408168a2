/** The reproduction study's rows (Table 3) on each architecture: `study_<arch>_<preset>`. */
import type { ConvNeXtConfig } from '../convnext';
import type { ModelEntry } from '../model';
import { STUDY_EXTENSION_NAMES, STUDY_PRESET_NAMES, createStudyModel, studyPresetLabel } from '../study';
import { CONVNEXT_VARIANTS } from './convnext';

/**
 * Architectures the study rows are registered for: ConvNeXt-T (the study's), atto (the family's
 * smallest) and `mini`, sized for the quick CPU ablation (notebook 04: 64 px, about 0.6M params).
 */
export const STUDY_ARCHS: Record<string, Pick<ConvNeXtConfig, 'depths' | 'dims'>> = {
  mini: { depths: [1, 1, 2, 1], dims: [24, 48, 96, 192] },
  atto: CONVNEXT_VARIANTS.atto,
  tiny: CONVNEXT_VARIANTS.tiny,
};

const STUDY_EXTENSION_NAMES_SET = Object.fromEntries(STUDY_EXTENSION_NAMES.map((n) => [n, true]));

export const STUDY_MODELS: ModelEntry[] = Object.entries(STUDY_ARCHS).flatMap(([variant, arch]) =>
  [...STUDY_PRESET_NAMES, ...STUDY_EXTENSION_NAMES].map((preset): ModelEntry => ({
    name: `study_${variant}_${preset}`,
    description: `ConvNeXt-${variant} ${studyPresetLabel(preset)} (reproduction study, ${preset in STUDY_EXTENSION_NAMES_SET ? 'an extension against its canonical form' : 'Table 3'})`,
    defaultSize: 224,
    create: (opts) => createStudyModel(preset, { ...arch, ...opts }),
  })));
