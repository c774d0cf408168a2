/**
 * Entry point of the `convnext` command line (bin/convnext.js, `npm run convnext -- ...`).
 *
 * Only the command that runs is loaded (see ./commands/index.ts), so `convnext --help`, `--version` and
 * `info` never load the native TensorFlow library. TensorFlow's C++ logging is set before anything loads
 * it: errors only, unless `--verbose`; the start-up lines it prints regardless are silenced (native/stdio.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Command, Help } from 'commander';
import { COMMANDS } from './commands';
import { action } from './errors';
import { withStderrSilenced } from '../native/stdio';

/** The program's words before `--`: what the global flags and the command are looked for in. */
function words(argv: string[]): string[] {
  const args = argv.slice(2);
  const end = args.indexOf('--');
  return end < 0 ? args : args.slice(0, end);
}

/**
 * The command that argv runs or asks help for (`convnext help eval`), undefined for `convnext --help`.
 * The global options take no values, so the command is the first word that is not an option.
 */
export function selectedCommand(argv: string[]): string | undefined {
  const operands = words(argv).filter((w) => !w.startsWith('-'));
  return operands[0] === 'help' ? operands[1] : operands[0];
}

/**
 * TensorFlow's C++ logging (read when its native library loads): `TF_CPP_MIN_LOG_LEVEL` 2, errors only, by
 * default (a value set in the environment is kept); 0, everything, with `--verbose`.
 */
export function setTensorFlowLogging(argv: string[]): void {
  if (words(argv).includes('--verbose')) process.env.TF_CPP_MIN_LOG_LEVEL = '0';
  else process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
}

/** `convnext --version`: this package's version and TensorFlow.js's, both read from package.json files. */
export function versionLine(): string {
  const version = (file: string): string => (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  const own = version(path.join(__dirname, '..', '..', 'package.json'));
  let tfjs = 'not installed';
  try {
    tfjs = version(require.resolve('@tensorflow/tfjs/package.json'));
  } catch {
    // reported as such
  }
  return `convnext-ts ${own} (TensorFlow.js ${tfjs})`;
}

/**
 * The program with every command: `selected` (see selectedCommand) registered from its file, the others as
 * stubs that only list themselves in `convnext --help`. Without `selected` every command is a stub.
 */
export function buildProgram(selected?: string): Command {
  const program = new Command('convnext')
    .description('ConvNeXt (Liu et al., CVPR 2022) on TensorFlow.js: model info, inference, training')
    .version(versionLine(), '-V, --version', 'print the version')
    .option('--verbose', 'keep TensorFlow\'s own C++ logging (start-up lines, oneDNN); by default only its errors')
    .showHelpAfterError('(run with --help for usage)');
  const stubTerms = new Map<Command, string>();
  for (const spec of COMMANDS) {
    if (spec.name === selected) {
      spec.load().register(program);
      continue;
    }
    const stub = program.command(spec.name).description(spec.description)
      .allowUnknownOption().allowExcessArguments(true)
      .action(action(() => {
        throw new Error(`internal: ${spec.name} was not loaded`);
      }));
    stubTerms.set(stub, spec.term);
  }
  program.configureHelp({
    subcommandTerm(this: Help, cmd: Command): string {
      return stubTerms.get(cmd) ?? Help.prototype.subcommandTerm.call(this, cmd);
    },
  });
  return program;
}

/** Commands that run on the native TensorFlow library (the others never load it). */
const NATIVE_COMMANDS = new Set(['train', 'eval', 'predict', 'export']);

export async function main(argv: string[]): Promise<void> {
  setTensorFlowLogging(argv);
  const selected = selectedCommand(argv);
  if (selected && NATIVE_COMMANDS.has(selected) && !words(argv).includes('--verbose')) {
    // TensorFlow logs its start-up lines (absl, oneDNN) from C++ while it loads, before it reads
    // TF_CPP_MIN_LOG_LEVEL: load it now with stderr silenced. --verbose keeps them.
    withStderrSilenced(() => require('../backend'));
  }
  await buildProgram(selected).parseAsync(argv);
}

if (require.main === module) void main(process.argv);
