/** The pipeline's seeded generator: determinism, state round trip and distribution moments. */
import { strict as assert } from 'assert';
import { deriveSeed, Rng } from "../../src/util";

function moments(xs: number[]): [number, number] {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return [m, xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length];
}

describe('data: Rng', () => {
  it('same seed, same stream; state() / fromState resumes it', () => {
    const a = new Rng(123);
    const b = new Rng(123);
    const xs = Array.from({ length: 10 }, () => a.random());
    assert.deepEqual(xs, Array.from({ length: 10 }, () => b.random()));
    a.normal(); // leaves a spare normal in the state
    const st = a.state();
    const next = [a.normal(), a.random()];
    const resumed = Rng.fromState(st);
    assert.deepEqual([resumed.normal(), resumed.random()], next);
    assert.notEqual(new Rng(124).random(), new Rng(123).random());
  });

  it('deriveSeed separates (seed, epoch, index) tuples', () => {
    const seen = new Set<number>();
    for (let e = 0; e < 20; e++) for (let i = 0; i < 500; i++) seen.add(deriveSeed(0, e, 2, i));
    assert.equal(seen.size, 10000);
    assert.notEqual(deriveSeed(1, 2), deriveSeed(2, 1));
    assert.notEqual(deriveSeed(2 ** 32 + 1), deriveSeed(1));
    assert.throws(() => deriveSeed(0.5), /integers/);
  });

  it('uniform, normal and Beta moments', () => {
    const r = new Rng(7);
    const N = 40000;
    const [um, uv] = moments(Array.from({ length: N }, () => r.random()));
    assert.ok(Math.abs(um - 0.5) < 0.01 && Math.abs(uv - 1 / 12) < 0.003);
    const [nm, nv] = moments(Array.from({ length: N }, () => r.normal()));
    assert.ok(Math.abs(nm) < 0.02 && Math.abs(nv - 1) < 0.03);
    // Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1)): a = 0.8 → 0.0962; a = 1 → 1/12
    for (const a of [0.8, 1]) {
      const [bm, bv] = moments(Array.from({ length: N }, () => r.beta(a, a)));
      assert.ok(Math.abs(bm - 0.5) < 0.01 && Math.abs(bv - 1 / (4 * (2 * a + 1))) < 0.004, `Beta(${a}): ${bm} ${bv}`);
    }
  });

  it('int covers [lo, hi) evenly and permutation is a permutation', () => {
    const r = new Rng(1);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60000; i++) counts[r.int(0, 6)]++;
    assert.ok(counts.every((c) => Math.abs(c - 10000) < 400), String(counts));
    assert.deepEqual(Array.from(r.permutation(50)).sort((a, b) => a - b), [...Array(50).keys()]);
    assert.throws(() => r.int(3, 3), /empty range/);
  });
});
