import { parseMode, type Mode } from '../util/mode';

export { DEFAULT_MODE, MODES, parseMode, type Mode } from '../util/mode';

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
