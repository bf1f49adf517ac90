/**
 * The one model of backup chains. Every command that asks "what does this folder hold" asks it here:
 * AUTO backup (where the next DIFF starts), restore (with and without --restore-until or a named
 * artifact), aggregate-backup, check, `backup verify`. Pure: it works on a catalog (catalog.ts reads
 * one) and never touches a file.
 *
 * The model is a graph. A point is a transaction and its chain checksum (tx, checksum); equal points
 * mean the same history up to that transaction. A FULL artifact starts at nothing and ends at its
 * point. A DIFF continues a point when it starts right after it with the same parent checksum, or
 * when it starts inside the transactions already covered and its own record at that point carries the
 * same checksum (the catalog reads those records for exactly the points that can matter; the records
 * already applied are skipped on restore). From the root FULL, every DIFF that continues a reached
 * point is followed; the path to the highest point reached is what a restore replays.
 *
 * Nothing is chosen silently: two reached points at one transaction with different checksums are a
 * fork (refused unless an artifact is named); every artifact off the path is listed with the reason,
 * and marked when it holds, or may hold, transactions past the path's end.
 */
import { compareText } from '../../util/compare-text.js';
import type { ArtifactInfo } from '../artifact/artifact-info.js';
import { artifactNameStamp, parseArtifactFileName } from '../artifact/artifact-name.js';
import { holdsNoTransaction } from '../artifact/artifact-trailer.js';

/** A transaction and its chain checksum: one state of one history. */
export interface TxPoint {
  tx: number;
  checksum: number;
}

export interface UnreadableArtifact {
  name: string;
  uri: string;
  message: string;
}

/** What a target holds, as the model needs it. Read by catalog.ts; built by hand in tests. */
export interface Catalog {
  artifacts: readonly ArtifactInfo[];
  unreadable: readonly UnreadableArtifact[];
  /** Artifact uri → (tx → chain checksum of that transaction inside the DIFF), for the points `joinQueries` names. */
  checksumsInside: ReadonlyMap<string, ReadonlyMap<number, number>>;
}

/** False for an empty DIFF (taken when the database had nothing new): it carries no transaction. */
export function holdsTransactions(info: ArtifactInfo): boolean {
  return !holdsNoTransaction(info.trailer) || info.header.kind === 'FULL';
}

export function isEmptyDiff(info: ArtifactInfo): boolean {
  return !holdsTransactions(info);
}

export function endPoint(info: ArtifactInfo): TxPoint {
  return { tx: info.trailer.highestTx, checksum: info.trailer.lastTxChecksum };
}

/** The point a non-empty DIFF follows (its header's parent link). */
function parentPoint(diff: ArtifactInfo): TxPoint {
  return { tx: diff.trailer.lowestTx - 1, checksum: diff.header.parent?.lastTxChecksum ?? 0 };
}

/** Oldest first: backup time, then file name (names sort in time order). */
export function compareByTime(a: ArtifactInfo, b: ArtifactInfo): number {
  return compareText(a.header.createdAt, b.header.createdAt) || compareText(a.name, b.name);
}

/**
 * For each DIFF (by uri), the transactions inside it whose checksums the model needs: the end of any
 * artifact of the same database, or the point any DIFF follows, that lies in the DIFF's range but is
 * not its last transaction. A folder of contiguous DIFFs needs none; siblings, overlaps and copies
 * from another history need a few.
 */
export function joinQueries(artifacts: readonly ArtifactInfo[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const byId = groupBy(artifacts.filter(holdsTransactions), (a) => a.header.databaseId);
  for (const group of byId.values()) {
    const interesting = new Set<number>();
    for (const a of group) {
      interesting.add(a.trailer.highestTx);
      if (a.header.kind === 'DIFF') interesting.add(a.trailer.lowestTx - 1);
    }
    for (const d of group) {
      if (d.header.kind !== 'DIFF') continue;
      const txs = [...interesting].filter((t) => t >= d.trailer.lowestTx && t < d.trailer.highestTx).sort((x, y) => x - y);
      if (txs.length > 0) out.set(d.uri, txs);
    }
  }
  return out;
}

/** Why an artifact is not on the path. */
export type LeftOutKind =
  /** Reached from the root, same history, but the path does not need it. */
  | 'covered'
  /** An empty DIFF. */
  | 'empty'
  /** Another database id of the same name (the database was recreated). */
  | 'otherDatabaseId'
  /** A FULL older than the root (or a newer one the request cannot use). */
  | 'otherFull'
  /** A DIFF that continues another FULL than the root (an older chain, or a newer one the request cannot use). */
  | 'otherChain'
  /** Older than the root and from a history the database left (it was restored to an earlier state). */
  | 'earlierHistory'
  /** Newer than the root and from another history: a fork. */
  | 'otherHistory'
  /** Cannot be linked: transactions before it are missing. */
  | 'gap'
  | 'unreadable'
  /** --restore-until: it holds only transactions at or after the point. */
  | 'afterPoint';

export interface LeftOut {
  name: string;
  uri: string;
  kind: LeftOutKind;
  reason: string;
  /**
   * It holds, or may hold, transactions past the end of the path: a restore that wants the newest
   * state must refuse rather than stop short. A restore to a point inside the path may ignore it.
   */
  hidesNewer: boolean;
  /** What to do about it, when it hides newer transactions. */
  hint?: string;
}

/** Two histories reachable from the root. */
export interface Fork {
  tx: number;
  branches: [string, string];
  message: string;
}

export interface ChainAnalysis {
  databaseName: string;
  databaseId: string;
  root: ArtifactInfo;
  /** The root FULL, then the DIFFs to replay, each continuing the point the one before ends at. */
  path: ArtifactInfo[];
  /** The point the path ends at (the highest reached), and the artifact that ends there. */
  tip: TxPoint & { commitTimeMs: number; artifact: ArtifactInfo };
  forks: Fork[];
  /** Every artifact of the database (by name or id, as requested) that is not on the path. */
  leftOut: LeftOut[];
}

export interface ChainRequest {
  /** Restore, aggregate, check: the artifacts of this database name (several ids possible: the newest root decides). */
  databaseName?: string;
  /** AUTO backup: the artifacts of the server's database id, whatever their name. */
  databaseId?: string;
  /** Only these FULLs may start the path (--restore-until: those before the point). */
  rootAccepts?: (full: ArtifactInfo) => boolean;
  /** End the path at this artifact's end point (--from-path naming an artifact). */
  endAt?: ArtifactInfo;
}

/** The chain a request selects, or null when no FULL can start it (see `explainUnreachable`). */
export function analyseChain(catalog: Catalog, req: ChainRequest): ChainAnalysis | null {
  const members = catalog.artifacts.filter((a) =>
    req.databaseId !== undefined ? a.header.databaseId === req.databaseId : a.header.databaseName === req.databaseName);
  const name = req.databaseName ?? members.slice().sort(compareByTime).at(-1)?.header.databaseName ?? '';
  let roots = members.filter((a) => a.header.kind === 'FULL').sort(compareByTime).reverse();
  if (req.endAt) roots = roots.filter((f) => f.header.databaseId === req.endAt!.header.databaseId);
  if (req.rootAccepts) roots = roots.filter(req.rootAccepts);

  let root: ArtifactInfo | undefined;
  let graph: Graph | undefined;
  let target: string | undefined;
  if (req.endAt?.header.kind === 'FULL') {
    root = req.endAt;
    graph = explore(root, [], catalog);
    target = pointKey(endPoint(root));
  } else if (req.endAt) {
    const want = pointKey(endPoint(req.endAt));
    for (const candidate of roots) {
      const g = explore(candidate, members.filter((a) => a.header.databaseId === candidate.header.databaseId), catalog);
      if (g.prev.has(want)) {
        root = candidate;
        graph = g;
        target = want;
        break;
      }
    }
  } else if (roots[0]) {
    root = roots[0];
    graph = explore(root, members.filter((a) => a.header.databaseId === root!.header.databaseId), catalog);
  }
  if (!root || !graph) return null;
  // Which other FULL each DIFF off this root's graph continues: the reason it is left out.
  const otherRoots = new Map<string, ArtifactInfo>();
  for (const other of members.filter((a) => a.header.kind === 'FULL' && a !== root && a.header.databaseId === root!.header.databaseId).sort(compareByTime).reverse()) {
    for (const uri of explore(other, members.filter((a) => a.header.databaseId === root!.header.databaseId), catalog).reachedUris) {
      if (uri !== other.uri && !otherRoots.has(uri)) otherRoots.set(uri, other);
    }
  }

  const tipKey = target ?? highestReached(graph);
  const path = pathTo(graph, tipKey);
  const tipArtifact = path.at(-1)!;
  const tipPoint = parseKey(tipKey);
  const onPath = new Set(path.map((a) => a.uri));
  const analysis: ChainAnalysis = {
    databaseName: req.databaseId !== undefined ? name : (req.databaseName ?? name),
    databaseId: root.header.databaseId,
    root,
    path,
    tip: { ...tipPoint, commitTimeMs: tipArtifact.trailer.highestTxCommitTimeMs, artifact: tipArtifact },
    forks: req.endAt ? [] : [...graph.forks],
    leftOut: [],
  };
  for (const a of members.slice().sort(compareByTime)) {
    if (onPath.has(a.uri)) continue;
    const left = classify(a, analysis, graph, catalog, otherRoots.get(a.uri));
    if (left.fork && !req.endAt) analysis.forks.push(left.fork);
    analysis.leftOut.push(req.endAt ? { ...left.leftOut, hidesNewer: false } : left.leftOut);
  }
  for (const u of catalog.unreadable) {
    const parsed = parseArtifactFileName(u.name);
    if (parsed?.databaseName !== analysis.databaseName) continue;
    // Its name carries the second it was taken in (its header cannot be read). One from the root's
    // second or later may hold the newest transactions. Not the name order: an aggregated FULL is
    // dated at the artifact it ends with but named with the next free suffix of that second.
    const newer = compareText(parsed.stamp, artifactNameStamp(new Date(root.header.createdAt))) >= 0;
    analysis.leftOut.push({
      name: u.name,
      uri: u.uri,
      kind: 'unreadable',
      reason: `it cannot be read: ${u.message}`,
      hidesNewer: newer && !req.endAt,
      hint: 'move it out of the folder to restore without it, or name the artifact to restore up to in --from-path',
    });
  }
  return analysis;
}

/** Why no FULL reaches `info` (a DIFF): the message restore and aggregate give when it is named. */
export function explainUnreachable(catalog: Catalog, info: ArtifactInfo): string {
  if (info.header.kind === 'FULL') return `full artifact "${info.name}" cannot be used`;
  const sameId = catalog.artifacts.filter((a) => a.header.databaseId === info.header.databaseId);
  const roots = sameId.filter((a) => a.header.kind === 'FULL').sort(compareByTime).reverse();
  if (roots.length === 0) return `DIFF artifact "${info.name}" has no FULL artifact of database id ${info.header.databaseId} before it`;
  // Against the newest root that reaches the furthest below it.
  let best: { graph: Graph; root: ArtifactInfo } | undefined;
  for (const r of roots) {
    const g = explore(r, sameId, catalog);
    if (!best || maxTx(g) > maxTx(best.graph)) best = { graph: g, root: r };
  }
  return unreachableReason(info, best!.graph, catalog).message;
}

// ---- the graph ----

interface Graph {
  /** Reached end points (key) → the point it was reached from (null for the root) and the artifact that leads there. */
  prev: Map<string, { from: string | null; via: ArtifactInfo }>;
  /** Every point known on reached artifacts (ends and join points inside), by transaction. */
  known: Map<number, { checksum: number; by: ArtifactInfo }>;
  reachedUris: Set<string>;
  forks: Fork[];
}

function pointKey(p: TxPoint): string {
  return `${p.tx}:${p.checksum}`;
}

function parseKey(key: string): TxPoint {
  const [tx, checksum] = key.split(':');
  return { tx: Number(tx), checksum: Number(checksum) };
}

function insidePoints(catalog: Catalog, diff: ArtifactInfo): Array<[number, number]> {
  return [...(catalog.checksumsInside.get(diff.uri) ?? new Map<number, number>())];
}

/** Whether `diff` continues the state at point `p`. */
function continues(catalog: Catalog, diff: ArtifactInfo, p: TxPoint): boolean {
  const parent = parentPoint(diff);
  if (parent.tx === p.tx) return parent.checksum === p.checksum;
  if (p.tx >= diff.trailer.lowestTx && p.tx < diff.trailer.highestTx) return catalog.checksumsInside.get(diff.uri)?.get(p.tx) === p.checksum;
  return false;
}

function explore(root: ArtifactInfo, pool: readonly ArtifactInfo[], catalog: Catalog): Graph {
  const graph: Graph = { prev: new Map(), known: new Map(), reachedUris: new Set([root.uri]), forks: [] };
  const diffs = pool.filter((a) => a.header.kind === 'DIFF' && holdsTransactions(a)).sort(compareByTime);
  const note = (tx: number, checksum: number, by: ArtifactInfo): void => {
    const seen = graph.known.get(tx);
    if (!seen) graph.known.set(tx, { checksum, by });
    else if (seen.checksum !== checksum && !graph.forks.some((f) => f.tx === tx)) graph.forks.push(forkAt(tx, seen.by, by));
  };
  const start = endPoint(root);
  note(start.tx, start.checksum, root);
  graph.prev.set(pointKey(start), { from: null, via: root });
  // Breadth first, so the path to each point uses the fewest artifacts; older artifacts first on ties.
  const queue: TxPoint[] = [start];
  for (let i = 0; i < queue.length; i++) {
    const p = queue[i]!;
    for (const d of diffs) {
      if (!continues(catalog, d, p)) continue;
      graph.reachedUris.add(d.uri);
      for (const [tx, checksum] of insidePoints(catalog, d)) note(tx, checksum, d);
      const end = endPoint(d);
      note(end.tx, end.checksum, d);
      const key = pointKey(end);
      if (!graph.prev.has(key)) {
        graph.prev.set(key, { from: pointKey(p), via: d });
        queue.push(end);
      }
    }
  }
  return graph;
}

function forkAt(tx: number, a: ArtifactInfo, b: ArtifactInfo): Fork {
  return {
    tx,
    branches: [a.name, b.name],
    message: `the artifacts fork into two histories at tx ${tx}: "${a.name}" and "${b.name}" disagree about it`,
  };
}

function maxTx(g: Graph): number {
  return Math.max(...[...g.prev.keys()].map((k) => parseKey(k).tx));
}

/** The reached end point with the highest transaction (the first reached, on a tie). */
function highestReached(g: Graph): string {
  let best: string | undefined;
  for (const key of g.prev.keys()) if (best === undefined || parseKey(key).tx > parseKey(best).tx) best = key;
  return best!;
}

function pathTo(g: Graph, key: string): ArtifactInfo[] {
  const path: ArtifactInfo[] = [];
  for (let k: string | null = key; k !== null; ) {
    const step: { from: string | null; via: ArtifactInfo } = g.prev.get(k)!;
    path.push(step.via);
    k = step.from;
  }
  return path.reverse();
}

// ---- artifacts off the path ----

function classify(a: ArtifactInfo, analysis: ChainAnalysis, g: Graph, catalog: Catalog, otherRoot: ArtifactInfo | undefined): { leftOut: LeftOut; fork?: Fork } {
  const base = { name: a.name, uri: a.uri };
  const { root, tip } = analysis;
  const olderThanRoot = compareByTime(a, root) < 0;
  if (a.header.databaseId !== root.header.databaseId) {
    return { leftOut: { ...base, kind: 'otherDatabaseId', reason: `it belongs to database id ${a.header.databaseId}, not ${root.header.databaseId} of the newest full artifact "${root.name}" (the database was recreated)`, hidesNewer: false } };
  }
  if (isEmptyDiff(a)) return { leftOut: { ...base, kind: 'empty', reason: 'it holds no transactions (nothing was new when it was taken)', hidesNewer: false } };
  if (g.reachedUris.has(a.uri)) {
    return { leftOut: { ...base, kind: 'covered', reason: `not needed: its transactions are also in ${quoteList(analysis.path.map((p) => p.name))}`, hidesNewer: false } };
  }
  const end = endPoint(a);
  if (a.header.kind === 'FULL') {
    const seen = g.known.get(end.tx);
    if (seen?.checksum === end.checksum) return { leftOut: { ...base, kind: 'covered', reason: `not needed: the chosen artifacts reach the same state (tx ${end.tx})`, hidesNewer: false } };
    if (olderThanRoot) {
      const why = seen ? `it disagrees with "${seen.by.name}" about tx ${end.tx}: it holds an earlier history` : `an older full artifact; the newest chain starts at "${root.name}"`;
      return { leftOut: { ...base, kind: seen ? 'earlierHistory' : 'otherFull', reason: why, hidesNewer: false } };
    }
    return { leftOut: { ...base, kind: 'otherFull', reason: `a newer full artifact, not usable for this request (it holds tx ${end.tx}, committed ${isoTime(a.trailer.highestTxCommitTimeMs)})`, hidesNewer: false } };
  }
  const why = unreachableReason(a, g, catalog);
  if (why.conflict) {
    if (olderThanRoot) return { leftOut: { ...base, kind: 'earlierHistory', reason: `${why.message}; it is older than "${root.name}" and belongs to an earlier history`, hidesNewer: false } };
    const fork: Fork = { tx: why.conflict.tx, branches: [why.conflict.with, a.name], message: why.message };
    return { leftOut: { ...base, kind: 'otherHistory', reason: why.message, hidesNewer: true, hint: forkHint(analysis.tip.artifact.name) }, fork };
  }
  if (why.covered) return { leftOut: { ...base, kind: 'covered', reason: why.message, hidesNewer: false } };
  if (otherRoot) {
    const which = compareByTime(otherRoot, root) < 0 ? 'the older full artifact' : 'the full artifact';
    return { leftOut: { ...base, kind: 'otherChain', reason: `it continues ${which} "${otherRoot.name}", not "${root.name}"`, hidesNewer: false } };
  }
  if (end.tx <= tip.tx) return { leftOut: { ...base, kind: 'gap', reason: why.message, hidesNewer: false } };
  if (olderThanRoot) {
    // A FULL taken later ends at an earlier transaction: the server had been restored to an earlier
    // state, so what this artifact holds past that point is a history the database left.
    return { leftOut: { ...base, kind: 'earlierHistory', reason: `${why.message}; it is older than "${root.name}", which ends at tx ${root.trailer.highestTx}: it belongs to an earlier history`, hidesNewer: false } };
  }
  return { leftOut: { ...base, kind: 'gap', reason: why.message, hidesNewer: true, hint: `restore up to "${tip.artifact.name}" by naming it in --from-path, or find the missing artifact` } };
}

export function forkHint(tipName: string): string {
  return `name the artifact to restore up to in --from-path (for example "${tipName}"), or move the branch you do not want out of the folder`;
}

function unreachableReason(a: ArtifactInfo, g: Graph, catalog: Catalog): { message: string; conflict?: { tx: number; with: string }; covered?: true } {
  const points: Array<[number, number]> = [[parentPoint(a).tx, parentPoint(a).checksum], ...insidePoints(catalog, a), [a.trailer.highestTx, a.trailer.lastTxChecksum]];
  for (const [tx, checksum] of points) {
    const seen = g.known.get(tx);
    if (seen && seen.checksum !== checksum) {
      return {
        message: `DIFF artifact "${a.name}" follows a different history: its chain checksum of tx ${tx} is ${checksum}, "${seen.by.name}" has ${seen.checksum}`,
        conflict: { tx, with: seen.by.name },
      };
    }
  }
  const seenEnd = g.known.get(a.trailer.highestTx);
  if (seenEnd) return { message: `not needed: "${seenEnd.by.name}" holds the same transactions (up to tx ${a.trailer.highestTx})`, covered: true };
  const below = [...g.prev.keys()].map(parseKey).filter((p) => p.tx < a.trailer.lowestTx).sort((x, y) => y.tx - x.tx)[0];
  const reached = below ? below.tx : 0;
  const reachedBy = below ? g.prev.get(pointKey(below))!.via.name : '';
  return {
    message: below
      ? `DIFF artifact "${a.name}" starts at tx ${a.trailer.lowestTx} but "${reachedBy}" ends at tx ${reached}: transactions ${reached + 1}..${a.trailer.lowestTx - 1} are missing`
      : `DIFF artifact "${a.name}" starts at tx ${a.trailer.lowestTx}, and no artifact before it can be linked to it`,
  };
}

function quoteList(names: string[]): string {
  return names.length <= 3 ? names.map((n) => `"${n}"`).join(', ') : `"${names[0]}" … "${names.at(-1)}" (${names.length} artifacts)`;
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
