/**
 * Deterministic synthetic stand-ins for the real datasets, written as an ImageFolder of PNGs. Smoke runs
 * (CONVNEXT_MODE=smoke) use them where the real data cannot be had (no ../shared copy, no network), so
 * every notebook and test still exercises the full decode → cache → loader → model path.
 */
import * as fs from 'fs';
import * as path from 'path';

import { encodeImage } from '../image/decode';
import { withFolderLock } from '../util/folder-lock';
import { Rng } from '../util/rng';

export interface SyntheticFolderOptions {
  classes: string[];
  perClass: number;
  size: number;
  seed: number;
}

/**
 * Writes `root/<class>/NNNN.png` unless already there. Each class has its own colour and stripe
 * direction, plus per-image noise, so a model can learn the classes. Processes writing the same folder
 * together take turns (two notebooks in the report may both need it).
 */
export async function writeSyntheticFolder(root: string, opts: SyntheticFolderOptions): Promise<string> {
  const done = path.join(root, '.complete');
  if (fs.existsSync(done)) return root;
  return withFolderLock(root, async () => {
    if (!fs.existsSync(done)) {
      await writeImages(root, opts);
      fs.writeFileSync(done, '');
    }
    return root;
  });
}

async function writeImages(root: string, opts: SyntheticFolderOptions): Promise<void> {
  const rng = new Rng(opts.seed);
  const { size, classes } = opts;
  for (const [c, name] of classes.entries()) {
    const dir = path.join(root, name);
    fs.mkdirSync(dir, { recursive: true });
    const hue = (c / classes.length) * 2 * Math.PI;
    const base = [0, 2, 4].map((shift) => 128 + 90 * Math.cos(hue + (shift * Math.PI) / 3));
    const horizontal = c % 2 === 0;
    for (let i = 0; i < opts.perClass; i++) {
      const image = new Uint8Array(size * size * 3);
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const stripe = ((horizontal ? y : x) >> 2) % 2 === 0 ? 25 : -25;
          for (let ch = 0; ch < 3; ch++) {
            const v = base[ch] + stripe + 30 * (rng.random() - 0.5);
            image[(y * size + x) * 3 + ch] = Math.max(0, Math.min(255, Math.round(v)));
          }
        }
      }
      const png = await encodeImage({ image, height: size, width: size, channels: 3 }, 'png');
      fs.writeFileSync(path.join(dir, `${String(i).padStart(4, '0')}.png`), png);
    }
  }
}
