/**
 * Output to the notebook. `tslab` is required lazily: inside the kernel tslab hands notebooks its own
 * instance (the one wired to Jupyter), while plain Node (tests, scripts) never needs it.
 */
import type * as Tslab from 'tslab';

function kernelDisplay(): typeof Tslab.display {
  return (require('tslab') as typeof Tslab).display;
}

/** Displays HTML as the output of the running cell; fails clearly outside a tslab kernel. */
export function show(html: string): void {
  try {
    kernelDisplay().html(html);
  } catch (err) {
    throw new Error(`notebook output needs a running tslab kernel (${(err as Error).message})`);
  }
}

/** Displays Markdown as the output of the running cell (JupyterLab and nbconvert's HTML both render it). */
export function showMarkdown(text: string): void {
  try {
    kernelDisplay().markdown(text);
  } catch (err) {
    throw new Error(`notebook output needs a running tslab kernel (${(err as Error).message})`);
  }
}
