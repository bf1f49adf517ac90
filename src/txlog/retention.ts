/**
 * Which log segments a retention policy allows to remove. Pure: takes the segment list and
 * returns victims. Invariants: the newest (active) segment is never removed, and no segment
 * holding a transaction after the last checkpoint is removed (recovery needs it).
 */
import type { RetentionPolicy } from '../config/retention.js';

export type { RetentionPolicy };

export interface PrunableSegment {
  seq: number;
  path: string;
  firstTxId: number;
  /** Last tx id in the segment; firstTxId - 1 when empty. */
  lastTxId: number;
  lastCommitTimeMs: number;
  /** Bytes of records (header included). */
  usedBytes: number;
}

export function segmentsToPrune<S extends PrunableSegment>(segments: readonly S[], policy: RetentionPolicy, checkpointTxId: number, nowMs: number): S[] {
  if (policy.kind === 'keep_all' || segments.length <= 1) return [];
  const candidates = segments.slice(0, -1); // the active segment always stays
  const newestTxId = segments[segments.length - 1]!.lastTxId;
  const keep = new Set<number>();
  switch (policy.kind) {
    case 'keep_none': {
      // The newest non-empty file: the active one is empty right after `rotate()`.
      const newestNonEmpty = [...segments].reverse().find((s) => s.lastTxId >= s.firstTxId);
      if (newestNonEmpty) keep.add(newestNonEmpty.seq);
      break;
    }
    case 'files': {
      // Keep the newest `count` files, the active one included.
      const kept = segments.slice(-Math.max(1, policy.count));
      for (const s of kept) keep.add(s.seq);
      break;
    }
    case 'size': {
      let total = segments[segments.length - 1]!.usedBytes;
      for (let i = candidates.length - 1; i >= 0; i--) {
        const s = candidates[i]!;
        if (total + s.usedBytes > policy.bytes) break;
        total += s.usedBytes;
        keep.add(s.seq);
      }
      break;
    }
    case 'txs':
      for (const s of candidates) if (newestTxId - s.lastTxId < policy.count) keep.add(s.seq);
      break;
    case 'age': {
      let total = segments[segments.length - 1]!.usedBytes;
      for (let i = candidates.length - 1; i >= 0; i--) {
        const s = candidates[i]!;
        if (nowMs - s.lastCommitTimeMs >= policy.ms) break;
        if (policy.bytesMax !== undefined && total + s.usedBytes > policy.bytesMax) break;
        total += s.usedBytes;
        keep.add(s.seq);
      }
      break;
    }
  }
  const victims: S[] = [];
  for (const s of candidates) {
    if (keep.has(s.seq)) break; // only remove a prefix: the log must stay contiguous
    if (s.lastTxId > checkpointTxId) break;
    victims.push(s);
  }
  return victims;
}
