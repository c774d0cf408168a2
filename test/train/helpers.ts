/** Shared by the tests under test/train/: tiny PNG image folders, a tiny config, the CLI run in-process. */
import { Command } from 'commander';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { registerEvalCommand } from '../../src/cli/commands/eval';
import { registerTrainCommand } from '../../src/cli/commands/train';
import { encodeImage } from '../../src/image/decode';
import { SyntheticDataset } from '../fixtures/train/tiny';

export const tmp = (name: string): string => fs.mkdtempSync(path.join(os.tmpdir(), `cnx-${name}-`));

/** Writes a synthetic dataset as PNG files: root/<split>/<class>/<i>.png. */
export async function writeFolder(root: string, split: string, n: number, seed: number): Promise<void> {
  const ds = new SyntheticDataset(n, seed);
  for (let i = 0; i < n; i++) {
    const s = await ds.get(i);
    const dir = path.join(root, split, ds.classes[s.label]);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${String(i).padStart(3, '0')}.png`), await encodeImage(s, 'png'));
  }
}

/** Image folders (36 train / 12 val, 3 classes) and a tiny YAML config over them; returns the config file. */
export async function tinySetup(root: string, recipe = '{ epochs: 3, batchSize: 12, lr: 0.01, warmupEpochs: 0, modelEma: false, evalEma: false }'): Promise<string> {
  await writeFolder(root, 'train', 36, 0);
  await writeFolder(root, 'val', 12, 5);
  const file = path.join(root, 'tiny.yaml');
  fs.writeFileSync(file, [
    'name: tiny',
    'model:',
    '  arch: { depths: [1, 1], dims: [8, 16], stemPatchSize: 2, kernelSize: 3 }',
    'data:',
    `  train: ${path.join(root, 'train')}`,
    `  val: ${path.join(root, 'val')}`,
    'augment: { inputSize: 16, cropPadding: 2, randAugment: "", reprob: 0, mixup: 0, cutmix: 0, smoothing: 0.1 }',
    `recipe: ${recipe}`,
  ].join('\n'));
  return file;
}

/** Runs the CLI in-process; returns stdout lines, stderr and the exit code. `during` runs while it trains. */
export async function cli(args: string[]): Promise<{ out: string; err: string; code: number }> {
  const program = new Command().exitOverride();
  registerTrainCommand(program);
  registerEvalCommand(program);
  const lines: string[] = [];
  const errs: string[] = [];
  const log = console.log;
  const error = console.error;
  const write = process.stderr.write.bind(process.stderr);
  console.log = (...a: unknown[]) => lines.push(a.join(' '));
  console.error = (...a: unknown[]) => errs.push(`${a.join(' ')}\n`);
  process.stderr.write = ((chunk: string) => errs.push(String(chunk)) > 0) as typeof process.stderr.write;
  process.exitCode = 0;
  try {
    await program.parseAsync(['node', 'convnext', ...args]);
  } finally {
    console.log = log;
    console.error = error;
    process.stderr.write = write;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { out: lines.join('\n'), err: errs.join(''), code };
}

/** Splits a printed shell command into its words (single quotes as `shellQuote` writes them). */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  const re = /'((?:[^']|'\\'')*)'|(\S+)/g;
  let cur = '';
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = re.exec(command)) !== null) {
    if (m.index > last && /\s/.test(command.slice(last, m.index)) && cur) {
      words.push(cur);
      cur = '';
    }
    cur += m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2];
    last = re.lastIndex;
  }
  if (cur) words.push(cur);
  return words;
}
