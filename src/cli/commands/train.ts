/**
 * `convnext train --config FILE [--out DIR] [--resume] [flags]`: trains a config (JSON or YAML) into a run
 * folder. Flags override config values; `--set a.b=value` reaches any key. Ctrl-C or SIGTERM (a scheduler,
 * `timeout`) saves the last checkpoint after the current update (a second signal exits at once) and prints
 * the command that continues the run; `--resume` continues from it. A resumed run must have the config it
 * started with, unless `--allow-config-change` (recorded in the run folder).
 */
import type { Command } from 'commander';

import { action } from '../errors';
import type { TrainConfig } from '../../train/config';

// The training library (and TensorFlow with it) is required where it is used, so that `convnext --help`
// and `convnext train --help` load none of it.
const configLib = () => require('../../train/config') as typeof import('../../train/config');

interface TrainFlags {
  config: string;
  out?: string;
  resume?: boolean;
  allowConfigChange?: boolean;
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

/** The value flags that override config keys, as they are spelled on the command line. */
const OVERRIDE_FLAGS = [
  ['epochs', '--epochs'], ['batchSize', '--batch-size'], ['microBatch', '--micro-batch'], ['lr', '--lr'],
  ['seed', '--seed'], ['model', '--model'], ['perClass', '--per-class'],
] as const;

/** Applies the named flags and `--set` pairs to a config, and checks the result (unknown keys, ranges). */
export function applyTrainFlags(config: TrainConfig, f: Omit<TrainFlags, 'config' | 'progress'>): TrainConfig {
  const { checkConfig, parseValue, setPath } = configLib();
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
  return c === config ? c : checkConfig(c, 'config with the command-line overrides');
}

/** A word as a POSIX shell reads it back: bare when safe, else in single quotes. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The command that continues this run: the same config and overrides, into the same folder, with --resume. */
export function resumeCommand(f: TrainFlags, runDir: string): string {
  const args = ['convnext', 'train', '--config', f.config, '--out', runDir, '--resume'];
  for (const [key, flag] of OVERRIDE_FLAGS) if (f[key] !== undefined) args.push(flag, f[key]!);
  for (const pair of f.set ?? []) args.push('--set', pair);
  if (!f.progress) args.push('--no-progress');
  return args.map(shellQuote).join(' ');
}

/** Exit status of a run stopped by a signal, as a shell reports it: 128 + the signal's number. */
const SIGNAL_EXIT: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };

export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description('train a model from a config file into a run folder (resumable)')
    .requiredOption('-c, --config <file>', 'training config (.yaml / .json), e.g. configs/cifar10-quick.yaml')
    .option('-o, --out <dir>', 'run folder (default: the config\'s out, else runs/<name>)')
    .option('--resume', 'continue the run folder from its last checkpoint')
    .option('--allow-config-change', 'with --resume: continue although the config differs from the run\'s (recorded in the run)')
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
      const { runFromConfig } = require('../../train/run-config') as typeof import('../../train/run-config');
      const config = applyTrainFlags(configLib().loadConfigFile(f.config), f);
      const ctl = new AbortController();
      let stoppedBy: keyof typeof SIGNAL_EXIT | undefined;
      const onSignal = (sig: keyof typeof SIGNAL_EXIT): void => {
        if (ctl.signal.aborted) process.exit(SIGNAL_EXIT[sig]);
        stoppedBy = sig;
        console.error(`\n${sig === 'SIGINT' ? 'interrupt' : 'terminated'}: saving the last checkpoint after this update ` +
          `(${sig === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again to quit now)`);
        ctl.abort();
      };
      const onSigint = (): void => onSignal('SIGINT');
      const onSigterm = (): void => onSignal('SIGTERM');
      process.on('SIGINT', onSigint);
      process.on('SIGTERM', onSigterm);
      try {
        const res = await runFromConfig(config, {
          out: f.out, resume: f.resume, allowConfigChange: f.allowConfigChange, progress: f.progress, signal: ctl.signal,
        });
        if (res.interrupted) {
          console.log(`interrupted; continue with: ${resumeCommand(f, res.runDir!)}`);
          process.exitCode = SIGNAL_EXIT[stoppedBy ?? 'SIGINT'];
          return;
        }
        const e = res.evaluation;
        if (e) {
          const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
          console.log(`final: top-1 ${pct(e.top1)}, top-5 ${pct(e.top5)}, loss ${e.loss.toFixed(4)} on ${e.count} images` +
            (res.emaEvaluation ? ` | EMA top-1 ${pct(res.emaEvaluation.top1)}` : ''));
        }
        const r = res.regressionEvaluation;
        if (r) console.log(`final: MAE ${r.mae.toFixed(3)}, RMSE ${r.rmse.toFixed(3)}, R² ${r.r2.toFixed(4)}, loss ${r.loss.toFixed(4)} on ${r.count} images`);
        console.log(`run folder: ${res.runDir}`);
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigterm);
      }
    }));
}

/** The `convnext` CLI's registration hook (src/cli/commands/index.ts). */
export const register = registerTrainCommand;
