/**
 * How much work a notebook does, from `CONVNEXT_MODE`:
 * - smoke: tiny data and models, seconds per notebook (the test suite and CI run every notebook so);
 * - quick: the report's default, real data at a size this CPU finishes in minutes;
 * - full: the paper's settings, meant for a GPU.
 */
export const MODES = ['smoke', 'quick', 'full'] as const;
export type Mode = (typeof MODES)[number];

export const DEFAULT_MODE: Mode = 'quick';

/** Reads a mode name; unset or empty means the default, anything else unknown is an error. */
export function parseMode(value: string | undefined): Mode {
  const v = (value ?? '').trim();
  if (v === '') return DEFAULT_MODE;
  if (!(MODES as readonly string[]).includes(v)) {
    throw new Error(`CONVNEXT_MODE="${value}" is not one of ${MODES.join(', ')} (unset means ${DEFAULT_MODE})`);
  }
  return v as Mode;
}

/** The mode of this process, fixed when the module loads (a bad value fails the first cell). */
export const mode: Mode = parseMode(process.env.CONVNEXT_MODE);

/** Picks the value for a mode: `byMode({ smoke: 1, quick: 10, full: 300 })`. */
export function byMode<T>(values: Record<Mode, T>, m: Mode = mode): T {
  return values[m];
}

/** The words every table caption and chart title carries, e.g. "mode: quick". */
export function modeLabel(m: Mode = mode): string {
  return `mode: ${m}`;
}
