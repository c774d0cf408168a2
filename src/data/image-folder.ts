/**
 * torchvision's ImageFolder: `root/<class>/<image>`, classes sorted by name so label i is the i-th
 * folder. The ImageNet train/val layout prepared by data-scripts is this layout with wnid folders, and
 * sorted wnids are the standard ImageNet-1K class order.
 */
import * as fs from 'fs';
import * as path from 'path';

import { CorruptImageError, decodeImageFile } from '../image/decode';
import { checkIndex, type LabelledDataset } from './dataset';
import type { Sample } from '../image/sample';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'];

export interface ImageFolderOptions {
  /** File extensions to include, compared case-insensitively (ImageNet uses `.JPEG`). */
  extensions?: string[];
  /**
   * Skip images that fail to decode instead of throwing. A skipped item is replaced by the next readable
   * one (deterministically, so seeded runs stay reproducible) and counted in `corrupt`.
   */
  skipCorrupt?: boolean;
}

/** Lists `root/<class>/*` with the given extensions; throws clear errors on a bad layout. */
export function scanImageFolder(
  root: string,
  extensions: string[] = IMAGE_EXTENSIONS,
): { classes: string[]; paths: string[]; targets: Int32Array } {
  if (!fs.existsSync(root)) throw new Error(`dataset root ${root} does not exist`);
  if (!fs.statSync(root).isDirectory()) throw new Error(`dataset root ${root} is not a directory`);
  const exts = new Set(extensions.map((e) => e.toLowerCase()));
  const classes = fs
    .readdirSync(root, { withFileTypes: true })
    .filter((d) => (d.isDirectory() || d.isSymbolicLink()) && !d.name.startsWith('.'))
    .map((d) => d.name)
    .filter((name) => fs.statSync(path.join(root, name)).isDirectory())
    .sort();
  if (classes.length === 0) throw new Error(`dataset root ${root} has no class folders (expected root/<class>/<image>)`);
  const paths: string[] = [];
  const labels: number[] = [];
  classes.forEach((cls, label) => {
    const dir = path.join(root, cls);
    const files = fs
      .readdirSync(dir)
      .filter((f) => !f.startsWith('.') && exts.has(path.extname(f).toLowerCase()))
      .sort();
    if (files.length === 0) {
      throw new Error(`class folder ${dir} has no images (extensions ${[...exts].join(', ')})`);
    }
    for (const f of files) {
      paths.push(path.join(dir, f));
      labels.push(label);
    }
  });
  return { classes, paths, targets: Int32Array.from(labels) };
}

export class ImageFolder implements LabelledDataset {
  readonly classes: string[];
  readonly paths: string[];
  readonly targets: Int32Array;
  /** Files found unreadable so far (only with skipCorrupt). */
  readonly corrupt = new Set<string>();
  private readonly skipCorrupt: boolean;

  constructor(
    readonly root: string,
    opts: ImageFolderOptions = {},
  ) {
    const scan = scanImageFolder(root, opts.extensions);
    this.classes = scan.classes;
    this.paths = scan.paths;
    this.targets = scan.targets;
    this.skipCorrupt = opts.skipCorrupt ?? false;
  }

  get length(): number {
    return this.paths.length;
  }

  async get(index: number): Promise<Sample> {
    checkIndex(this, index);
    for (let k = 0; k < this.length; k++) {
      const i = (index + k) % this.length;
      const p = this.paths[i];
      if (this.corrupt.has(p)) continue;
      try {
        return { ...(await decodeImageFile(p)), label: this.targets[i], path: p };
      } catch (err) {
        if (!(this.skipCorrupt && err instanceof CorruptImageError)) throw err;
        this.corrupt.add(p);
      }
    }
    throw new Error(`every image under ${this.root} failed to decode`);
  }
}

/** ImageNet-1K in the layout data-scripts/prepare-imagenet.ts produces: `root/{train,val}/<wnid>/*.JPEG`. */
export function imageNet(root: string, split: 'train' | 'val', opts: ImageFolderOptions = {}): ImageFolder {
  const ds = new ImageFolder(path.join(root, split), opts);
  const bad = ds.classes.filter((c) => !/^n\d{8}$/.test(c));
  if (bad.length > 0) {
    throw new Error(
      `${path.join(root, split)} should hold wnid folders (n01440764 …) but has ${bad.slice(0, 3).join(', ')}; ` +
        'run data-scripts/prepare-imagenet.ts to arrange it',
    );
  }
  return ds;
}
