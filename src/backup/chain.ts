/**
 * Backup chains from a set of artifacts: per database id, a FULL followed by the DIFFs that continue
 * it (each starting at the previous highest tx + 1, with its parent's chain checksum matching).
 * Empty DIFFs are kept with their chain but never link. Every artifact that cannot join a chain is
 * reported as a typed problem; nothing is dropped silently. Pure: restore and AUTO backup use it.
 */
import type { ArtifactInfo } from './artifact-info.js';

export interface Chain {
  databaseId: string;
  /** Name in the newest artifact of the chain. */
  databaseName: string;
  full: ArtifactInfo;
  /** Non-empty DIFFs in transaction order, each continuing the one before. */
  diffs: ArtifactInfo[];
  /** Empty DIFFs recorded after this chain's artifacts: a backup ran with nothing new. */
  emptyDiffs: ArtifactInfo[];
  lowestTx: number;
  highestTx: number;
  /** Chain checksum of `highestTx`: what the next DIFF's parent link must carry. */
  lastTxChecksum: number;
  /** Name of the last non-empty artifact. */
  tipName: string;
}

interface ProblemBase {
  databaseId: string;
  /** File name of the artifact that could not join a chain. */
  artifact: string;
  message: string;
}

export type ChainProblem =
  /** A DIFF with no FULL of the same database id before it. */
  | (ProblemBase & { kind: 'noFull' })
  /** Transactions are missing between the chain and this DIFF. */
  | (ProblemBase & { kind: 'gap'; after: string; expectedLowestTx: number; lowestTx: number })
  /** This DIFF starts inside transactions the chain already has. */
  | (ProblemBase & { kind: 'overlap'; after: string; expectedLowestTx: number; lowestTx: number })
  /** The range lines up but the chain checksum differs: this DIFF follows a different history. */
  | (ProblemBase & { kind: 'brokenLink'; after: string; expectedChecksum: number; actualChecksum: number });

export interface ChainReport {
  /** Ordered by database name, database id, then the FULL's time. */
  chains: Chain[];
  problems: ChainProblem[];
}

export function buildChains(infos: readonly ArtifactInfo[]): ChainReport {
  const byDatabase = new Map<string, ArtifactInfo[]>();
  for (const info of infos) {
    const group = byDatabase.get(info.header.databaseId) ?? [];
    group.push(info);
    byDatabase.set(info.header.databaseId, group);
  }
  const chains: Chain[] = [];
  const problems: ChainProblem[] = [];
  for (const [databaseId, group] of byDatabase) {
    // Linked by transaction ranges, not by creation time: a FULL written by aggregate-backup is
    // newer than the DIFFs that continue it. FULLs first (in time order), then DIFFs in
    // transaction order, empty DIFFs last (they never link).
    const byTime = (a: ArtifactInfo, b: ArtifactInfo) => compareText(a.header.createdAt, b.header.createdAt) || compareText(a.name, b.name);
    const isEmpty = (i: ArtifactInfo) => i.trailer.lowestTx === 0 && i.trailer.highestTx === 0;
    const fulls = group.filter((i) => i.header.kind === 'FULL').sort(byTime);
    const diffs = group.filter((i) => i.header.kind === 'DIFF' && !isEmpty(i)).sort((a, b) => a.trailer.lowestTx - b.trailer.lowestTx || byTime(a, b));
    const empties = group.filter((i) => i.header.kind === 'DIFF' && isEmpty(i)).sort(byTime);
    const report = chainsOfOneDatabase(databaseId, [...fulls, ...diffs, ...empties]);
    // A chain is named as its newest artifact names the database.
    for (const c of report.chains) c.databaseName = [c.full, ...c.diffs, ...c.emptyDiffs].sort(byTime).at(-1)!.header.databaseName;
    chains.push(...report.chains);
    problems.push(...report.problems);
  }
  chains.sort((a, b) =>
    compareText(a.databaseName, b.databaseName) || compareText(a.databaseId, b.databaseId) || compareText(a.full.header.createdAt, b.full.header.createdAt));
  return { chains, problems };
}

function chainsOfOneDatabase(databaseId: string, ordered: readonly ArtifactInfo[]): ChainReport {
  const chains: Chain[] = [];
  const problems: ChainProblem[] = [];
  for (const info of ordered) {
    const { header, trailer } = info;
    if (header.kind === 'FULL') {
      chains.push({
        databaseId,
        databaseName: header.databaseName,
        full: info,
        diffs: [],
        emptyDiffs: [],
        lowestTx: trailer.lowestTx,
        highestTx: trailer.highestTx,
        lastTxChecksum: trailer.lastTxChecksum,
        tipName: info.name,
      });
      continue;
    }
    const newest = chains.at(-1);
    if (newest === undefined) {
      problems.push({
        kind: 'noFull',
        databaseId,
        artifact: info.name,
        message: `DIFF artifact "${info.name}" has no FULL artifact of database id ${databaseId} before it`,
      });
      continue;
    }
    const parent = header.parent;
    const empty = trailer.lowestTx === 0 && trailer.highestTx === 0;
    if (empty) {
      // Skipped when linking: it carries no transactions, so it neither extends nor breaks a chain.
      const owner = chains.find((c) => parent !== null && (c.full.name === parent.artifactName || c.diffs.some((d) => d.name === parent.artifactName))) ?? newest;
      owner.emptyDiffs.push(info);
      owner.databaseName = header.databaseName;
      continue;
    }
    const lined = chains.filter((c) => c.highestTx + 1 === trailer.lowestTx);
    const candidate = lined.find((c) => parent !== null && c.tipName === parent.artifactName) ?? lined.at(-1);
    if (candidate !== undefined) {
      const expectedChecksum = candidate.lastTxChecksum;
      const actualChecksum = parent?.lastTxChecksum ?? 0;
      if (expectedChecksum !== actualChecksum) {
        problems.push({
          kind: 'brokenLink',
          databaseId,
          artifact: info.name,
          after: candidate.tipName,
          expectedChecksum,
          actualChecksum,
          message: `DIFF artifact "${info.name}" starts at tx ${trailer.lowestTx} right after "${candidate.tipName}", but its parent checksum ${actualChecksum} differs from ${expectedChecksum}: it follows a different history`,
        });
        continue;
      }
      candidate.diffs.push(info);
      candidate.highestTx = trailer.highestTx;
      candidate.lastTxChecksum = trailer.lastTxChecksum;
      candidate.tipName = info.name;
      candidate.databaseName = header.databaseName;
      continue;
    }
    // The chain it would have continued: its parent's, else the one ending closest before it.
    const before = chains.filter((c) => c.highestTx < trailer.lowestTx).sort((a, b) => a.highestTx - b.highestTx).at(-1);
    const reference = chains.find((c) => parent !== null && (c.tipName === parent.artifactName || c.diffs.some((d) => d.name === parent.artifactName))) ?? before ?? newest;
    const expectedLowestTx = reference.highestTx + 1;
    const gap = trailer.lowestTx > expectedLowestTx;
    problems.push({
      kind: gap ? 'gap' : 'overlap',
      databaseId,
      artifact: info.name,
      after: reference.tipName,
      expectedLowestTx,
      lowestTx: trailer.lowestTx,
      message: gap
        ? `DIFF artifact "${info.name}" starts at tx ${trailer.lowestTx} but "${reference.tipName}" ends at tx ${reference.highestTx}: transactions ${expectedLowestTx}..${trailer.lowestTx - 1} are missing`
        : `DIFF artifact "${info.name}" starts at tx ${trailer.lowestTx}, inside the transactions up to ${reference.highestTx} that "${reference.tipName}" already covers`,
    });
  }
  return { chains, problems };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
