/**
 * In-memory decoded copy of a small image dataset (CIFAR-10's 60k 32x32 JPEGs, flowers5), built once and
 * stored under data/.cache in a flat binary file so later runs load it in seconds instead of decoding
 * every file again.
 *
 * File format (little endian):
 *   8 bytes  magic "CNXCACH1"
 *   u32      header length L
 *   L bytes  JSON header { fingerprint, classes, heights[], widths[], labels[], paths[], skipped[] }
 *   pixels   every image's Uint8 HWC RGB bytes, back to back, in index order
 * The fingerprint hashes the source files' relative paths, sizes and modification times; a cache whose
 * fingerprint no longer matches is rebuilt.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { SingleBar, Presets } from 'cli-progress';

import { CorruptImageError, decodeImageFile } from '../image/decode';
import { checkIndex, type LabelledDataset } from './dataset';
import type { Sample } from '../image/sample';
import { writeFileAtomic } from '../util/fs';

const MAGIC = 'CNXCACH1';
/** Buffers beyond this are not worth holding in memory (and exceed Node's Buffer limit soon after). */
const MAX_BYTES = 2 ** 31 - 1;

/** The repository's ignored data/.cache folder. */
export const DEFAULT_CACHE_DIR = path.resolve(__dirname, '..', '..', 'data', '.cache');

/** A decoded dataset held in one buffer; samples are views into it (transforms must not write to them). */
export class InMemoryDataset implements LabelledDataset {
  private readonly offsets: Float64Array;

  constructor(
    readonly classes: string[],
    readonly targets: Float64Array,
    readonly heights: Int32Array,
    readonly widths: Int32Array,
    readonly pixels: Uint8Array,
    readonly paths: string[] = [],
    /** Files left out because they could not be decoded (with skipCorrupt). */
    readonly skipped: string[] = [],
  ) {
    this.offsets = new Float64Array(targets.length + 1);
    for (let i = 0; i < targets.length; i++) this.offsets[i + 1] = this.offsets[i] + heights[i] * widths[i] * 3;
    if (this.offsets[targets.length] !== pixels.length) {
      throw new Error(`cache holds ${pixels.length} pixel bytes, its header describes ${this.offsets[targets.length]}`);
    }
  }

  get length(): number {
    return this.targets.length;
  }

  async get(index: number): Promise<Sample> {
    return this.getSync(index);
  }

  getSync(index: number): Sample {
    checkIndex(this, index);
    return {
      image: this.pixels.subarray(this.offsets[index], this.offsets[index + 1]),
      height: this.heights[index],
      width: this.widths[index],
      channels: 3,
      label: this.targets[index],
      path: this.paths[index],
    };
  }
}

/** What a dataset must offer to be cached: labels known up front and one file per item. */
export interface FileDataset extends LabelledDataset {
  readonly paths: string[];
}

export interface CacheOptions {
  /** Folder of the cache files. Default data/.cache of the repository. */
  cacheDir?: string;
  /** Cache file name stem, e.g. 'cifar10-train'. */
  name: string;
  /** Leave out unreadable images (counted in `skipped`) instead of failing. */
  skipCorrupt?: boolean;
  /** Show a cli-progress bar while decoding. Default true. */
  progress?: boolean;
  /** Decodes in flight at once. Default 32. */
  concurrency?: number;
}

/** Hash of the source files' identity, so edits to the folder invalidate the cache. */
export function fingerprint(ds: FileDataset): string {
  const h = createHash('sha1');
  const root = commonRoot(ds.paths);
  h.update(JSON.stringify(ds.classes));
  ds.paths.forEach((p, i) => {
    const st = fs.statSync(p);
    h.update(`${path.relative(root, p)}\0${ds.targets[i]}\0${st.size}\0${Math.floor(st.mtimeMs)}\n`);
  });
  return h.digest('hex');
}

function commonRoot(paths: string[]): string {
  if (paths.length === 0) return '';
  let root = path.dirname(paths[0]);
  for (const p of paths) while (!p.startsWith(root + path.sep) && root !== path.dirname(root)) root = path.dirname(root);
  return root;
}

export function readCache(file: string): { fingerprint: string; dataset: InMemoryDataset } {
  const buf = fs.readFileSync(file);
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC) throw new Error(`${file} is not a dataset cache file`);
  const headerLen = buf.readUInt32LE(8);
  const header = JSON.parse(buf.toString('utf8', 12, 12 + headerLen)) as {
    fingerprint: string;
    classes: string[];
    heights: number[];
    widths: number[];
    labels: number[];
    paths: string[];
    skipped: string[];
  };
  const pixels = new Uint8Array(buf.buffer, buf.byteOffset + 12 + headerLen, buf.length - 12 - headerLen);
  const dataset = new InMemoryDataset(
    header.classes,
    Float64Array.from(header.labels),
    Int32Array.from(header.heights),
    Int32Array.from(header.widths),
    pixels,
    header.paths,
    header.skipped,
  );
  return { fingerprint: header.fingerprint, dataset };
}

/** Writes the cache atomically (temp file + rename), so an interrupted build never leaves a bad cache. */
export function writeCache(file: string, fp: string, ds: InMemoryDataset): void {
  const header = Buffer.from(
    JSON.stringify({
      fingerprint: fp,
      classes: ds.classes,
      heights: Array.from(ds.heights),
      widths: Array.from(ds.widths),
      labels: Array.from(ds.targets),
      paths: ds.paths,
      skipped: ds.skipped,
    }),
    'utf8',
  );
  const pre = Buffer.alloc(12);
  pre.write(MAGIC, 0, 'latin1');
  pre.writeUInt32LE(header.length, 8);
  writeFileAtomic(file, [pre, header, ds.pixels]);
}

/** Decodes every image of `ds` into one InMemoryDataset (with a progress bar). */
export async function decodeAll(ds: FileDataset, opts: Omit<CacheOptions, 'cacheDir'>): Promise<InMemoryDataset> {
  const n = ds.length;
  const images: (Uint8Array | null)[] = new Array(n).fill(null);
  const heights = new Int32Array(n);
  const widths = new Int32Array(n);
  const skipped: string[] = [];
  const bar = opts.progress === false ? null : new SingleBar({ format: `decoding ${opts.name} [{bar}] {value}/{total} {eta}s left`, etaBuffer: 200 }, Presets.shades_classic);
  bar?.start(n, 0);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      try {
        const img = await decodeImageFile(ds.paths[i]);
        images[i] = img.image;
        heights[i] = img.height;
        widths[i] = img.width;
      } catch (err) {
        if (!(opts.skipCorrupt && err instanceof CorruptImageError)) throw err;
        skipped.push(ds.paths[i]);
      }
      bar?.increment();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 32, n) }, worker));
  } finally {
    bar?.stop();
  }
  const keep = [...images.keys()].filter((i) => images[i] !== null);
  let total = 0;
  for (const i of keep) total += images[i]!.length;
  if (total > MAX_BYTES) {
    throw new Error(`${opts.name} decodes to ${(total / 2 ** 30).toFixed(1)} GiB: too large to cache, use it streaming`);
  }
  const pixels = new Uint8Array(total);
  let off = 0;
  for (const i of keep) {
    pixels.set(images[i]!, off);
    off += images[i]!.length;
  }
  return new InMemoryDataset(
    ds.classes,
    Float64Array.from(keep, (i) => ds.targets[i]),
    Int32Array.from(keep, (i) => heights[i]),
    Int32Array.from(keep, (i) => widths[i]),
    pixels,
    keep.map((i) => ds.paths[i]),
    skipped,
  );
}

/**
 * Returns `ds` decoded in memory, from `<cacheDir>/<name>.bin` when it is up to date, else decoding it
 * (progress bar) and writing the cache for next time.
 */
export async function cachedDataset(ds: FileDataset, opts: CacheOptions): Promise<InMemoryDataset> {
  const file = path.join(opts.cacheDir ?? DEFAULT_CACHE_DIR, `${opts.name}.bin`);
  const fp = fingerprint(ds);
  if (fs.existsSync(file)) {
    try {
      const cached = readCache(file);
      if (cached.fingerprint === fp) return cached.dataset;
    } catch {
      // An unreadable cache is rebuilt below.
    }
  }
  const decoded = await decodeAll(ds, opts);
  writeCache(file, fp, decoded);
  return decoded;
}
