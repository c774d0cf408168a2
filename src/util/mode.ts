/**
 * How much work a notebook or an experiment does (the notebooks read it from `CONVNEXT_MODE`):
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
