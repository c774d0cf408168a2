/**
 * How long each notebook takes to execute, per mode: the measured figures `npm run report` prints beside
 * its progress (expected total, time elapsed) and README's "How long the report takes" table repeats.
 * Keep this table the one place these figures live; re-measure with the command of each entry.
 */
import type { Mode } from './mode';

export interface TimingSource {
  /** When the figures were measured (YYYY-MM-DD). */
  date: string;
  /** The machine, in words. */
  machine: string;
  /** The command that measured them. */
  command: string;
  /** Anything a reader should know (how busy the machine was, whether training runs were cached …). */
  note?: string;
}

export interface ModeTimings {
  /** Seconds per notebook (by the first two characters of its name); null: never measured. */
  seconds: Record<string, number | null>;
  /** Where the figures come from; undefined when no figure of the mode was measured. */
  source?: TimingSource;
}

/** Measured wall-clock seconds of each notebook, kernel start and HTML export included. */
export const NOTEBOOK_TIMINGS: Record<Mode, ModeTimings> = {
  smoke: {
    seconds: { '00': 11.2, '01': 21, '02': 19.3, '03': 16.3, '04': 33.1, '05': 33.0, '06': 63 },
    source: {
      date: '2026-12-07',
      machine: '2-core development machine, shared (load average 3–7 from other jobs while measuring)',
      command: 'CONVNEXT_MODE=smoke npx tsx scripts/report.ts --out /tmp/rep-smoke',
      note: 'one notebook at a time (--jobs 1); on an idle machine expect less; 01 re-measured after its Transformer section was added, 06 measured when it was added',
    },
  },
  quick: {
    seconds: { '00': 11, '01': 152, '02': 942, '03': 445, '04': 2616, '05': 18, '06': 2287 },
    source: {
      date: '2026-12-07',
      machine: '2-core development machine, idle',
      command: 'npm run report',
      note: '00 and 05: the figures reported in issue #18; 01 re-measured after its Transformer section was added (load average ' +
        '4.5–5.7); 02, 03, 04 and 06 each measured alone with nothing cached (CONVNEXT_MODE=quick npx tsx scripts/report.ts ' +
        '--only NN), 02–04 after the native depthwise conv and GELU kernels (before: 02 1,061 s, 03 462 s, 04 4,591 s): ' +
        '02 the decisive transitions × 3 seeds, 04 at 96 px for 12 epochs with the extension rows. Notebooks 02–04 and 06 ' +
        'reuse finished runs in runs/',
    },
  },
  full: { seconds: {} },
};

/** The measured seconds of a notebook in a mode, or undefined when it was never measured. */
export function expectedSeconds(name: string, m: Mode, timings: Record<Mode, ModeTimings> = NOTEBOOK_TIMINGS): number | undefined {
  const s = timings[m].seconds[name.slice(0, 2)];
  return s === null || s === undefined ? undefined : s;
}

/** The expected seconds of several notebooks together; undefined when any of them was never measured. */
export function expectedTotalSeconds(names: string[], m: Mode, timings: Record<Mode, ModeTimings> = NOTEBOOK_TIMINGS): number | undefined {
  let total = 0;
  for (const n of names) {
    const s = expectedSeconds(n, m, timings);
    if (s === undefined) return undefined;
    total += s;
  }
  return total;
}

/** A duration as people read it: "42 s", "3:07 min", "1 h 04 min". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')} min`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** "expected ~14:30 min (quick, measured 2026-12-07)" or "no measured time for full mode". */
export function expectedText(seconds: number | undefined, m: Mode, timings: Record<Mode, ModeTimings> = NOTEBOOK_TIMINGS): string {
  if (seconds === undefined) return `no measured time for ${m} mode`;
  const date = timings[m].source?.date;
  return `expected ~${formatDuration(seconds)} (${m}${date ? `, measured ${date}` : ''})`;
}

/**
 * The progress words beside a notebook's cell lines: "2:10 min elapsed of ~14:30 min expected",
 * "16:02 min elapsed, past the ~14:30 min expected", or "2:10 min elapsed (no measured time for full mode)".
 */
export function elapsedText(elapsedS: number, expectedS: number | undefined, m: Mode): string {
  const elapsed = `${formatDuration(elapsedS)} elapsed`;
  if (expectedS === undefined) return `${elapsed} (no measured time for ${m} mode)`;
  if (elapsedS > expectedS * 1.1 + 5) return `${elapsed}, past the ~${formatDuration(expectedS)} expected`;
  return `${elapsed} of ~${formatDuration(expectedS)} expected`;
}

/** README's "How long the report takes" table (Markdown), one row per notebook, one column per mode. */
export function timingsMarkdown(names: string[], timings: Record<Mode, ModeTimings> = NOTEBOOK_TIMINGS): string {
  const modes = Object.keys(timings) as Mode[];
  const cell = (n: string, m: Mode) => {
    const s = expectedSeconds(n, m, timings);
    return s === undefined ? 'not measured' : formatDuration(s);
  };
  const total = (m: Mode) => {
    const s = expectedTotalSeconds(names, m, timings);
    return s === undefined ? 'not measured' : `**${formatDuration(s)}**`;
  };
  return [
    `| notebook | ${modes.join(' | ')} |`,
    `|---|${modes.map(() => '---').join('|')}|`,
    ...names.map((n) => `| \`${n}\` | ${modes.map((m) => cell(n, m)).join(' | ')} |`),
    `| all | ${modes.map(total).join(' | ')} |`,
  ].join('\n');
}
