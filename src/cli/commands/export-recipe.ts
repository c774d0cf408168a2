/**
 * `convnext export-recipe --config FILE --engine timm [--gpus N] [--yaml FILE]`: the training config as the
 * command of an existing multi-GPU engine, for runs that outgrow one machine (ImageNet-1K for 300 epochs).
 * Prints `torchrun --nproc_per_node=N train.py ...` for timm's training script; `--yaml` also writes the
 * arguments as a file for `train.py --config`. The checkpoint comes back with data-scripts/convert_pth.py.
 */
import type { Command } from 'commander';

import { action, loadWithoutNativeBackend, positiveInt } from '../errors';

interface ExportRecipeFlags {
  config: string;
  engine: string;
  gpus: number;
  yaml?: string;
}

export function register(program: Command): void {
  program
    .command('export-recipe')
    .description('print the equivalent multi-GPU training command of another engine (timm\'s train.py)')
    .requiredOption('-c, --config <file>', 'training config (.yaml / .json), e.g. configs/imagenet-convnext-tiny.yaml')
    .option('--engine <name>', 'the engine: timm', 'timm')
    .option('--gpus <n>', 'processes (GPUs) per machine for torchrun', positiveInt, 8)
    .option('--yaml <file>', 'also write the arguments as a YAML file for `train.py --config`')
    .action(action((f: ExportRecipeFlags) => {
      if (f.engine !== 'timm') throw new Error(`unknown engine "${f.engine}" (known: timm)`);
      // Loaded here, so that `convnext --help` loads none of it; nothing below computes with tensors.
      const { loadConfigFile, timmCommand, timmRecipe, timmYaml, writeFileAtomic } = loadWithoutNativeBackend(() => {
        const { loadConfigFile } = require('../../train/config') as typeof import('../../train/config');
        const { timmCommand, timmRecipe, timmYaml } = require('../../train/timm-recipe') as typeof import('../../train/timm-recipe');
        const { writeFileAtomic } = require('../../util/fs') as typeof import('../../util/fs');
        return { loadConfigFile, timmCommand, timmRecipe, timmYaml, writeFileAtomic };
      });
      const recipe = timmRecipe(loadConfigFile(f.config), f.gpus);
      if (f.yaml) writeFileAtomic(f.yaml, timmYaml(recipe));
      const lines = [
        `# ${f.config} as timm's train.py on ${f.gpus} GPUs (pytorch-image-models); total batch as the config's.`,
        ...recipe.notes.map((n) => `# not carried over: ${n}`),
        timmCommand(recipe, f.gpus),
        ...(f.yaml ? [`# the same arguments: ${f.yaml} (torchrun --nproc_per_node=${f.gpus} train.py --config ${f.yaml})`] : []),
        '# afterwards: python data-scripts/convert_pth.py output/train/<run>/model_best.pth.tar model.safetensors' +
          ' (--key state_dict_ema for the EMA weights)',
      ];
      console.log(lines.join('\n'));
    }));
}
