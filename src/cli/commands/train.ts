/**
 * `convnext train --config FILE [--out DIR] [--resume] [flags]`: trains a config (JSON or YAML) into a run
 * folder. Flags override config values; `--set a.b=value` reaches any key. Ctrl-C saves the last
 * checkpoint after the current update (a second Ctrl-C exits at once); `--resume` continues from it.
 */
import type { Command } from 'commander';

import { action } from '../errors';
import { loadConfigFile, parseValue, setPath, type TrainConfig } from '../../train/config';
import { runFromConfig } from '../../train/run-config';

interface TrainFlags {
  config: string;
  out?: string;
  resume?: boolean;
  epochs?: string;
  batchSize?: string;
  microBatch?: string;
  lr?: string;
  seed?: string;
  model?: string;
  perClass?: string;
  set: string[];
  progress: boolean;
}

/** Applies the named flags and `--set` pairs to a config. */
export function applyTrainFlags(config: TrainConfig, f: Omit<TrainFlags, 'config' | 'progress'>): TrainConfig {
  let c = config;
  const num = (flag: string, v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`--${flag} expects a number, got "${v}"`);
    return n;
  };
  if (f.epochs !== undefined) c = setPath(c, 'recipe.epochs', num('epochs', f.epochs));
  if (f.batchSize !== undefined) c = setPath(c, 'recipe.batchSize', num('batch-size', f.batchSize));
  if (f.microBatch !== undefined) c = setPath(c, 'recipe.microBatch', num('micro-batch', f.microBatch));
  if (f.lr !== undefined) c = setPath(c, 'recipe.lr', num('lr', f.lr));
  if (f.seed !== undefined) c = setPath(c, 'recipe.seed', num('seed', f.seed));
  if (f.perClass !== undefined) c = setPath(c, 'data.perClass', num('per-class', f.perClass));
  if (f.model !== undefined) c = setPath(setPath(c, 'model.arch', null), 'model.name', f.model);
  for (const pair of f.set ?? []) {
    const i = pair.indexOf('=');
    if (i < 1) throw new Error(`--set expects key=value, got "${pair}"`);
    c = setPath(c, pair.slice(0, i), parseValue(pair.slice(i + 1)));
  }
  return c;
}

export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description('train a model from a config file into a run folder (resumable)')
    .requiredOption('-c, --config <file>', 'training config (.yaml / .json), e.g. configs/cifar10-quick.yaml')
    .option('-o, --out <dir>', 'run folder (default: the config\'s out, else runs/<name>)')
    .option('--resume', 'continue the run folder from its last checkpoint')
    .option('--epochs <n>', 'override recipe.epochs')
    .option('--batch-size <n>', 'override recipe.batchSize (images per update)')
    .option('--micro-batch <n>', 'override recipe.microBatch (images per forward pass)')
    .option('--lr <x>', 'override recipe.lr')
    .option('--seed <n>', 'override recipe.seed')
    .option('--model <name>', 'override the model by registry name')
    .option('--per-class <n>', 'keep n images per class (smoke runs)')
    .option('--set <key=value>', 'override any config key, e.g. --set recipe.modelEma=false (repeatable)',
      (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--no-progress', 'no progress bars')
    .action(action(async (f: TrainFlags) => {
      const config = applyTrainFlags(loadConfigFile(f.config), f);
      const ctl = new AbortController();
      const onSigint = (): void => {
        if (ctl.signal.aborted) process.exit(130);
        console.error('\ninterrupt: saving the last checkpoint after this update (Ctrl-C again to quit now)');
        ctl.abort();
      };
      process.on('SIGINT', onSigint);
      try {
        const res = await runFromConfig(config, { out: f.out, resume: f.resume, progress: f.progress, signal: ctl.signal });
        if (res.interrupted) {
          console.log(`interrupted; continue with: convnext train --config ${f.config} --out ${res.runDir} --resume`);
          process.exitCode = 130;
          return;
        }
        const e = res.evaluation;
        if (e) {
          const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
          console.log(`final: top-1 ${pct(e.top1)}, top-5 ${pct(e.top5)}, loss ${e.loss.toFixed(4)} on ${e.count} images` +
            (res.emaEvaluation ? ` | EMA top-1 ${pct(res.emaEvaluation.top1)}` : ''));
        }
        console.log(`run folder: ${res.runDir}`);
      } finally {
        process.off('SIGINT', onSigint);
      }
    }));
}

/** The `convnext` CLI's registration hook (src/cli/commands/index.ts). */
export const register = registerTrainCommand;
