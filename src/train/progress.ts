/**
 * A progress bar for long loops: cli-progress on a terminal; elsewhere (nohup logs, notebooks) one plain
 * line every `everySeconds`, so logs stay readable.
 */
import { SingleBar } from 'cli-progress';

export interface ProgressOptions {
  label: string;
  total: number;
  enabled?: boolean;
  /** Where plain lines go when not on a terminal. */
  log?: (line: string) => void;
  everySeconds?: number;
}

export class Progress {
  private bar?: SingleBar;
  private lastLine = 0;
  private readonly started = Date.now();

  constructor(private readonly o: ProgressOptions) {
    if (o.enabled === false) return;
    if (process.stderr.isTTY) {
      this.bar = new SingleBar({
        format: `${o.label} {bar} {value}/{total} | {status} | eta {eta_formatted}`,
        barsize: 24,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
      });
      this.bar.start(o.total, 0, { status: '' });
    }
  }

  update(done: number, status: Record<string, string | number>): void {
    if (this.o.enabled === false) return;
    const text = Object.entries(status).map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v) : v}`).join(' ');
    if (this.bar) {
      this.bar.update(done, { status: text });
      return;
    }
    const now = Date.now();
    if (now - this.lastLine >= (this.o.everySeconds ?? 30) * 1000 || done === this.o.total) {
      this.lastLine = now;
      const secs = ((now - this.started) / 1000).toFixed(0);
      (this.o.log ?? console.log)(`${this.o.label} ${done}/${this.o.total} ${text} (${secs}s)`);
    }
  }

  stop(): void {
    this.bar?.stop();
  }
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-2 || a >= 1e5) return v.toExponential(2);
  return a >= 100 ? v.toFixed(0) : v.toFixed(3);
}
