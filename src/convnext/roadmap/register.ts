/** Registry entries: the ResNet baselines and every roadmap step (`roadmap/<step>`). */
import { ModelOptions, registerModel } from '../registry';
import { ModernResNetConfig, buildModernResNet } from './modern-resnet';
import { RESNET18, RESNET200, RESNET50, ROADMAP } from './steps';

function withOptions(c: ModernResNetConfig, o: ModelOptions): ModernResNetConfig {
  return {
    ...c,
    numClasses: o.numClasses ?? c.numClasses, inChans: o.inChans ?? c.inChans,
    dropPathRate: o.dropPathRate ?? c.dropPathRate, headInitScale: o.headInitScale ?? c.headInitScale,
    layerScaleInitValue: o.layerScaleInitValue ?? c.layerScaleInitValue,
  };
}

const BASELINES: Array<[string, string, ModernResNetConfig]> = [
  ['resnet18', 'ResNet-18 (torchvision layout and names): basic blocks 2,2,2,2', RESNET18],
  ['resnet50', 'ResNet-50 (torchvision layout and names): bottlenecks 3,4,6,3', RESNET50],
  ['resnet200', 'ResNet-200 (timm layout): bottlenecks 3,24,36,3, start of the paper\'s ResNet-200 regime', RESNET200],
];

for (const [name, description, config] of BASELINES) {
  registerModel({ name, description, defaultSize: 224, create: (o) => buildModernResNet(withOptions(config, o)) });
}

for (const step of ROADMAP) {
  registerModel({
    name: `roadmap/${step.id}`,
    description: `roadmap ${step.id.slice(0, 2)}: ${step.title}: ${step.change} (paper: ${step.paper.gflops} GFLOPs, ${step.paper.top1}% top-1)`,
    defaultSize: 224,
    create: (o) => buildModernResNet(withOptions(step.config, o)),
  });
}
