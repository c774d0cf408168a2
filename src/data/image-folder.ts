/**
 * torchvision's ImageFolder: `root/<class>/<image>`, classes sorted by name so label i is the i-th
 * folder. The ImageNet train/val layout prepared by data-scripts is this layout with wnid folders, and
 * sorted wnids are the standard ImageNet-1K class order.
 */
import * as fs from 'fs';
import * as path from 'path';

import { CorruptImageError, DECODABLE_EXTENSIONS, decodeImageFile } from '../image/decode';
import { checkIndex, type LabelledDataset } from './dataset';
import type { Sample } from '../image/sample';

/** Every format the decoder reads (torchvision's ImageFolder takes every format PIL reads). */
export const IMAGE_EXTENSIONS: readonly string[] = DECODABLE_EXTENSIONS;

export interface ImageFolderOptions {
  /** File extensions to include, compared case-insensitively (ImageNet uses `.JPEG`). */
  extensions?: string[];
  /**
   * Skip images that fail to decode instead of throwing. A skipped item is replaced by the next readable
   * one (deterministically, so seeded runs stay reproducible) and counted in `corrupt`.
   */
  skipCorrupt?: boolean;
  /**
   * Told, once per folder, about files left out because their extension is not an image format the
   * decoder reads (hidden files are left out silently). Default: a line on stderr.
   */
  onSkip?: (message: string) => void;
}

/**
 * Lists `root/<class>/**` with the given extensions as torchvision's make_dataset does: class folders
 * sorted, each walked recursively (symbolic links followed, each real folder once), folders in sorted path
 * order and files sorted within each. Files with other extensions come back in `skipped`; hidden files
 * and folders (a leading dot) are ignored. Throws clear errors on a bad layout.
 */
export function scanImageFolder(
  root: string,
  extensions: readonly string[] = IMAGE_EXTENSIONS,
): { classes: string[]; paths: string[]; targets: Int32Array; skipped: string[] } {
  if (!fs.existsSync(root)) throw new Error(`dataset root ${root} does not exist`);
  if (!fs.statSync(root).isDirectory()) throw new Error(`dataset root ${root} is not a directory`);
  const exts = extensions.map((e) => e.toLowerCase());
  const isImage = (f: string): boolean => {
    const lower = f.toLowerCase();
    return exts.some((e) => lower.endsWith(e));
  };
  const classes = fs
    .readdirSync(root, { withFileTypes: true })
    .filter((d) => (d.isDirectory() || d.isSymbolicLink()) && !d.name.startsWith('.'))
    .map((d) => d.name)
    .filter((name) => fs.statSync(path.join(root, name)).isDirectory())
    .sort();
  if (classes.length === 0) throw new Error(`dataset root ${root} has no class folders (expected root/<class>/<image>)`);
  const paths: string[] = [];
  const labels: number[] = [];
  const skipped: string[] = [];
  classes.forEach((cls, label) => {
    const dir = path.join(root, cls);
    let found = 0;
    for (const folder of walk(dir)) {
      for (const f of folder.files) {
        const file = path.join(folder.dir, f);
        if (!isImage(f)) {
          skipped.push(file);
          continue;
        }
        paths.push(file);
        labels.push(label);
        found++;
      }
    }
    if (found === 0) {
      throw new Error(`class folder ${dir} has no images (extensions ${exts.join(', ')})`);
    }
  });
  return { classes, paths, targets: Int32Array.from(labels), skipped };
}

/** Folders under `top` (itself included) in sorted path order, each with its sorted non-hidden files. */
function walk(top: string): Array<{ dir: string; files: string[] }> {
  const out: Array<{ dir: string; files: string[] }> = [];
  const seen = new Set<string>();
  const visit = (dir: string): void => {
    const real = fs.realpathSync(dir);
    if (seen.has(real)) return; // a symbolic link loop
    seen.add(real);
    const files: string[] = [];
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      if (d.name.startsWith('.')) continue;
      const p = path.join(dir, d.name);
      let isDir = d.isDirectory();
      let isFile = d.isFile();
      if (d.isSymbolicLink()) {
        const st = fs.statSync(p, { throwIfNoEntry: false });
        isDir = !!st?.isDirectory();
        isFile = !!st?.isFile();
      }
      if (isDir) visit(p);
      else if (isFile) files.push(d.name);
    }
    out.push({ dir, files: files.sort() });
  };
  visit(top);
  // Python's sorted(os.walk(...)): by folder path, compared as strings.
  return out.sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
}

/** One line about the files a scan left out: how many, by extension, a few examples. */
export function describeSkipped(root: string, skipped: string[]): string {
  const byExt = new Map<string, number>();
  for (const f of skipped) {
    const ext = path.extname(f).toLowerCase() || '(no extension)';
    byExt.set(ext, (byExt.get(ext) ?? 0) + 1);
  }
  const counts = [...byExt].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([e, n]) => `${e}: ${n}`);
  const examples = skipped.slice(0, 3).map((f) => path.relative(root, f)).join(', ');
  return `image folder ${root}: skipped ${skipped.length} file${skipped.length === 1 ? '' : 's'} that ` +
    `${skipped.length === 1 ? 'is' : 'are'} not in an image format the decoder reads (${counts.join(', ')}), e.g. ${examples}`;
}

export class ImageFolder implements LabelledDataset {
  readonly classes: string[];
  readonly paths: string[];
  readonly targets: Int32Array;
  /** Files under the class folders left out: not in an image format the decoder reads. */
  readonly skipped: string[];
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
    this.skipped = scan.skipped;
    if (scan.skipped.length > 0) {
      (opts.onSkip ?? ((m: string) => console.warn(`convnext: warning: ${m}`)))(describeSkipped(root, scan.skipped));
    }
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
