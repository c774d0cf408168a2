/**
 * Puts datasets into the folder layouts the loaders read, under the repository's ignored data/ folder:
 *   data/cifar10/{train,test}/<class>/NNNN.{jpg,png}
 *   data/flowers5/<class>/*.jpg                        (128x128)
 *   <imagenet>/{train,val}/<wnid>/*.JPEG
 * CIFAR-10 and flowers5 come from the project's offline copies in ../shared/datasets when present, else
 * from their official sources (URLs overridable for mirrors and for the tests' local server). Every step
 * writes to a temporary folder renamed into place at the end, so an interrupted run leaves nothing
 * half-made behind.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
import { Presets, SingleBar } from 'cli-progress';
import sharp from 'sharp';
import { promisify } from 'util';

import { withFolderLock } from '../util/folder-lock';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const DEFAULT_DATA_DIR = path.join(REPO_ROOT, 'data');
export const DEFAULT_SHARED_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'datasets');

export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const FLOWERS_URL = 'https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz';

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
/** tf_flowers folder → flowers5 class name (the shared copy's singular names). */
export const FLOWERS_CLASSES: Record<string, string> = {
  daisy: 'daisy',
  dandelion: 'dandelion',
  roses: 'rose',
  sunflowers: 'sunflower',
  tulips: 'tulip',
};
export const FLOWERS_SIZE = 128;

export interface PrepareOptions {
  /** Where dataset folders go. Default <repo>/data. */
  dataDir?: string;
  /** Folder holding <name>-jpg.tar.gz offline copies. Default <repo>/../shared/datasets. */
  sharedDir?: string;
  /** Download URL (default: the official source, or the CIFAR10_URL / FLOWERS_URL environment variables). */
  url?: string;
  /** Rebuild even if the folder exists. */
  force?: boolean;
  /** Progress bars and messages. Default true. */
  verbose?: boolean;
}

function say(opts: PrepareOptions, msg: string): void {
  if (opts.verbose !== false) console.log(msg);
}

/**
 * Extracts a .tar.gz with the system tar (present on Linux, macOS and Windows 10+). Asynchronous, so the
 * folder lock stays refreshed while a large archive extracts.
 */
export async function extractTarGz(archive: string, dest: string): Promise<void> {
  fs.mkdirSync(dest, { recursive: true });
  try {
    await promisify(execFile)('tar', ['xzf', archive, '-C', dest], { encoding: 'utf8' });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`cannot run tar to extract ${archive}: ${e.message}`);
    throw new Error(`tar failed on ${archive}: ${(e.stderr ?? e.message).trim()}`);
  }
}

/** Downloads `url` to `dest` (following redirects) with a progress bar; atomic via a .part file. */
export async function download(url: string, dest: string, opts: { verbose?: boolean } = {}): Promise<void> {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const part = `${dest}.part`;
  await new Promise<void>((resolve, reject) => {
    const get = (u: string, redirects: number): void => {
      const client = u.startsWith('https:') ? https : http;
      const req = client.get(u, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          if (redirects > 5) return reject(new Error(`too many redirects fetching ${url}`));
          return get(new URL(res.headers.location, u).toString(), redirects + 1);
        }
        if (status !== 200) {
          res.resume();
          return reject(new Error(`download of ${u} failed: HTTP ${status}`));
        }
        const total = Number(res.headers['content-length'] ?? 0);
        const bar =
          opts.verbose === false || !total
            ? null
            : new SingleBar({ format: `${path.basename(dest)} [{bar}] {percentage}% {eta}s left` }, Presets.shades_classic);
        bar?.start(total, 0);
        const out = fs.createWriteStream(part);
        res.on('data', (chunk: Buffer) => bar?.increment(chunk.length));
        res.pipe(out);
        out.on('finish', () => {
          bar?.stop();
          resolve();
        });
        out.on('error', reject);
        res.on('error', reject);
      });
      req.on('error', (err) => reject(new Error(`download of ${u} failed: ${err.message}`)));
    };
    get(url, 0);
  });
  fs.renameSync(part, dest);
}

function isPrepared(dir: string, subdirs: string[]): boolean {
  return subdirs.every((s) => fs.existsSync(path.join(dir, s)) && fs.readdirSync(path.join(dir, s)).length > 0);
}

/** Moves `from` to `to`, replacing what is there. */
function replaceDir(from: string, to: string): void {
  fs.rmSync(to, { recursive: true, force: true });
  fs.renameSync(from, to);
}

function tempSibling(dir: string): string {
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  return fs.mkdtempSync(path.join(path.dirname(dir), `.${path.basename(dir)}-tmp-`));
}

/**
 * Extracts `archive` into a temporary sibling of `target`, lets `make` turn the extracted files into the
 * dataset folder (returning its path), and moves that into place.
 */
async function buildFromArchive(archive: string, target: string, make: (extracted: string) => Promise<string>): Promise<void> {
  const tmp = tempSibling(target);
  try {
    await extractTarGz(archive, tmp);
    replaceDir(await make(tmp), target);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Extracts <sharedDir>/<name>-jpg.tar.gz (whose top folder is <name>/) into <dataDir>/<name>. */
async function fromShared(name: string, opts: PrepareOptions): Promise<boolean> {
  const archive = path.join(opts.sharedDir ?? DEFAULT_SHARED_DIR, `${name}-jpg.tar.gz`);
  if (!fs.existsSync(archive)) return false;
  const target = path.join(opts.dataDir ?? DEFAULT_DATA_DIR, name);
  say(opts, `extracting ${archive} into ${target}`);
  await buildFromArchive(archive, target, async (tmp) => {
    if (!fs.existsSync(path.join(tmp, name))) throw new Error(`${archive} has no top-level ${name}/ folder`);
    return path.join(tmp, name);
  });
  return true;
}

/**
 * Makes <dataDir>/<name> once: from the shared offline copy, else with `fromSource`. Processes preparing
 * the same dataset together take turns; the later ones find it made.
 */
async function prepareOnce(
  name: string,
  subdirs: string[],
  opts: PrepareOptions,
  fromSource: (target: string) => Promise<void>,
): Promise<string> {
  const target = path.join(opts.dataDir ?? DEFAULT_DATA_DIR, name);
  if (!opts.force && isPrepared(target, subdirs)) return target;
  return withFolderLock(target, async () => {
    if (!opts.force && isPrepared(target, subdirs)) return target;
    if (!(await fromShared(name, opts))) await fromSource(target);
    return target;
  });
}

/**
 * Converts the CIFAR-10 binary batches (each record: 1 label byte, then 1024 R, 1024 G, 1024 B bytes of a
 * 32x32 image) into <out>/{train,test}/<class>/NNNN.png, numbered per class in file order.
 */
export async function convertCifarBinary(batchesDir: string, out: string): Promise<void> {
  const metaFile = path.join(batchesDir, 'batches.meta.txt');
  const classes = fs.existsSync(metaFile)
    ? fs.readFileSync(metaFile, 'utf8').split(/\r?\n/).map((s) => s.trim()).filter(Boolean)
    : CIFAR10_CLASSES;
  const splits: [string, string[]][] = [
    ['train', [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`)],
    ['test', ['test_batch.bin']],
  ];
  const REC = 1 + 3072;
  for (const [split, files] of splits) {
    const counters = new Array<number>(classes.length).fill(0);
    for (const c of classes) fs.mkdirSync(path.join(out, split, c), { recursive: true });
    for (const f of files) {
      const file = path.join(batchesDir, f);
      if (!fs.existsSync(file)) throw new Error(`CIFAR-10 batch ${file} is missing`);
      const buf = fs.readFileSync(file);
      if (buf.length % REC !== 0) throw new Error(`${file}: ${buf.length} bytes is not a whole number of 3073-byte records`);
      const hwc = new Uint8Array(3072);
      for (let r = 0; r < buf.length / REC; r++) {
        const o = r * REC;
        const label = buf[o];
        if (label >= classes.length) throw new Error(`${file}: record ${r} has label ${label}`);
        // Planar CHW → interleaved HWC.
        for (let p = 0; p < 1024; p++) {
          hwc[p * 3] = buf[o + 1 + p];
          hwc[p * 3 + 1] = buf[o + 1 + 1024 + p];
          hwc[p * 3 + 2] = buf[o + 1 + 2048 + p];
        }
        const name = `${String(counters[label]++).padStart(4, '0')}.png`;
        await sharp(Buffer.from(hwc), { raw: { width: 32, height: 32, channels: 3 } })
          .png()
          .toFile(path.join(out, split, classes[label], name));
      }
    }
  }
}

/** An official archive, described well enough to fetch it by hand. */
interface ArchiveSource {
  dataset: string;
  officialUrl: string;
  /** Environment variable that overrides the URL (a mirror, or the path of a local copy). */
  envVar: string;
  size: string;
}

const CIFAR10_ARCHIVE: ArchiveSource = { dataset: 'CIFAR-10', officialUrl: CIFAR10_URL, envVar: 'CIFAR10_URL', size: '162 MB' };
const FLOWERS_ARCHIVE: ArchiveSource = { dataset: 'tf_flowers', officialUrl: FLOWERS_URL, envVar: 'FLOWERS_URL', size: '218 MB' };

/**
 * Fetches the archive to `archive` unless an earlier download is there (or `force`); returns `archive`. The
 * source is `opts.url`, else $envVar, else the official URL; a local path or file:// URL is copied. A failure
 * says how to get the archive without this machine's network.
 */
async function fetchArchive(src: ArchiveSource, archive: string, opts: PrepareOptions): Promise<string> {
  if (!opts.force && fs.existsSync(archive)) return archive;
  const url = opts.url ?? process.env[src.envVar] ?? src.officialUrl;
  try {
    if (/^(https?):\/\//.test(url)) {
      say(opts, `downloading ${url}`);
      await download(url, archive, opts);
    } else {
      const file = url.startsWith('file://') ? new URL(url).pathname : url;
      say(opts, `copying ${file}`);
      fs.mkdirSync(path.dirname(archive), { recursive: true });
      fs.copyFileSync(file, `${archive}.part`);
      fs.renameSync(`${archive}.part`, archive);
    }
  } catch (err) {
    throw new Error(`${(err as Error).message}\n` +
      `${src.dataset} needs ${path.basename(src.officialUrl)} (${src.size}) from ${src.officialUrl}. Where this machine ` +
      `cannot download it, fetch it elsewhere and put it at ${archive}, or set ${src.envVar} to its path or a mirror's ` +
      `URL; or put the prepared <name>-jpg.tar.gz in ${opts.sharedDir ?? DEFAULT_SHARED_DIR}.`);
  }
  return archive;
}

/** Makes data/cifar10/{train,test}/<class>/ and returns its path. */
export async function prepareCifar10(opts: PrepareOptions = {}): Promise<string> {
  return prepareOnce('cifar10', ['train', 'test'], opts, async (target) => {
    const archive = await fetchArchive(CIFAR10_ARCHIVE,
      path.join(path.dirname(target), 'downloads', 'cifar-10-binary.tar.gz'), opts);
    await buildFromArchive(archive, target, async (tmp) => {
      const batches = path.join(tmp, 'cifar-10-batches-bin');
      if (!fs.existsSync(batches)) throw new Error(`${archive} has no cifar-10-batches-bin/ folder`);
      say(opts, `converting CIFAR-10 batches to PNG files in ${target}`);
      await convertCifarBinary(batches, path.join(tmp, 'cifar10'));
      return path.join(tmp, 'cifar10');
    });
  });
}

/** Makes data/flowers5/<class>/ (128x128 JPEGs) and returns its path. */
export async function prepareFlowers5(opts: PrepareOptions = {}): Promise<string> {
  return prepareOnce('flowers5', Object.values(FLOWERS_CLASSES), opts, async (target) => {
    const archive = await fetchArchive(FLOWERS_ARCHIVE,
      path.join(path.dirname(target), 'downloads', 'flower_photos.tgz'), opts);
    await buildFromArchive(archive, target, async (tmp) => {
      const src = path.join(tmp, 'flower_photos');
      if (!fs.existsSync(src)) throw new Error(`${archive} has no flower_photos/ folder`);
      const out = path.join(tmp, 'flowers5');
      for (const [from, to] of Object.entries(FLOWERS_CLASSES)) {
        const dir = path.join(src, from);
        if (!fs.existsSync(dir)) throw new Error(`${archive} has no flower_photos/${from}/ folder`);
        fs.mkdirSync(path.join(out, to), { recursive: true });
        const files = fs.readdirSync(dir).filter((f) => /\.jpe?g$/i.test(f)).sort();
        say(opts, `resizing ${files.length} ${to} photos to ${FLOWERS_SIZE}x${FLOWERS_SIZE}`);
        for (const f of files) {
          // The whole photo squashed to a square, as tf.image.resize does in the tf_flowers studies.
          await sharp(path.join(dir, f))
            .resize(FLOWERS_SIZE, FLOWERS_SIZE, { fit: 'fill', kernel: 'lanczos3' })
            .removeAlpha()
            .jpeg({ quality: 90 })
            .toFile(path.join(out, to, f.replace(/\.jpe?g$/i, '.jpg')));
        }
      }
      return out;
    });
  });
}

export interface ImagenetPrepareOptions {
  /** Folder with train/<wnid>/*.JPEG and val/*.JPEG (flat, as ILSVRC2012_img_val.tar extracts). */
  root: string;
  /**
   * Validation labels, one of: lines "ILSVRC2012_val_00000001.JPEG n01751748" (space or comma separated);
   * Kaggle's LOC_val_solution.csv ("ImageId,PredictionString" with the wnid first); or one wnid per line in
   * file-name order.
   */
  valLabels: string;
  /** Print what would move without moving. */
  dryRun?: boolean;
  verbose?: boolean;
}

/** Reads a validation label file into file stem → wnid. */
export function readValLabels(file: string, valFiles: string[]): Map<string, string> {
  if (!fs.existsSync(file)) throw new Error(`validation label file ${file} does not exist`);
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const map = new Map<string, string>();
  const stem = (f: string): string => path.basename(f).replace(/\.[^.]+$/, '');
  if (lines.every((l) => /^n\d{8}$/.test(l))) {
    const sorted = [...valFiles].sort();
    if (lines.length !== sorted.length) {
      throw new Error(`${file} lists ${lines.length} wnids for ${sorted.length} validation images`);
    }
    sorted.forEach((f, i) => map.set(stem(f), lines[i]));
    return map;
  }
  for (const line of lines) {
    if (/^ImageId,/i.test(line)) continue;
    const m = /^([^\s,]+)[\s,]+(n\d{8})/.exec(line);
    if (!m) throw new Error(`${file}: cannot read a file name and wnid from '${line}'`);
    map.set(stem(m[1]), m[2]);
  }
  return map;
}

/** Moves flat val/*.JPEG into val/<wnid>/ and checks the train/<wnid>/ folders. */
export function prepareImagenet(opts: ImagenetPrepareOptions): { moved: number; classes: number } {
  const train = path.join(opts.root, 'train');
  const val = path.join(opts.root, 'val');
  for (const d of [train, val]) if (!fs.existsSync(d)) throw new Error(`ImageNet folder ${d} does not exist`);
  const wnids = fs.readdirSync(train).filter((d) => /^n\d{8}$/.test(d)).sort();
  if (wnids.length === 0) throw new Error(`${train} has no wnid folders (n01440764 …); extract the per-class train tars there`);
  const flat = fs.readdirSync(val).filter((f) => /\.jpe?g$/i.test(f));
  const labels = readValLabels(opts.valLabels, flat);
  const known = new Set(wnids);
  let moved = 0;
  for (const f of flat) {
    const wnid = labels.get(f.replace(/\.[^.]+$/, ''));
    if (!wnid) throw new Error(`${opts.valLabels} has no label for ${f}`);
    if (!known.has(wnid)) throw new Error(`${f} is labelled ${wnid}, which is not a train class folder`);
    if (opts.dryRun) {
      if (opts.verbose !== false) console.log(`${f} -> ${wnid}/`);
    } else {
      fs.mkdirSync(path.join(val, wnid), { recursive: true });
      fs.renameSync(path.join(val, f), path.join(val, wnid, f));
    }
    moved++;
  }
  if (opts.verbose !== false) console.log(`${moved} validation images ${opts.dryRun ? 'would move' : 'moved'}; ${wnids.length} classes`);
  return { moved, classes: wnids.length };
}
