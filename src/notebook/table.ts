/**
 * HTML tables as notebook outputs. Every caption states the mode, and results sit beside the paper's
 * figures in column pairs named `<quantity> (paper)` / `<quantity> (ours)` (see `vsPaper`); paper
 * columns render grey, ours bold, and a missing paper figure shows as "—".
 */
import { escapeHtml } from '../util/html';
import { show } from './display';
import { Mode, mode as currentMode, modeLabel } from './mode';

export type Cell = string | number | boolean | null | undefined;
export type Row = Record<string, Cell>;

/** Anything with column names and row values, such as a danfojs `DataFrame`. */
export interface FrameLike {
  columns: string[];
  values: unknown[];
}

export interface TableOptions {
  /** What the table shows; " (mode: …)" is appended. */
  caption: string;
  /** Column order (default: keys in order of first appearance). */
  columns?: string[];
  /**
   * Decimals: one number for the non-integer values of all columns, or per column, which then applies to
   * integers too (a paper figure printed as "45.0" keeps its ".0"). Default 2.
   */
  digits?: number | Record<string, number>;
  /** A source line under the table, e.g. "paper: Liu et al. 2022, Table 1". */
  note?: string;
  mode?: Mode;
}

export const PAPER_SUFFIX = ' (paper)';
export const OURS_SUFFIX = ' (ours)';
/** The reproduction study's quoted figures: rendered like the paper's (grey), since neither is measured here. */
export const STUDY_SUFFIX = ' (study)';

/** The column pair for one quantity: `{ 'GFLOPs (paper)': 4.5, 'GFLOPs (ours)': 4.46 }`. */
export function vsPaper(quantity: string, paper: number | string | null | undefined, ours: Cell): Row {
  return { [quantity + PAPER_SUFFIX]: paper ?? null, [quantity + OURS_SUFFIX]: ours };
}

/** The column pair for one quantity beside the reproduction study's figure: `{ 'val-acc % (study)': 72, 'val-acc % (ours)': … }`. */
export function vsStudy(quantity: string, study: number | string | null | undefined, ours: Cell): Row {
  return { [quantity + STUDY_SUFFIX]: study ?? null, [quantity + OURS_SUFFIX]: ours };
}

function isFrameLike(source: unknown): source is FrameLike {
  return typeof source === 'object' && source !== null && !Array.isArray(source) &&
    Array.isArray((source as FrameLike).columns) && Array.isArray((source as FrameLike).values);
}

/** Rows from an array of objects or from a DataFrame. */
export function rowsOf(source: Row[] | FrameLike): Row[] {
  if (!isFrameLike(source)) return source;
  const { columns, values } = source;
  return values.map((v, i) => {
    if (!Array.isArray(v) || v.length !== columns.length) {
      throw new Error(`row ${i} has ${Array.isArray(v) ? v.length : 'no'} values for ${columns.length} columns`);
    }
    return Object.fromEntries(columns.map((c, j) => [c, v[j] as Cell]));
  });
}

/** Integers get thousands separators and no decimals unless `fixed`; other numbers `digits` decimals. */
export function formatCell(value: Cell, digits = 2, fixed = false): string {
  if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) return '—';
  if (typeof value === 'number') {
    const d = Number.isInteger(value) && !fixed ? 0 : digits;
    return value.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  }
  return String(value);
}

function formatFor(column: string, value: Cell, digits: TableOptions['digits']): string {
  if (typeof digits === 'object' && column in digits) return formatCell(value, digits[column], true);
  return formatCell(value, typeof digits === 'number' ? digits : 2);
}

function columnStyle(column: string): string {
  if (column.endsWith(PAPER_SUFFIX) || column.endsWith(STUDY_SUFFIX)) return 'color:#666;font-style:italic;';
  if (column.endsWith(OURS_SUFFIX)) return 'font-weight:bold;';
  return '';
}

/** The HTML of a table; pure, so tests can check it. */
export function tableHtml(source: Row[] | FrameLike, opts: TableOptions): string {
  const rows = rowsOf(source);
  const columns = opts.columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  for (const c of opts.columns ?? []) {
    if (!rows.some((r) => c in r)) throw new Error(`table column "${c}" is in no row`);
  }
  // Numbers align right, and so do the "—" placeholders and headers of columns holding numbers.
  const numeric = new Set(columns.filter((c) => rows.some((r) => typeof r[c] === 'number')));
  const style = (c: string, v?: Cell) => {
    const align = numeric.has(c) && typeof v !== 'string' ? 'right' : 'left';
    return `padding:2px 10px;border-bottom:1px solid #ddd;text-align:${align};${columnStyle(c)}`;
  };
  const head = columns.map((c) => `<th style="${style(c)}">${escapeHtml(c)}</th>`).join('');
  const body = rows.map((r) => '<tr>' + columns.map((c) =>
    `<td style="${style(c, r[c])}">${escapeHtml(formatFor(c, r[c], opts.digits))}</td>`).join('') + '</tr>').join('\n');
  const caption = escapeHtml(`${opts.caption} (${modeLabel(opts.mode ?? currentMode)})`);
  const note = opts.note ? `\n<p style="font-size:85%;color:#666">${escapeHtml(opts.note)}</p>` : '';
  return [
    '<table class="convnext-table" style="border-collapse:collapse;font-variant-numeric:tabular-nums">',
    `<caption style="caption-side:top;text-align:left;font-weight:bold;padding:4px 0">${caption}</caption>`,
    `<thead><tr>${head}</tr></thead>`,
    `<tbody>\n${body}\n</tbody>`,
    '</table>',
  ].join('\n') + note;
}

/** Shows a table in the notebook. */
export function table(source: Row[] | FrameLike, opts: TableOptions): void {
  show(tableHtml(source, opts));
}
