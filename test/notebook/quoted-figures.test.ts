/**
 * Notebooks 01 and 04: the study's and the paper's quoted figures beside ours (Table 1's top-1 columns, Table 3's
 * study columns, the conclusions table and its sentence), and notebook 01's ImageNet evaluation set-up.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { type RowSummary, ABLATION_SETTINGS, meanStd } from '../../src/experiments/study-ablation';
import { studyConclusions } from '../../src/experiments/study-conclusions';
import { countFamily, table1Rows } from '../../src/notebook/family';
import {
  IMAGENET_EVAL_BUDGET, OFFICIAL_WEIGHTS, howToGetImagenetText, imagenetAccuracyRows, imagenetEvalArgs, imagenetEvalSelection, imagenetSetup,
} from '../../src/notebook/imagenet-eval';
import { conclusionRows, conclusionsText, studyScaleText, table3Rows } from '../../src/notebook/study';
import { tableHtml } from '../../src/notebook/table';

const st = (xs: number[]) => meanStd(xs);
const row = (key: string, label: string, val: number[]): RowSummary => ({
  key, label, params: 1, macs: 1e6, trainLoss: st([0.7, 0.71]), valLoss: st([0.8, 0.82]), trainAcc: st(val), valAcc: st(val),
  trainImagesPerSec: st([100]), evalImagesPerSec: st([400]),
});

describe('notebook 04: the study\'s Table 3 beside ours, and its conclusions', () => {
  it('puts the study\'s four printed figures beside our mean ± std, greyed as quoted', () => {
    const [r] = table3Rows([row('convnext', 'ConvNeXt', [0.70, 0.72, 0.74])]);
    assert.equal(r['train-loss (study)'], 0.718);
    assert.equal(r['train-acc % (study)'], 72.5);
    assert.equal(r['val-loss (study)'], 0.745);
    assert.equal(r['val-acc % (study)'], 72.0);
    assert.equal(r['val-acc % (ours)'], '72.0 ± 2.0');
    assert.match(tableHtml([r], { caption: 'x', mode: 'smoke' }), /<th style="[^"]*color:#666;font-style:italic;">val-acc % \(study\)<\/th>/);
    assert.equal(table3Rows([row('transfer', 'T', [0.5])])[0]['val-acc % (study)'], null);
  });

  it('tabulates each conclusion with the study\'s Δ, ours ± SE and the verdict, and says which reproduce', () => {
    const rows = [
      row('convnext', 'ConvNeXt', [0.70, 0.71, 0.72]), row('dynamic', '+DynamicConv2d', [0.60, 0.61, 0.62]), row('ff', '+FF', [0.70, 0.71, 0.72]),
      row('cbam', '+CBAM', [0.76, 0.77, 0.78]), row('se_ff', '+SE&FF', [0.70, 0.71, 0.72]), row('cbam_ff', '+CBAM&FF', [0.70, 0.71, 0.72]),
      row('se_cbam', '+CBAM&SE', [0.76, 0.77, 0.78]),
    ];
    const c = studyConclusions(rows);
    const t = conclusionRows(c);
    assert.equal(t[3]['the study\'s conclusion'], 'dynamic convolution hurts');
    assert.equal(t[3]['Δ points (study, one run)'], '−3.3');
    assert.equal(t[3]['Δ ± SE points (ours)'], '−10.0 ± 0.8');
    assert.equal(t[3].verdict, 'reproduces');
    const text = conclusionsText(c, rows, ABLATION_SETTINGS.quick);
    assert.ok(text.includes('The plain ConvNeXt reaches 71.0 ± 1.0% validation accuracy over 3 seed(s) (the study: 72.0%), at or above the 70%'), text);
    assert.ok(text.includes('* **Reproduces:** attention alone (CBAM) helps and dynamic convolution hurts.'), text);
    // The combined rows train no better than CBAM (train = val here) and validate worse, beyond 2·SE: "overfits" reverses.
    assert.ok(text.includes('* **Reverses:** +CBAM&FF overfits: better train, worse val than CBAM alone and +SE&FF overfits'), text);
    assert.ok(/\* \*\*Not resolved here\*\* \(within the seed spread\): feature fusion alone helps, CBAM helps most/.test(text), text);
  });

  it('states quick mode\'s scale and why', () => {
    const q = studyScaleText(ABLATION_SETTINGS.quick);
    assert.ok(q.includes('at 96×96 for 12 epoch(s), batch 64, over seeds 0, 1, 2'), q);
    // Every pilot behind the choice is quoted, and the measured cost of the chosen scale.
    assert.ok(q.includes('mini at 64 px, 8 epochs: 58.4% in 19 s; mini at 64 px, 30 epochs: 59.5% in 69 s; atto at 64 px, 20 epochs: 60.9% in 144 s; mini at 96 px, 20 epochs: 63.3% in 90 s'), q);
    assert.ok(q.includes('took 44 minutes here'), q);
    assert.ok(q.includes('72.0%'), q);
    assert.ok(!studyScaleText(ABLATION_SETTINGS.smoke).includes('Why'));
  });
});

describe('notebook 01: Table 1\'s quoted top-1 and the ImageNet evaluation', () => {
  it('Table 1 carries the paper\'s top-1 and the study\'s two columns (T/S/B/L at 224)', () => {
    const rows = table1Rows(countFamily());
    const at = (m: string, size: number) => rows.find((r) => r.model === m && r.resolution === `${size}²`)!;
    assert.equal(at('convnext_tiny', 224)['top-1 % (paper)'], 82.1);
    assert.equal(at('convnext_tiny', 224)['top-1 %, paper as printed (study)'], 81.3);
    assert.equal(at('convnext_tiny', 224)['top-1 %, its "Ours" (study)'], 81.2);
    assert.equal(at('convnext_large', 224)['top-1 %, its "Ours" (study)'], 84.2);
    assert.equal(at('convnext_base', 384)['top-1 % (paper)'], 85.1);
    assert.equal(at('convnext_base', 384)['top-1 %, its "Ours" (study)'], null);
    assert.equal(at('convnext_atto', 224)['top-1 % (paper)'], null);
  });

  it('reads the two environment variables, finds converted weights and says what is wrong', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convnext-in1k-setup-'));
    try {
      assert.deepEqual(imagenetSetup({}), { valDir: undefined, weightsDir: undefined, problems: [], found: [] });
      fs.mkdirSync(path.join(dir, 'imagenet', 'val', 'n01440764'), { recursive: true });
      fs.mkdirSync(path.join(dir, 'weights'));
      fs.writeFileSync(path.join(dir, 'weights', 'convnext_tiny_1k_224_ema.safetensors'), '');
      const s = imagenetSetup({ CONVNEXT_IMAGENET_VAL: path.join(dir, 'imagenet'), CONVNEXT_WEIGHTS_DIR: path.join(dir, 'weights') });
      assert.equal(s.valDir, path.join(dir, 'imagenet', 'val'));
      assert.deepEqual(s.found.map((w) => w.file), ['convnext_tiny_1k_224_ema.safetensors']);
      assert.deepEqual(imagenetEvalSelection(s, 'quick').map((w) => w.model), ['convnext_tiny']);
      const bad = imagenetSetup({ CONVNEXT_IMAGENET_VAL: path.join(dir, 'weights'), CONVNEXT_WEIGHTS_DIR: path.join(dir, 'none') });
      assert.equal(bad.valDir, undefined);
      assert.match(bad.problems.join('\n'), /holds no wnid folders/);
      assert.match(bad.problems.join('\n'), /none does not exist/);
      assert.match(howToGetImagenetText(bad), /Not usable as set/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('evaluates the official way: crop 0.875 at 224, squash at 384, and says how to get weights and data', () => {
    const t = OFFICIAL_WEIGHTS.find((w) => w.model === 'convnext_tiny')!;
    assert.equal(t.url, 'https://dl.fbaipublicfiles.com/convnext/convnext_tiny_1k_224_ema.pth');
    assert.deepEqual(imagenetEvalArgs(t, '/d/val', '/w', { perClass: 10 }), [
      'eval', '--model', 'convnext_tiny', '--weights', '/w/convnext_tiny_1k_224_ema.safetensors', '--data', '/d/val',
      '--input-size', '224', '--crop-pct', '0.875', '--crop-mode', 'center', '--batch-size', '25', '--no-progress', '--per-class', '10',
    ]);
    const b384 = OFFICIAL_WEIGHTS.find((w) => w.size === 384 && w.model === 'convnext_base')!;
    assert.deepEqual([b384.cropPct, b384.cropMode, b384.url], [1, 'squash', 'https://dl.fbaipublicfiles.com/convnext/convnext_base_1k_384.pth']);
    const how = howToGetImagenetText(imagenetSetup({}));
    assert.ok(how.includes('python ../data-scripts/convert_pth.py convnext_tiny_1k_224_ema.pth convnext_tiny_1k_224_ema.safetensors'));
    assert.ok(how.includes('npx tsx data-scripts/prepare-imagenet.ts --root /data/imagenet --val-labels LOC_val_solution.csv'));
    assert.ok(how.includes('CONVNEXT_IMAGENET_VAL=/data/imagenet/val CONVNEXT_WEIGHTS_DIR=$PWD/weights'));
    assert.equal(IMAGENET_EVAL_BUDGET.full.perClass, undefined);
    const rows = imagenetAccuracyRows([]);
    assert.equal(rows[0]['top-1 % (paper)'], 82.1);
    assert.equal(rows[0]['top-1 % (study, its "Ours")'], 81.2);
    assert.equal(rows[0]['top-1 % (ours)'], 'not evaluated');
  });
});
