/**
 * Prose generated from a run's numbers, so that the sentences of a notebook never contradict its tables:
 * `md` renders a Markdown template as the cell's output, and the formatters write numbers the way the
 * tables do.
 */
import { showMarkdown } from './display';
import { Mode, mode as currentMode } from './mode';

/** A number with fixed decimals and thousands separators ("1,234.5"); "—" for a missing value. */
export function fmt(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A signed difference with a true minus sign: "+3.1", "−2.9", "0.0". */
export function signed(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  const s = fmt(Math.abs(x), digits);
  if (Number(s.replace(/,/g, '')) === 0) return s;
  return `${x > 0 ? '+' : '−'}${s}`;
}

/** A list in words: "a", "a and b", "a, b and c"; `none` when empty. */
export function listWords(items: string[], none = '—'): string {
  if (items.length === 0) return none;
  if (items.length === 1) return items[0];
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** The Markdown of a template literal, values inserted as they are (format numbers with `fmt`). */
export function mdText(strings: TemplateStringsArray, ...values: unknown[]): string {
  return strings.reduce((out, s, i) => out + s + (i < values.length ? String(values[i]) : ''), '');
}

/** Renders a Markdown template literal as the cell's output: md`Top-1 is ${fmt(top1)}%.` */
export function md(strings: TemplateStringsArray, ...values: unknown[]): void {
  showMarkdown(mdText(strings, ...values));
}

/** Renders Markdown text (e.g. from a helper that writes a paragraph from a run's numbers). */
export function markdown(text: string): void {
  showMarkdown(text);
}

export interface RunningOptions {
  /** What each mode does in this notebook (default: the words every notebook shares). */
  modes?: Partial<Record<Mode, string>>;
  /** Further paragraphs of the block (where runs are cached …). */
  notes?: string[];
  mode?: Mode;
}

const DEFAULT_MODE_WORDS: Record<Mode, string> = {
  smoke: 'seconds, what the tests run',
  quick: 'default',
  full: 'paper scale',
};

/** The "Running this notebook" block, one text for every notebook; pure, so tests can check it. */
export function runningThisNotebookText(name: string, o: RunningOptions = {}): string {
  const words = { ...DEFAULT_MODE_WORDS, ...o.modes };
  const prefix = name.slice(0, 2);
  const m = o.mode ?? currentMode;
  const lines = [
    '**Running this notebook.** Kernel *TypeScript (convnext-ts)*: `npm run lab` opens it in JupyterLab;',
    `\`npm run report -- --only ${prefix}\` executes it headless into \`reports/${name}.html\`.`,
    'The kernel runs at the repository root, so the library is imported as `./src/...` (not `../src/...`).',
    `\`CONVNEXT_MODE\` = \`smoke\` (${words.smoke}) | \`quick\` (${words.quick}) | \`full\` (${words.full}) sets how much work it does;`,
    `this run: **\`${m}\`**. After editing \`src/\`, restart the kernel: it loads the library once.`,
  ];
  const quote = (text: string) => text.split('\n').map((l) => (l ? `> ${l}` : '>')).join('\n');
  return [lines.join('\n'), ...(o.notes ?? [])].map(quote).join('\n>\n');
}

/** Shows the "Running this notebook" block (see `runningThisNotebookText`). */
export function runningThisNotebook(name: string, o: RunningOptions = {}): void {
  showMarkdown(runningThisNotebookText(name, o));
}
