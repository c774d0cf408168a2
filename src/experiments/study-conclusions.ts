/**
 * The study's conclusions from its Table 3, one by one, each judged on our seeds with the rule of ./verdict.ts
 * (|Δ mean| > 2·SE over seeds, else "not resolved here"), beside the difference the study's own single-run table
 * shows.
 */
import type { RowSummary, Stat } from './study-ablation';
import { STUDY_TABLE3 } from './study-figures';
import { type SeedDiff, type Verdict, both, directional, equivalent, seedDiff } from './verdict';

/** "About the same": the study calls CBAM+SE (−0.6 points from CBAM) the same as CBAM; we allow ±1 point. */
export const SAME_MARGIN = 0.01;

export interface Conclusion {
  claim: string;
  /** What is compared, in words: "+FF − ConvNeXt, val acc". */
  test: string;
  verdict: Verdict;
  /** Our differences (fractions) with their standard errors. */
  ours: Array<{ what: string } & SeedDiff>;
  /** The same differences in the study's Table 3 (fractions). */
  study: Array<{ what: string; diff: number }>;
}

type Key = keyof typeof STUDY_TABLE3;
type Metric = 'trainAcc' | 'valAcc';

const studyDiff = (a: Key, b: Key, m: Metric) => (STUDY_TABLE3[a][m] - STUDY_TABLE3[b][m]) / 100;

/** The study's seven conclusions from Table 3, judged on our rows (rows missing from `rows` give "not resolved here"). */
export function studyConclusions(rows: RowSummary[]): Conclusion[] {
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const label = (k: string) => byKey.get(k)?.label ?? k;
  const none: Stat = { mean: NaN, std: NaN, n: 0 };
  const stat = (k: string, m: Metric) => byKey.get(k)?.[m] ?? none;
  const d = (a: Key, b: Key, m: Metric) => ({ what: `${label(a)} − ${label(b)}, ${m === 'valAcc' ? 'val' : 'train'} acc`, ...seedDiff(stat(a, m), stat(b, m)) });
  const s = (a: Key, b: Key, m: Metric) => ({ what: `${STUDY_TABLE3[a].label} − ${STUDY_TABLE3[b].label}`, diff: studyDiff(a, b, m) });
  const directionalClaim = (claim: string, a: Key, b: Key, sign: 1 | -1): Conclusion => {
    const o = d(a, b, 'valAcc');
    return { claim, test: o.what, verdict: directional(o, sign), ours: [o], study: [s(a, b, 'valAcc')] };
  };
  const overfits = (combo: Key): Conclusion => {
    const train = d(combo, 'cbam', 'trainAcc');
    const val = d(combo, 'cbam', 'valAcc');
    return {
      claim: `${label(combo)} overfits: better train, worse val than CBAM alone`,
      test: `${label(combo)} − ${label('cbam')}: train acc > 0 and val acc < 0`,
      verdict: both(directional(train, 1), directional(val, -1)),
      ours: [train, val],
      study: [s(combo, 'cbam', 'trainAcc'), s(combo, 'cbam', 'valAcc')],
    };
  };
  // CBAM helps most: the best module row by mean val acc against the runner-up (CBAM best) or against CBAM.
  const modules = rows.filter((r) => r.key !== 'convnext' && r.key !== 'transfer' && r.key in STUDY_TABLE3);
  const ranked = [...modules].sort((a, b) => b.valAcc.mean - a.valAcc.mean);
  let most: Conclusion;
  if (!byKey.has('cbam') || ranked.length < 2) {
    most = { claim: 'CBAM helps most', test: 'best module row', verdict: 'not resolved here', ours: [], study: [] };
  } else {
    const [best, second] = ranked;
    const other = best.key === 'cbam' ? second : best;
    const o = d('cbam', other.key as Key, 'valAcc');
    most = {
      claim: 'CBAM helps most',
      test: best.key === 'cbam' ? `${label('cbam')} (best) − runner-up ${other.label}, val acc` : `${label('cbam')} − best module row ${other.label}, val acc`,
      verdict: directional(o, 1),
      ours: [o],
      study: [s('cbam', other.key as Key, 'valAcc')],
    };
  }
  const same = d('se_cbam', 'cbam', 'valAcc');
  return [
    directionalClaim('feature fusion alone helps', 'ff', 'convnext', 1),
    directionalClaim('attention alone (CBAM) helps', 'cbam', 'convnext', 1),
    most,
    directionalClaim('dynamic convolution hurts', 'dynamic', 'convnext', -1),
    overfits('cbam_ff'),
    overfits('se_ff'),
    {
      claim: 'CBAM+SE is about the same as CBAM', test: `${same.what} within ±${100 * SAME_MARGIN} point`,
      verdict: equivalent(same, SAME_MARGIN), ours: [same], study: [s('se_cbam', 'cbam', 'valAcc')],
    },
  ];
}
