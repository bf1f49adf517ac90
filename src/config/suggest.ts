/**
 * Did-you-mean for unknown setting names: the closest known name by edit distance, when it is close
 * enough to be a likely typo (`dbms.ssl.policy.bolt.enable` → `dbms.ssl.policy.bolt.enabled`).
 */
import { suggestKeyCharsMax } from './limits.js';

/** The candidate closest to `word`, or `undefined` when none is within a typo's distance. */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  if (word.length > suggestKeyCharsMax) return undefined;
  const distanceMax = Math.max(2, Math.floor(word.length / 5));
  let best: string | undefined;
  let bestDistance = distanceMax + 1;
  for (const candidate of candidates) {
    if (Math.abs(candidate.length - word.length) >= bestDistance) continue;
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance (insert, delete, substitute), case-sensitive. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
