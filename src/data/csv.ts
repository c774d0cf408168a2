/**
 * A regression dataset from a CSV of `path,target` rows (the pet-age study: targets are ages in months,
 * 0–191). Paths are relative to the CSV's folder; a first row whose target is not a number is a header.
 */
import * as fs from 'fs';
import * as path from 'path';

import { decodeImageFile } from '../image/decode';
import { checkIndex, type LabelledDataset } from './dataset';
import type { Sample } from '../image/sample';

export interface CsvDatasetOptions {
  /** Allowed target range, inclusive; rows outside it are an error. Default: any finite number. */
  range?: [number, number];
}

export class CsvRegressionDataset implements LabelledDataset {
  readonly classes: string[] = [];
  readonly paths: string[] = [];
  readonly targets: Float64Array;

  constructor(
    readonly csvPath: string,
    opts: CsvDatasetOptions = {},
  ) {
    if (!fs.existsSync(csvPath)) throw new Error(`CSV file ${csvPath} does not exist`);
    const dir = path.dirname(csvPath);
    const lines = fs.readFileSync(csvPath, 'utf8').split(/\r?\n/);
    const targets: number[] = [];
    lines.forEach((raw, i) => {
      const line = raw.trim();
      if (line === '') return;
      // The target is after the last comma, so file names may contain commas.
      const cut = line.lastIndexOf(',');
      if (cut < 0) throw new Error(`${csvPath}:${i + 1}: expected 'path,target', got '${line}'`);
      const file = unquote(line.slice(0, cut).trim());
      const field = line.slice(cut + 1).trim();
      const value = field === '' ? NaN : Number(field);
      if (!Number.isFinite(value)) {
        if (i === 0 && targets.length === 0) return; // header row
        throw new Error(`${csvPath}:${i + 1}: target '${field}' is not a number`);
      }
      if (opts.range && (value < opts.range[0] || value > opts.range[1])) {
        throw new Error(`${csvPath}:${i + 1}: target ${value} outside [${opts.range[0]}, ${opts.range[1]}]`);
      }
      const p = path.resolve(dir, file);
      if (!fs.existsSync(p)) throw new Error(`${csvPath}:${i + 1}: image ${p} does not exist`);
      this.paths.push(p);
      targets.push(value);
    });
    if (targets.length === 0) throw new Error(`CSV file ${csvPath} has no 'path,target' rows`);
    this.targets = Float64Array.from(targets);
  }

  get length(): number {
    return this.paths.length;
  }

  async get(index: number): Promise<Sample> {
    checkIndex(this, index);
    return { ...(await decodeImageFile(this.paths[index])), label: this.targets[index], path: this.paths[index] };
  }
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1).replace(/""/g, '"') : s;
}
