/**
 * Every subcommand of `convnext`. A command lives in its own file, `./<name>`, exporting `register(program)`; add it to
 * this list, with the line `convnext --help` shows for it, to make it available.
 *
 * A command's file is required only when that command runs (or shows its own --help): some load TensorFlow
 * when imported, which takes seconds and logs from C++, and `convnext --help` / `--version` should not wait
 * for that. Until then the command is a stub with this list's term and description;
 * test/cli/commands.test.ts checks that they match what the file registers.
 */
import type { Command } from 'commander';

export interface CommandModule {
  register(program: Command): void;
}

export interface CommandSpec {
  /** The command's name. */
  name: string;
  /** The line of `convnext --help`: the name, `[options]` where it has any, its arguments. */
  term: string;
  description: string;
  /** Requires the command's file. */
  load(): CommandModule;
}

/** A command whose file is `./<name>`. */
function command(name: string, term: string, description: string): CommandSpec {
  return { name, term, description, load: () => require(`./${name}`) as CommandModule };
}

export const COMMANDS: CommandSpec[] = [
  command('info', 'info [options]', 'params and MACs of a model, with a per-stage table; --list names every model'),
  command('predict', 'predict [options] <images...>', 'classify images with a model and a .safetensors weights file (official or timm keys)'),
  command('train', 'train [options]', 'train a model from a config file into a run folder (resumable)'),
  command('eval', 'eval [options]', 'evaluate weights on an image folder: top-1/top-5, loss, per-class P/R/F1, confusion matrix'),
  command('export-recipe', 'export-recipe [options]', 'print the equivalent multi-GPU training command of another engine (timm\'s train.py)'),
  command('export', 'export [options]', 'write a model with its weights as an ONNX file (run it with convnext predict --onnx FILE)'),
];
