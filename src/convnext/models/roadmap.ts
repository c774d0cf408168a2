/**
 * The ResNet baselines, every roadmap step at ImageNet scale (`roadmap_<step>`), and every step adapted to
 * 32x32 CIFAR images for the trained replay (`roadmap_cifar_<step>`).
 */
import type { ModelEntry, ModelOptions } from '../model';
import { buildModernResNet, type ModernResNetConfig } from '../roadmap/modern-resnet';
import { RESNET18, RESNET200, RESNET50, ROADMAP, roadmapModelName, smallScale, type SmallScaleOptions } from '../roadmap/steps';

/**
 * The replay's one scale for all steps: a quarter of the widths (ConvNeXt-T's 96..768 → 24..192) and a
 * third of the depths (3,3,9,3 → 1,1,3,1), sized so that all 16 steps train in about 45 minutes on a
 * 2-core CPU (measured in notebook 02).
 */
export const CIFAR_SCALE: Omit<SmallScaleOptions, 'numClasses'> = { widthMultiplier: 1 / 4, depthDivisor: 3 };

function withOptions(c: ModernResNetConfig, o: ModelOptions): ModernResNetConfig {
  return {
    ...c,
    numClasses: o.numClasses ?? c.numClasses, inChans: o.inChans ?? c.inChans,
    dropPathRate: o.dropPathRate ?? c.dropPathRate, headInitScale: o.headInitScale ?? c.headInitScale,
    layerScaleInitValue: o.layerScaleInitValue ?? c.layerScaleInitValue,
  };
}

function entry(name: string, description: string, defaultSize: number, config: ModernResNetConfig): ModelEntry {
  return { name, description, defaultSize, create: (o) => buildModernResNet(withOptions(config, o)) };
}

export const RESNET_MODELS: ModelEntry[] = [
  entry('resnet18', 'ResNet-18 (torchvision layout and names): basic blocks 2,2,2,2', 224, RESNET18),
  entry('resnet50', 'ResNet-50 (torchvision layout and names): bottlenecks 3,4,6,3', 224, RESNET50),
  entry('resnet200', 'ResNet-200 (timm layout): bottlenecks 3,24,36,3, start of the paper\'s ResNet-200 regime', 224, RESNET200),
];

export const ROADMAP_MODELS: ModelEntry[] = ROADMAP.flatMap((step) => {
  const n = step.id.slice(0, 2);
  return [
    entry(roadmapModelName(step),
      `roadmap ${n}: ${step.title}: ${step.change} (paper: ${step.paper.gflops} GFLOPs, ${step.paper.top1}% top-1)`,
      224, step.config),
    entry(roadmapModelName(step, 'cifar'),
      `roadmap ${n} for 32x32 (widths x1/4, depths /3, stem stride halved): ${step.title}`,
      32, smallScale(step.config, { ...CIFAR_SCALE, numClasses: 10 })),
  ];
});
