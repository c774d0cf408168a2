/** Entry point of the `convnext` command line (bin/convnext.js, `npm run convnext -- ...`). */
import { Command } from 'commander';
import { COMMANDS } from './commands';

export function buildProgram(): Command {
  const program = new Command('convnext')
    .description('ConvNeXt (Liu et al., CVPR 2022) on TensorFlow.js: model info, inference, training')
    .showHelpAfterError('(run with --help for usage)');
  for (const c of COMMANDS) c.register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}

if (require.main === module) void main(process.argv);
