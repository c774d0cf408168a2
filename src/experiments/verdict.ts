/**
 * The one rule every seeded comparison of the notebooks uses to call a difference a win, a loss, or "not resolved
 * here". For two configurations with seed results a (n₁ seeds, mean m₁, sample std s₁) and b (n₂, m₂, s₂):
 *
 *   Δ = m₁ − m₂,   SE(Δ) = √(s₁²/n₁ + s₂²/n₂)   (Welch's standard error of a difference of means)
 *   resolved  ⇔  n₁ ≥ 2 and n₂ ≥ 2 and |Δ| > 2·SE(Δ)
 *
 * A difference within two standard errors is within the seed spread: it is "not resolved here", neither a win nor a
 * loss. With fewer than two seeds on either side there is no spread to compare with, so nothing is resolved. (With
 * three seeds a side 2·SE is a lenient bar, about a two-sided 90% test; it is meant to separate "shown" from "not
 * shown", not to claim significance.)
 */
import type { Stat } from './study-ablation';

export const RESOLVE_FACTOR = 2;

export interface SeedDiff {
  /** mean(a) − mean(b). */
  diff: number;
  /** Welch standard error of the difference. */
  se: number;
  /** At least two seeds on each side and finite figures: a spread to compare with. */
  enough: boolean;
  /** |diff| > 2·se with at least two seeds on each side. */
  resolved: boolean;
}

/** a − b over seeds, with its standard error and whether it is resolved (see the rule above). */
export function seedDiff(a: Stat, b: Stat): SeedDiff {
  const diff = a.mean - b.mean;
  const se = Math.sqrt(a.std ** 2 / a.n + b.std ** 2 / b.n);
  const enough = a.n >= 2 && b.n >= 2 && Number.isFinite(diff) && Number.isFinite(se);
  return { diff, se, enough, resolved: enough && Math.abs(diff) > RESOLVE_FACTOR * se };
}

export type Verdict = 'reproduces' | 'reverses' | 'not resolved here';

/** A claim that a − b has sign `claimed`: reproduces / reverses when resolved, else not resolved here. */
export function directional(d: SeedDiff, claimed: 1 | -1): Verdict {
  if (!d.resolved) return 'not resolved here';
  return Math.sign(d.diff) === claimed ? 'reproduces' : 'reverses';
}

/**
 * A claim that a ≈ b within ±margin: reproduces when the whole 2·SE band of Δ lies inside ±margin; reverses when
 * Δ is resolved and |Δ| > margin; otherwise not resolved here (the seeds cannot tell "equal" from "different").
 */
export function equivalent(d: SeedDiff, margin: number): Verdict {
  if (!d.enough) return 'not resolved here';
  if (Math.abs(d.diff) + RESOLVE_FACTOR * d.se <= margin) return 'reproduces';
  if (d.resolved && Math.abs(d.diff) > margin) return 'reverses';
  return 'not resolved here';
}

/** Two directional claims that must both hold (e.g. better train AND worse val): reverses if either reverses. */
export function both(a: Verdict, b: Verdict): Verdict {
  if (a === 'reverses' || b === 'reverses') return 'reverses';
  return a === 'reproduces' && b === 'reproduces' ? 'reproduces' : 'not resolved here';
}
