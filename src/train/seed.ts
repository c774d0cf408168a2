/**
 * Determinism for the model side of training. tfjs's unseeded random ops (drop path's mask, truncNormal
 * initialisation) take their seeds from Math.random, so running a step with Math.random drawn from a
 * generator seeded by (run seed, update index) makes every step reproducible on its own, which is what
 * lets a resumed run retrace an uninterrupted one exactly.
 */
import seedrandom from 'seedrandom';

/** Runs a synchronous fn with Math.random replaced by a generator seeded from `parts`; restores it after. */
export function withSeed<T>(parts: Array<number | string>, fn: () => T): T {
  const prev = Math.random;
  Math.random = seedrandom(parts.join(':'));
  try {
    return fn();
  } finally {
    Math.random = prev;
  }
}
