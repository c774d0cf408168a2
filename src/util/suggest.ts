/** "Did you mean" for names and keys a user typed. */
import { distance } from 'fastest-levenshtein';

/** Up to `max` of `known` closest to `name` by edit distance, none when nothing is close. */
export function suggest(name: string, known: Iterable<string>, max = 3): string[] {
  const limit = Math.max(3, name.length / 3);
  return [...known].map((k) => [k, distance(name, k)] as const)
    .filter(([, d]) => d <= limit)
    .sort((a, b) => a[1] - b[1])
    .slice(0, max)
    .map(([k]) => k);
}

/** ` (did you mean a, b?)`, or '' when nothing is close: for the end of an error's first clause. */
export function didYouMean(name: string, known: Iterable<string>): string {
  const close = suggest(name, known);
  return close.length ? ` (did you mean ${close.join(', ')}?)` : '';
}
