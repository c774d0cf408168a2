/**
 * The reproduction study's pet-dog age dataset, in the layout of the public competition it comes from
 * (users download it themselves; it is not redistributable):
 *
 *   <root>/trainset/<file>            training photos
 *   <root>/valset/<file>              validation photos
 *   <root>/testset/<file>             test photos
 *   <root>/annotations/train.txt      "file name<TAB>age in months" per line (val.txt likewise; test.txt if given)
 *
 * Annotation files may also be `path,age` CSV (a `.csv` beside or instead of the `.txt`, or comma lines in
 * it); a first line whose age is not a number is a header. Ages are months in [0, 192) (16 years). Train and
 * validation labels are noisy (the study: about 6% may be wrong), the test labels clean.
 */
import * as fs from 'fs';
import * as path from 'path';

import { decodeImageFile } from '../image/decode';
import type { Sample } from '../image/sample';
import { checkIndex, type LabelledDataset } from './dataset';

/** Ages are months in [0, PET_AGE_MAX_MONTHS). */
export const PET_AGE_MAX_MONTHS = 192;
export const PET_AGE_SPLITS = ['train', 'val', 'test'] as const;
export type PetAgeSplit = (typeof PET_AGE_SPLITS)[number];
/** The image folder of each split. */
export const PET_AGE_FOLDERS: Record<PetAgeSplit, string> = { train: 'trainset', val: 'valset', test: 'testset' };

export interface AgeAnnotation {
  /** The file name as written in the annotation file. */
  file: string;
  age: number;
  /** 1-based line number in the annotation file. */
  line: number;
}

/** An annotation file that cannot be used as it is: every problem found, each naming its line. */
export class AnnotationError extends Error {
  override name = 'AnnotationError';
  constructor(readonly source: string, readonly problems: string[]) {
    super(`${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems.slice(0, 10).join('; ')}` +
      (problems.length > 10 ? `; … (${problems.length - 10} more)` : ''));
  }
}

/**
 * Parses annotation text: per line "name<TAB>age", or "path,age" (CSV; the age is after the last comma, so
 * names may hold commas, and may be quoted), or "name age" (the last run of spaces). Blank lines are skipped,
 * a first line whose age is not a number is a header. Returns the entries and the problems found: a line
 * without a separator, an empty name, an age that is not a number or not in [0, 192), a name given twice.
 */
export function parseAgeAnnotations(text: string, source = 'annotations'): { entries: AgeAnnotation[]; problems: string[] } {
  const entries: AgeAnnotation[] = [];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    const at = `${source}:${i + 1}`;
    if (line === '') return;
    let name: string;
    let field: string;
    const body = raw.trimEnd();
    const tab = body.lastIndexOf('\t');
    const comma = line.lastIndexOf(',');
    const space = line.search(/\s+\S*$/);
    if (tab >= 0) [name, field] = [body.slice(0, tab).trim(), body.slice(tab + 1).trim()];
    else if (comma >= 0) [name, field] = [unquote(line.slice(0, comma).trim()), line.slice(comma + 1).trim()];
    else if (space > 0) [name, field] = [line.slice(0, space).trim(), line.slice(space).trim()];
    else {
      problems.push(`${at}: expected "file name<TAB>age" or "path,age", got ${JSON.stringify(line)}`);
      return;
    }
    const age = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(field) ? Number(field) : NaN;
    if (!Number.isFinite(age)) {
      if (lines.slice(0, i).every((l) => l.trim() === '')) return; // a header line
      problems.push(`${at}: age ${JSON.stringify(field)} is not a number`);
      return;
    }
    if (name === '') {
      problems.push(`${at}: empty file name`);
      return;
    }
    if (age < 0 || age >= PET_AGE_MAX_MONTHS) {
      problems.push(`${at}: age ${age} is outside [0, ${PET_AGE_MAX_MONTHS}) months`);
      return;
    }
    const first = seen.get(name);
    if (first !== undefined) {
      problems.push(`${at}: ${name} is annotated again (first on line ${first})`);
      return;
    }
    seen.set(name, i + 1);
    entries.push({ file: name, age, line: i + 1 });
  });
  if (entries.length === 0 && problems.length === 0) problems.push(`${source}: no annotation lines`);
  return { entries, problems };
}

/** Reads an annotation file; throws AnnotationError listing every problem (with its line). */
export function readAgeAnnotations(file: string): AgeAnnotation[] {
  if (!fs.existsSync(file)) throw new Error(`annotation file not found: ${file}`);
  const { entries, problems } = parseAgeAnnotations(fs.readFileSync(file, 'utf8'), file);
  if (problems.length > 0) throw new AnnotationError(file, problems);
  return entries;
}

/** The annotation file of a split: annotations/<split>.txt, else annotations/<split>.csv; undefined when neither exists. */
export function annotationFile(root: string, split: PetAgeSplit): string | undefined {
  for (const ext of ['.txt', '.csv', '.tsv']) {
    const f = path.join(root, 'annotations', `${split}${ext}`);
    if (fs.existsSync(f)) return f;
  }
  return undefined;
}

/** Where an annotated name lives: in the split's folder, else relative to the root (names such as "trainset/x.jpg"). */
export function resolveImage(root: string, split: PetAgeSplit, name: string): string {
  const inSplit = path.join(root, PET_AGE_FOLDERS[split], name);
  if (fs.existsSync(inSplit)) return inSplit;
  const inRoot = path.join(root, name);
  return fs.existsSync(inRoot) ? inRoot : inSplit;
}

function checkLayout(root: string, split: PetAgeSplit): { folder: string; annotations: string } {
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
    throw new Error(`pet-age root ${root} is not a folder (expected trainset/, valset/, testset/ and annotations/ in it)`);
  }
  const folder = path.join(root, PET_AGE_FOLDERS[split]);
  if (!fs.existsSync(folder)) throw new Error(`pet-age: ${folder} is missing (expected ${Object.values(PET_AGE_FOLDERS).join('/, ')}/ under ${root})`);
  const annotations = annotationFile(root, split);
  if (!annotations) {
    throw new Error(`pet-age: no annotations for the ${split} split: expected ${path.join(root, 'annotations', `${split}.txt`)} ` +
      '("file name<TAB>age in months" lines) or a .csv of "path,age" rows');
  }
  return { folder, annotations };
}

/** One split of the pet-age dataset: decoded on access, targets are ages in months. */
export class PetAgeDataset implements LabelledDataset {
  readonly classes: string[] = [];
  readonly paths: string[];
  readonly targets: Float64Array;
  readonly annotations: string;

  constructor(readonly root: string, readonly split: PetAgeSplit, o: { limit?: number } = {}) {
    const { annotations } = checkLayout(root, split);
    this.annotations = annotations;
    let entries = readAgeAnnotations(annotations);
    if (o.limit !== undefined) entries = entries.slice(0, o.limit);
    this.paths = entries.map((e) => resolveImage(root, split, e.file));
    const missing = this.paths.filter((p) => !fs.existsSync(p));
    if (missing.length > 0) {
      throw new Error(`pet-age ${split}: ${missing.length} annotated image${missing.length === 1 ? ' is' : 's are'} missing ` +
        `(e.g. ${missing.slice(0, 3).join(', ')}); run data-scripts/prepare-pet-age.ts --root ${root} for a full report`);
    }
    this.targets = Float64Array.from(entries, (e) => e.age);
  }

  get length(): number {
    return this.paths.length;
  }

  async get(index: number): Promise<Sample> {
    checkIndex(this, index);
    return { ...(await decodeImageFile(this.paths[index])), label: this.targets[index], path: this.paths[index] };
  }
}

/** Whether `root` holds the pet-age layout with train and val annotations. */
export function hasPetAge(root: string | undefined): boolean {
  if (!root || !fs.existsSync(root)) return false;
  return ['train', 'val'].every((s) => fs.existsSync(path.join(root, PET_AGE_FOLDERS[s as PetAgeSplit])) && annotationFile(root, s as PetAgeSplit));
}

export interface SplitReport {
  split: PetAgeSplit;
  annotations?: string;
  /** Annotated images (lines that parsed). */
  annotated: number;
  /** Image files in the split's folder. */
  files: number;
  /** Annotated images whose file is missing. */
  missing: string[];
  /** Files that failed to decode (or whose header could not be read). */
  unreadable: string[];
  /** Images in the folder without an annotation line. */
  unannotated: string[];
  /** Annotation problems (bad lines, ages out of range, names given twice), each with its line. */
  problems: string[];
  /** The same image content (by size and hash) under several names in this split. */
  duplicateImages: string[][];
  ages: { min: number; max: number; mean: number; median: number };
  /** Counts per year of age (index = floor(age / 12)). */
  perYear: number[];
}

export interface PetAgeReport {
  root: string;
  splits: SplitReport[];
  /** The same image content in two splits (train/val/test overlap). */
  crossSplitDuplicates: string[][];
  /** Every problem, one line each; empty when the dataset is usable as it is. */
  errors: string[];
  warnings: string[];
}

const IMAGE_FILE = /\.(jpe?g|png|webp|bmp|gif|tiff?)$/i;

/**
 * Checks a pet-age folder: per split the annotation lines (separators, ages in [0, 192), names given twice),
 * annotated files that are missing, files that cannot be decoded (`decode: 'header'` reads only each image's
 * header, `'full'` decodes every pixel, `'none'` skips the check), images without an annotation, and the same
 * image (byte-identical) under two names or in two splits.
 */
export async function validatePetAge(root: string, o: { decode?: 'none' | 'header' | 'full'; onProgress?: (done: number, total: number) => void } = {}): Promise<PetAgeReport> {
  const errors: string[] = [];
  const warnings: string[] = [];
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
    return { root, splits: [], crossSplitDuplicates: [], errors: [`${root} is not a folder`], warnings };
  }
  const splits: SplitReport[] = [];
  const hashes = new Map<string, Array<{ split: PetAgeSplit; file: string }>>();
  const { createHash } = await import('crypto');
  for (const split of PET_AGE_SPLITS) {
    const folder = path.join(root, PET_AGE_FOLDERS[split]);
    const annotations = annotationFile(root, split);
    if (!fs.existsSync(folder)) {
      (split === 'test' ? warnings : errors).push(`${PET_AGE_FOLDERS[split]}/ is missing under ${root}`);
      continue;
    }
    const files = fs.readdirSync(folder).filter((f) => IMAGE_FILE.test(f) && !f.startsWith('.')).sort();
    let entries: AgeAnnotation[] = [];
    let problems: string[] = [];
    if (annotations) ({ entries, problems } = parseAgeAnnotations(fs.readFileSync(annotations, 'utf8'), path.relative(root, annotations)));
    else (split === 'test' ? warnings : errors).push(`no annotations for ${split}: expected annotations/${split}.txt`);
    const paths = entries.map((e) => resolveImage(root, split, e.file));
    const missing = entries.filter((_, i) => !fs.existsSync(paths[i])).map((e) => e.file);
    const annotatedNames = new Set(paths.map((p) => path.resolve(p)));
    const unannotated = annotations ? files.filter((f) => !annotatedNames.has(path.resolve(folder, f))) : [];
    const unreadable: string[] = [];
    const present = annotations ? paths.filter((p) => fs.existsSync(p)) : files.map((f) => path.join(folder, f));
    const mode = o.decode ?? 'header';
    const byHash = new Map<string, string[]>();
    let done = 0;
    for (const p of present) {
      const bytes = fs.readFileSync(p);
      const key = `${bytes.length}:${createHash('sha1').update(bytes).digest('hex')}`;
      const rel = path.relative(root, p);
      byHash.set(key, [...(byHash.get(key) ?? []), rel]);
      hashes.set(key, [...(hashes.get(key) ?? []), { split, file: rel }]);
      if (mode !== 'none') {
        try {
          if (mode === 'full') await decodeImageFile(p);
          else await readHeader(bytes);
        } catch (err) {
          unreadable.push(`${rel} (${(err as Error).message.split('\n')[0]})`);
        }
      }
      o.onProgress?.(++done, present.length);
    }
    const ages = entries.map((e) => e.age).sort((a, b) => a - b);
    const perYear = new Array<number>(Math.ceil(PET_AGE_MAX_MONTHS / 12)).fill(0);
    for (const a of ages) perYear[Math.min(perYear.length - 1, Math.floor(a / 12))]++;
    const report: SplitReport = {
      split, annotations: annotations && path.relative(root, annotations), annotated: entries.length, files: files.length,
      missing, unreadable, unannotated, problems,
      duplicateImages: [...byHash.values()].filter((g) => g.length > 1),
      ages: {
        min: ages[0] ?? NaN, max: ages[ages.length - 1] ?? NaN,
        mean: ages.length ? ages.reduce((a, b) => a + b, 0) / ages.length : NaN,
        median: ages.length ? (ages[(ages.length - 1) >> 1] + ages[ages.length >> 1]) / 2 : NaN,
      },
      perYear,
    };
    splits.push(report);
    const name = PET_AGE_FOLDERS[split];
    for (const p of problems) errors.push(p);
    if (missing.length) errors.push(`${name}: ${missing.length} annotated file(s) missing, e.g. ${missing.slice(0, 3).join(', ')}`);
    if (unreadable.length) errors.push(`${name}: ${unreadable.length} unreadable file(s), e.g. ${unreadable.slice(0, 3).join(', ')}`);
    if (report.duplicateImages.length) {
      warnings.push(`${name}: ${report.duplicateImages.length} image(s) stored under several names, e.g. ${report.duplicateImages[0].join(' = ')}`);
    }
    if (unannotated.length) warnings.push(`${name}: ${unannotated.length} image(s) without an annotation (not used), e.g. ${unannotated.slice(0, 3).join(', ')}`);
  }
  const crossSplitDuplicates = [...hashes.values()].filter((g) => new Set(g.map((x) => x.split)).size > 1).map((g) => g.map((x) => x.file));
  if (crossSplitDuplicates.length) {
    warnings.push(`${crossSplitDuplicates.length} image(s) appear in more than one split, e.g. ${crossSplitDuplicates[0].join(' = ')}`);
  }
  return { root, splits, crossSplitDuplicates, errors, warnings };
}

/** Reads an image's header (format and size) without decoding its pixels; throws when it is not an image. */
async function readHeader(bytes: Buffer): Promise<void> {
  const sharp = (await import('sharp')).default;
  const meta = await sharp(bytes).metadata();
  if (!meta.width || !meta.height) throw new Error('no image size in the header');
}

/** The report as the lines `prepare-pet-age.ts` prints. */
export function describePetAgeReport(r: PetAgeReport): string[] {
  const lines = [`pet-age dataset at ${r.root}`];
  const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '—');
  for (const s of r.splits) {
    lines.push(`  ${PET_AGE_FOLDERS[s.split].padEnd(9)} ${String(s.annotated).padStart(6)} annotated, ${String(s.files).padStart(6)} image files` +
      (s.annotated ? `; ages ${f1(s.ages.min)}–${f1(s.ages.max)} months (mean ${f1(s.ages.mean)}, median ${f1(s.ages.median)})` : '') +
      `; missing ${s.missing.length}, unreadable ${s.unreadable.length}, unannotated ${s.unannotated.length}, bad lines ${s.problems.length}`);
  }
  const train = r.splits.find((s) => s.split === 'train');
  if (train && train.annotated) {
    const max = Math.max(...train.perYear);
    lines.push('  train ages per year:');
    train.perYear.forEach((n, y) => lines.push(`    ${String(y).padStart(2)}–${String(y + 1).padEnd(2)} y ${String(n).padStart(6)} ${'#'.repeat(max ? Math.round(40 * n / max) : 0)}`));
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  for (const e of r.errors.slice(0, 50)) lines.push(`error: ${e}`);
  if (r.errors.length > 50) lines.push(`error: … ${r.errors.length - 50} more`);
  lines.push(r.errors.length ? `${r.errors.length} problem(s): fix them before training` : 'ok: the dataset is ready (data.name: pet-age, data.root: this folder)');
  return lines;
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1).replace(/""/g, '"') : s;
}
