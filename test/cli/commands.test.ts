/**
 * How `convnext` loads its commands (only the one that runs; the others are stubs listed from
 * src/cli/commands/index.ts, which must match what each command's file registers), its global flags, and
 * the training progress off a terminal (a line every 30 s, not one per batch).
 */
import { strict as assert } from 'assert';
import { Command, Help } from 'commander';

// The native backend first, as in the other tests: `info` would otherwise load the pure-JS one for this process.
import '../../src/backend';
import { COMMANDS } from '../../src/cli/commands';
import { buildProgram, selectedCommand, setTensorFlowLogging } from '../../src/cli/main';
import { ProgressLogger } from '../../src/train/callbacks/progress';
import type { EpochRecord, TrainState } from '../../src/train/callbacks/callback';

describe('convnext CLI: commands and flags', function () {
  this.timeout(120_000);

  it('each command\'s stub (name, help line, description) matches what its file registers', () => {
    for (const spec of COMMANDS) {
      const program = new Command('convnext');
      spec.load().register(program);
      assert.equal(program.commands.length, 1, spec.name);
      const cmd = program.commands[0];
      assert.equal(cmd.name(), spec.name);
      assert.equal(new Help().subcommandTerm(cmd), spec.term, `term of ${spec.name}`);
      assert.equal(cmd.description(), spec.description, `description of ${spec.name}`);
    }
  });

  it('root help lists every command as its file would; the selected command is registered in full', () => {
    const stubs = buildProgram().helpInformation();
    for (const spec of COMMANDS) {
      const full = buildProgram(spec.name);
      assert.equal(full.helpInformation(), stubs, `convnext --help with ${spec.name} loaded`);
      const cmd = full.commands.find((c) => c.name() === spec.name)!;
      assert.ok(cmd.options.length > 0, `${spec.name} has its options`);
    }
  });

  it('selectedCommand: the first word that is not an option; `help NAME`; none for --help', () => {
    const argv = (...a: string[]): string[] => ['node', 'convnext', ...a];
    assert.equal(selectedCommand(argv('--help')), undefined);
    assert.equal(selectedCommand(argv('--verbose', 'train', '--config', 'x.yaml')), 'train');
    assert.equal(selectedCommand(argv('info', '-m', 'convnext_tiny')), 'info');
    assert.equal(selectedCommand(argv('help', 'eval')), 'eval');
    assert.equal(selectedCommand(argv('help')), undefined);
    assert.equal(selectedCommand(argv('--', 'train')), undefined);
  });

  it('TF_CPP_MIN_LOG_LEVEL: 2 by default, a value from the environment kept, 0 with --verbose', () => {
    const saved = process.env.TF_CPP_MIN_LOG_LEVEL;
    try {
      delete process.env.TF_CPP_MIN_LOG_LEVEL;
      setTensorFlowLogging(['node', 'convnext', 'train']);
      assert.equal(process.env.TF_CPP_MIN_LOG_LEVEL, '2');
      process.env.TF_CPP_MIN_LOG_LEVEL = '1';
      setTensorFlowLogging(['node', 'convnext', 'train']);
      assert.equal(process.env.TF_CPP_MIN_LOG_LEVEL, '1');
      setTensorFlowLogging(['node', 'convnext', 'train', '--verbose']);
      assert.equal(process.env.TF_CPP_MIN_LOG_LEVEL, '0');
    } finally {
      if (saved === undefined) delete process.env.TF_CPP_MIN_LOG_LEVEL;
      else process.env.TF_CPP_MIN_LOG_LEVEL = saved;
    }
  });

  describe('training progress off a terminal', () => {
    /** Drives a ProgressLogger through an epoch of `batches` batches, `secondsPerBatch` apart. */
    function epoch(batches: number, secondsPerBatch: number, enabled?: boolean): string[] {
      let now = 0;
      const lines: string[] = [];
      const s = {
        recipe: { epochs: 300 }, accum: 1, updatesPerEpoch: batches, position: { epoch: 4, batchInEpoch: 0 },
        sums: { loss: 0, correct: 0, images: 0, seconds: 0, batches: 0 }, lr: 4e-3, say: (l: string) => lines.push(l),
      } as unknown as TrainState;
      const logger = new ProgressLogger(enabled, { tty: false, now: () => now });
      logger.onEpochBegin(s);
      for (let b = 1; b <= batches; b++) {
        now += secondsPerBatch * 1000;
        s.position.batchInEpoch = b;
        s.sums.loss += 2.3 * 128;
        s.sums.images += 128;
        s.sums.seconds += secondsPerBatch;
        logger.onBatchEnd(s);
      }
      logger.onEpochTrained();
      logger.onEpochEnd(s, { epoch: 4, trainLoss: 2.3, trainTop1: 0.1, trainImagesPerSec: 640, trainMinutes: 1.6 } as EpochRecord);
      return lines;
    }

    it('a CIFAR-10 epoch (390 batches, 0.25 s each): a line every 30 s and the summary, not a line per batch', () => {
      const lines = epoch(390, 0.25);
      assert.equal(lines.length, 3 + 1, lines.join('\n'));
      assert.equal(lines[0], 'epoch 5/300 120/390 (30%): loss 2.3000, lr 4.00e-3, 512 img/s, 30s');
      assert.match(lines[2], /^epoch 5\/300 360\/390 /);
      assert.match(lines[3], /^epoch 5\/300: loss 2\.3000 train 10\.00% \| 640 img\/s, 1\.6 min$/);
    });

    it('an epoch shorter than 30 s prints only its summary; --no-progress leaves the summary', () => {
      assert.deepEqual(epoch(40, 0.5).map((l) => l.split(':')[0]), ['epoch 5/300']);
      assert.deepEqual(epoch(390, 1, false).map((l) => l.split(':')[0]), ['epoch 5/300']);
    });
  });
});
