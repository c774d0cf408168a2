/**
 * `npm run report -- --with-benchmarks`: makes the CIFAR-10 benchmark run README quotes before the
 * notebooks execute, so notebook 03 shows it instead of a shorter stand-in. The commands are the ones
 * README documents (`BENCHMARK_COMMANDS`); a finished run is never retrained.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { evalFilePath, readRun } from '../experiments/cached-run';
import { BENCHMARK_COMMANDS } from '../experiments/recipe-report';
import type { Mode } from './mode';

export const BENCHMARK_RUN_DIR = 'runs/cifar10-quick';

export interface BenchmarkState {
  /** The run folder exists. */
  exists: boolean;
  /** Its training finished (final evaluation written). */
  finished: boolean;
  /** The flip-TTA evaluation file is there. */
  hasTta: boolean;
}

export interface BenchmarkStep {
  what: string;
  /** The command as README writes it. */
  command: string;
  /** Arguments of `npx`. */
  args: string[];
}

/** The state of the benchmark's run folder. */
export function benchmarkState(dir: string = BENCHMARK_RUN_DIR): BenchmarkState {
  const run = readRun(dir);
  return { exists: run !== undefined, finished: run?.finished === true, hasTta: fs.existsSync(evalFilePath(dir, 'cifar10', { flipTta: true })) };
}

/** What has to run before the report for notebook 03 to show the benchmark: training (or resuming it), then the flip-TTA evaluation. */
export function benchmarkPlan(state: BenchmarkState, m: Mode): BenchmarkStep[] {
  if (m === 'smoke') return []; // smoke mode never reads the benchmark run
  const npx = (command: string) => command.replace(/^npx /, '').split(' ');
  const steps: BenchmarkStep[] = [];
  if (!state.finished) {
    const command = state.exists ? `${BENCHMARK_COMMANDS.train} --resume` : BENCHMARK_COMMANDS.train;
    steps.push({ what: state.exists ? 'resume the unfinished CIFAR-10 benchmark run (about 30 min in all)' : 'train the CIFAR-10 benchmark (about 30 min)', command, args: npx(command) });
  }
  if (!state.finished || !state.hasTta) {
    steps.push({ what: 'evaluate it with flip test-time augmentation', command: BENCHMARK_COMMANDS.evalTta, args: npx(BENCHMARK_COMMANDS.evalTta) });
  }
  return steps;
}

/** Runs the plan's commands in turn (output inherited); rejects naming the command that failed. */
export async function runBenchmarks(m: Mode, o: { cwd: string; log?: (line: string) => void }): Promise<BenchmarkStep[]> {
  const log = o.log ?? ((l: string) => console.log(l));
  if (m === 'smoke') {
    log('--with-benchmarks: smoke mode never reads the benchmark run; nothing to do');
    return [];
  }
  const steps = benchmarkPlan(benchmarkState(path.join(o.cwd, BENCHMARK_RUN_DIR)), m);
  if (steps.length === 0) log(`--with-benchmarks: ${BENCHMARK_RUN_DIR} holds the finished benchmark run and its flip-TTA evaluation; nothing to do`);
  for (const s of steps) {
    log(`--with-benchmarks: ${s.what}: ${s.command}`);
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn('npx', s.args, { cwd: o.cwd, stdio: 'inherit' });
      child.on('error', reject);
      child.on('close', resolve);
    });
    if (code !== 0) throw new Error(`\`${s.command}\` failed (exit ${code}); fix it or run the report without --with-benchmarks`);
  }
  return steps;
}
