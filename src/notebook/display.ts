/**
 * Output to the notebook. `tslab` is required lazily: inside the kernel tslab hands notebooks its own
 * instance (the one wired to Jupyter), while plain Node (tests, scripts) never needs it.
 */
import type * as Tslab from 'tslab';

/** Displays HTML as the output of the running cell; fails clearly outside a tslab kernel. */
export function show(html: string): void {
  const tslab = require('tslab') as typeof Tslab;
  try {
    tslab.display.html(html);
  } catch (err) {
    throw new Error(`notebook output needs a running tslab kernel (${(err as Error).message})`);
  }
}
