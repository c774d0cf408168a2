/**
 * `convnext info`: params and MACs of a registered model, per stage; `--list` names every model. The models
 * are built shape-only on the pure-JavaScript backend (see loadWithoutNativeBackend): no native TensorFlow.
 */
import type { Command } from 'commander';
import type { Classifier } from '../../convnext';
import { action, loadWithoutNativeBackend, positiveInt } from '../errors';

/** The library, loaded when the command runs (`convnext --help` loads no TensorFlow). */
function lib() {
  return loadWithoutNativeBackend(() => {
    const { checkInputSize, complexity, getModelEntry, listModels } = require('../../convnext') as typeof import('../../convnext');
    const { withoutInit } = require('../../nn') as typeof import('../../nn');
    return { checkInputSize, complexity, getModelEntry, listModels, withoutInit };
  });
}

interface InfoOptions {
  model?: string;
  size?: number;
  classes: number;
  json?: boolean;
  list?: boolean;
}

export interface ScopeRow {
  scope: string;
  params: number;
  macs: number;
}

/**
 * Params and MACs grouped by the first two levels of the module path (`stages.2`, `head`; `layers.1` for
 * Swin, `blocks.3` for ViT), in forward order. Top-level parameters (ViT's `cls_token`, `pos_embed`) are
 * their own scope. Scopes with parameters but no MACs (norms, embeddings) go before the first scope with MACs
 * that follows them in parameter order: the final LayerNorm before the classifier, Swin's patch-embedding
 * norm before the first stage.
 */
export function scopeTable(model: Classifier, macsByScope: Map<string, number>): ScopeRow[] {
  const params = new Map<string, number>();
  for (const [name, p] of model.namedParameters()) {
    if (!p.trainable) continue; // buffers (BatchNorm running statistics) are not parameters
    const parts = name.split('.');
    const scope = parts.length === 1 ? name : parts.slice(0, -1).slice(0, 2).join('.');
    params.set(scope, (params.get(scope) ?? 0) + p.size);
  }
  const order = [...macsByScope.keys()];
  const paramOrder = [...params.keys()];
  for (const [i, scope] of paramOrder.entries()) {
    if (macsByScope.has(scope)) continue;
    const next = paramOrder.slice(i + 1).find((s) => macsByScope.has(s));
    const at = next === undefined ? -1 : order.indexOf(next);
    order.splice(at < 0 ? order.length : at, 0, scope);
  }
  return order.map((scope) => ({ scope, params: params.get(scope) ?? 0, macs: macsByScope.get(scope) ?? 0 }));
}

function human(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)}G` : `${(n / 1e6).toFixed(2)}M`;
}

function printList(json: boolean): void {
  const { getModelEntry, listModels } = lib();
  const models = listModels().map((name) => {
    const e = getModelEntry(name);
    return { name, description: e.description, defaultSize: e.defaultSize };
  });
  if (json) {
    console.log(JSON.stringify(models, null, 2));
    return;
  }
  const w = Math.max(...models.map((m) => m.name.length));
  for (const m of models) console.log(`${m.name.padEnd(w)}  ${m.description}`);
}

function runInfo(opts: InfoOptions): void {
  if (opts.list) {
    printList(opts.json === true);
    return;
  }
  if (!opts.model) throw new Error('--model NAME is required (see convnext info --list)');
  const { checkInputSize, complexity, getModelEntry, withoutInit } = lib();
  const entry = getModelEntry(opts.model);
  const size = opts.size ?? entry.defaultSize;
  const model = withoutInit(() => entry.create({ numClasses: opts.classes }));
  try {
    checkInputSize(model, size);
    const c = complexity(model, size);
    const rows = scopeTable(model, c.macsByScope);
    if (opts.json) {
      console.log(JSON.stringify({
        model: opts.model, description: entry.description, size, classes: opts.classes,
        params: c.params, macs: c.macs, scopes: rows,
      }, null, 2));
      return;
    }
    console.log(`${opts.model}: ${entry.description}`);
    console.log(`input ${size}x${size}x3, ${opts.classes} classes`);
    console.log(`params ${c.params.toLocaleString('en-US')} (${human(c.params)}), ` +
      `MACs ${c.macs.toLocaleString('en-US')} (${human(c.macs)}, the paper's "FLOPs")`);
    console.log('');
    const w = Math.max(5, ...rows.map((r) => r.scope.length));
    const line = (a: string, b: string, d: string, e: string) =>
      console.log(`${a.padEnd(w)}  ${b.padStart(13)}  ${d.padStart(16)}  ${e.padStart(6)}`);
    line('scope', 'params', 'MACs', 'MACs%');
    for (const r of rows) {
      line(r.scope, r.params.toLocaleString('en-US'), r.macs.toLocaleString('en-US'), (100 * r.macs / c.macs).toFixed(1));
    }
    line('total', c.params.toLocaleString('en-US'), c.macs.toLocaleString('en-US'), '100.0');
  } finally {
    model.dispose();
  }
}

export function register(program: Command): void {
  program
    .command('info')
    .description('params and MACs of a model, with a per-stage table; --list names every model')
    .option('-m, --model <name>', 'model name (see --list)')
    .option('-s, --size <pixels>', 'input resolution (default: the model\'s, 224)', positiveInt)
    .option('-c, --classes <n>', 'classes of the head', positiveInt, 1000)
    .option('--json', 'print JSON')
    .option('--list', 'list every registered model with its description')
    .action(action(runInfo));
}
