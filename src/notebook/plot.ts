/**
 * Plotly charts as notebook outputs. A chart is a `<div>` plus a `<script>` calling `Plotly.newPlot`,
 * which renders in JupyterLab (trusted outputs run their scripts) and in nbconvert's HTML export alike.
 * No CDN is reachable here, so the first chart of a kernel session carries plotly.js itself
 * (minified once, then cached); later charts reuse `window.Plotly`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { show } from './display';
import { Mode, mode as currentMode, modeLabel } from './mode';
import { writeFileAtomic } from '../util/fs';

/** One Plotly trace (`{ type: 'scatter', x, y, name }` …); see plotly.js's reference for the keys. */
export interface Trace {
  type?: string;
  name?: string;
  x?: ReadonlyArray<number | string>;
  y?: ReadonlyArray<number | string>;
  [key: string]: unknown;
}

export interface ChartOptions {
  /** Chart title; " (mode: …)" is appended so every chart states the mode that made it. */
  title: string;
  xTitle?: string;
  yTitle?: string;
  /** Extra Plotly layout keys (axis types, annotations, legend …), merged over the defaults. */
  layout?: Record<string, unknown>;
  /** Height in pixels (default 420). */
  height?: number;
  mode?: Mode;
}

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const CACHE_DIR = path.join(REPO_ROOT, 'node_modules', '.cache', 'convnext-ts');

function plotlyVersion(): string {
  return (require('plotly.js-dist/package.json') as { version: string }).version;
}

/**
 * plotly.js minified with esbuild (the npm build is 10.8 MB unminified), cached under
 * node_modules/.cache/convnext-ts/ by version so only the first call pays the ~3 s.
 */
export function plotlyBundle(): string {
  const version = plotlyVersion();
  const cached = path.join(CACHE_DIR, `plotly-${version}.min.js`);
  if (fs.existsSync(cached)) return fs.readFileSync(cached, 'utf8');
  const source = fs.readFileSync(require.resolve('plotly.js-dist/plotly.js'), 'utf8');
  const esbuild = require('esbuild') as typeof import('esbuild');
  const { code } = esbuild.transformSync(source, { loader: 'js', minify: true, legalComments: 'none' });
  const bundle = `/*! plotly.js v${version} | (c) Plotly, Inc. | MIT */\n${code}`;
  writeFileAtomic(cached, bundle);
  return bundle;
}

/** JSON that is safe inside a `<script>` element (no `</script>` can close it early). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/**
 * The script that defines `window.Plotly`. The bundle is UMD: with RequireJS on the page (older
 * nbconvert templates) it would register an anonymous AMD module instead of the global, so `define`,
 * `module` and `exports` are shadowed.
 */
export function plotlyLoaderScript(bundle: string = plotlyBundle()): string {
  const safe = bundle.replace(/<\/script/gi, '<\\/script');
  return `<script type="text/javascript">if (!window.Plotly) { (function (define, module, exports) {\n${safe}\n})(); }</script>`;
}

let chartCount = 0;

/** A unique element id; random per kernel session so re-running cells never reuses an id. */
function nextId(): string {
  chartCount += 1;
  return `convnext-plot-${Math.random().toString(36).slice(2, 10)}-${chartCount}`;
}

/** Title text with the mode, e.g. "Params vs GFLOPs (mode: quick)". */
export function chartTitle(title: string, m: Mode = currentMode): string {
  return `${title} (${modeLabel(m)})`;
}

/** The HTML of one chart (without plotly.js); pure, so tests can check it. */
export function chartHtml(traces: Trace[], opts: ChartOptions): string {
  const id = nextId();
  const height = opts.height ?? 420;
  const layout = {
    title: { text: chartTitle(opts.title, opts.mode) },
    xaxis: { title: { text: opts.xTitle ?? '' }, automargin: true },
    yaxis: { title: { text: opts.yTitle ?? '' }, automargin: true },
    height,
    margin: { t: 60, r: 20 },
    ...opts.layout,
  };
  const config = { responsive: true, displaylogo: false };
  // Without plotly.js (a reopened, untrusted notebook, or a later cell after a page reload) the
  // div says so instead of staying blank.
  return [
    `<div id="${id}" class="convnext-plot" style="width:100%;min-height:${height}px"></div>`,
    '<script type="text/javascript">(function () {',
    `  var el = document.getElementById(${scriptJson(id)});`,
    '  if (!window.Plotly) { el.textContent = "plotly.js is not loaded: run the notebook from the top (or restart the kernel)."; return; }',
    `  window.Plotly.newPlot(el, ${scriptJson(traces)}, ${scriptJson(layout)}, ${scriptJson(config)});`,
    '})();</script>',
  ].join('\n');
}

let bundleSent = false;

/**
 * Shows a chart in the notebook. The first chart of the kernel session also carries plotly.js
 * (about 4.8 MB once per notebook), which every later chart on the page reuses.
 */
export function plot(traces: Trace[], opts: ChartOptions): void {
  const loader = bundleSent ? '' : plotlyLoaderScript();
  show(loader + chartHtml(traces, opts));
  bundleSent = true;
}
