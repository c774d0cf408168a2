/**
 * The lines `npm run report` prints while it runs: each notebook's expected total time when it starts,
 * the time elapsed beside every finished cell, and a "still running" line when a cell has been silent for
 * a while, so a long run is never a silent wait. Pure formatting plus a small state machine; the bar on a
 * terminal (scripts/report.ts) uses the same words.
 */
import type { Mode } from './mode';
import type { RunEvent } from './runner';
import { elapsedText, expectedText, formatDuration } from './timings';

interface Running {
  mode: Mode;
  expectedS?: number;
  /** Milliseconds (of `now`) when the notebook started. */
  startedAt: number;
  /** Milliseconds of the last line printed for it. */
  lastLineAt: number;
  cell: number;
  cells: number;
}

export interface ProgressLines {
  /** The lines an event prints (none for some events). */
  onEvent(e: RunEvent): string[];
  /** "still running" lines for notebooks silent for `heartbeatS` seconds or more; call it every few seconds. */
  tick(): string[];
}

/** The words beside a cell of a running notebook: "cell 4/12 · 2:10 min elapsed of ~14:30 min expected". */
export function cellProgressText(cell: number, cells: number, elapsedS: number, expectedS: number | undefined, m: Mode): string {
  return `cell ${cell}/${cells} · ${elapsedText(elapsedS, expectedS, m)}`;
}

/** The progress lines of a report run; `now` (ms) is injectable for tests. */
export function progressLines(o: { heartbeatS?: number; now?: () => number } = {}): ProgressLines {
  const now = o.now ?? Date.now;
  const heartbeatMs = (o.heartbeatS ?? 60) * 1000;
  const running = new Map<string, Running>();
  return {
    onEvent(e) {
      const t = now();
      switch (e.type) {
        case 'notebook-start':
          running.set(e.name, { mode: e.mode, expectedS: e.expectedS, startedAt: t, lastLineAt: t, cell: 0, cells: 0 });
          return [`[${e.index + 1}/${e.total}] ${e.name}: starting the kernel; ${expectedText(e.expectedS, e.mode)}`];
        case 'kernel-ready': {
          const r = running.get(e.name);
          if (r) Object.assign(r, { cells: e.cells, lastLineAt: t });
          return [];
        }
        case 'cell-done': {
          const r = running.get(e.name);
          if (!r) return [`  ${e.name}: cell ${e.cell}/${e.cells} done in ${e.seconds.toFixed(1)} s`];
          Object.assign(r, { cell: e.cell, cells: e.cells, lastLineAt: t });
          return [`  ${e.name}: cell ${e.cell}/${e.cells} done in ${e.seconds.toFixed(1)} s · ${elapsedText(e.elapsedS, r.expectedS, r.mode)}`];
        }
        case 'notebook-done': {
          running.delete(e.result.name);
          return [];
        }
      }
    },
    tick() {
      const t = now();
      const out: string[] = [];
      for (const [name, r] of running) {
        if (t - r.lastLineAt < heartbeatMs) continue;
        r.lastLineAt = t;
        const what = r.cells === 0 ? 'starting the kernel' : `cell ${Math.min(r.cell + 1, r.cells)}/${r.cells} still running`;
        out.push(`  ${name}: ${what} · ${elapsedText((t - r.startedAt) / 1000, r.expectedS, r.mode)}`);
      }
      return out;
    },
  };
}

/** The line before the first notebook: how many, in which mode, and how long they are expected to take. */
export function runStartLine(names: string[], m: Mode, totalS: number | undefined): string {
  const expected = totalS === undefined ? `no measured total for ${m} mode` : `expected ~${formatDuration(totalS)} in all`;
  return `Executing ${names.length} notebook${names.length === 1 ? '' : 's'} in ${m} mode (${expected})`;
}
