/**
 * Chooses what a restore reads: which database, which path of artifacts, up to which transaction.
 * Pure, over a catalog (headers, trailers and join-point checksums only), so a bad request fails
 * before anything is written. The chain rules themselves live in chain.ts; this module adds what a
 * restore asks of them: a database to pick, --restore-until, a named artifact, and when to refuse.
 */
import { QuiverError } from '../../util/errors.js';
import { compareText } from '../../util/compare-text.js';
import type { ArtifactInfo } from '../artifact/artifact-info.js';
import { analyseChain, type Catalog, compareByTime, explainUnreachable, forkHint, isEmptyDiff, type LeftOut } from './chain.js';
import type { RestoreUntil } from './restore-until.js';

export interface RestoreStep {
  /** Source database name (from the artifacts). */
  sourceDatabase: string;
  databaseId: string;
  /** FULL first, then the DIFFs to replay, in order; a DIFF may start inside what the one before covers. */
  artifacts: ArtifactInfo[];
  /** Highest transaction the chosen artifacts hold. */
  chainHighestTx: number;
  /** --restore-until was given and lies within the chosen artifacts: nothing after them is needed. */
  pointInChain: boolean;
  /** Every artifact of the database that is not read, with the reason. */
  leftOut: LeftOut[];
}

export interface RestoreRequest {
  catalog: Catalog;
  /** When --from-path named exactly one artifact file: its name. */
  namedArtifact: string | undefined;
  sourceDatabase: string | undefined;
  /**
   * The name to restore as, when given. A folder with several databases needs one chosen; when this
   * is one of them and --source-database is absent, it is the obvious choice.
   */
  targetName?: string | undefined;
  until: RestoreUntil | null;
}

function beforePoint(full: ArtifactInfo, until: RestoreUntil | null): boolean {
  if (!until) return true;
  const t = full.trailer;
  return until.kind === 'tx' ? t.highestTx < until.txId : t.highestTxCommitTimeMs < until.epochMs;
}

export function planRestore(req: RestoreRequest): RestoreStep {
  const { catalog } = req;
  if (catalog.artifacts.length === 0) {
    if (catalog.unreadable.length > 0) {
      throw new QuiverError('ChainBroken', `no readable backup artifact at --from-path; skipped ${catalog.unreadable.length} unreadable artifact(s): ${catalog.unreadable.map((u) => u.message).join('; ')}`, {
        hint: 'the full artifact and every differential after it must be in the same folder',
      });
    }
    throw new QuiverError('TargetInvalid', 'no backup artifacts found at --from-path', { hint: 'pass a .backup file or a folder that holds them' });
  }
  return req.namedArtifact ? planNamed(req, req.namedArtifact) : planFolder(req);
}

/** --from-path named one artifact: restore up to it (an empty DIFF: up to the artifact it followed). */
function planNamed(req: RestoreRequest, fileName: string): RestoreStep {
  const { catalog } = req;
  let named = catalog.artifacts.find((i) => i.name === fileName);
  if (!named) {
    const bad = catalog.unreadable.find((u) => u.name === fileName);
    throw new QuiverError('ArtifactCorrupt', bad ? bad.message : `artifact "${fileName}" cannot be read`);
  }
  if (isEmptyDiff(named)) {
    const parentName = named.header.parent?.artifactName;
    const parent = catalog.artifacts.find((a) => a.name === parentName && a.header.databaseId === named!.header.databaseId);
    if (!parent) {
      throw new QuiverError('ChainBroken', `cannot restore "${named.name}": it holds no transactions and the artifact it followed ("${parentName}") is not in the folder`, {
        hint: 'name the artifact it followed, or restore the folder',
      });
    }
    named = parent;
  }
  const analysis = analyseChain(catalog, { databaseName: named.header.databaseName, endAt: named, rootAccepts: (f) => beforePoint(f, req.until) || f === named });
  if (!analysis) {
    const without = req.until ? analyseChain(catalog, { databaseName: named.header.databaseName, endAt: named }) : null;
    if (without) throw fullAfterPoint(without.root);
    throw new QuiverError('ChainBroken', `cannot restore "${named.name}": ${explainUnreachable(catalog, named)}`, {
      hint: 'the full artifact and every differential before it must be in the same folder',
    });
  }
  return finish(req, analysis.databaseName, analysis.databaseId, analysis.path, [], true);
}

function planFolder(req: RestoreRequest): RestoreStep {
  const { catalog, until } = req;
  const names = [...new Set(catalog.artifacts.map((a) => a.header.databaseName))].sort(compareText);
  const target = req.targetName?.toLowerCase();
  const chosen = req.sourceDatabase?.toLowerCase() ?? (names.length > 1 && target !== undefined && names.includes(target) ? target : undefined);
  if (chosen !== undefined && !names.includes(chosen)) {
    throw new QuiverError('TargetInvalid', `no backup chain of database "${req.sourceDatabase ?? chosen}" at --from-path (found: ${names.join(', ') || 'none'})`);
  }
  if (chosen === undefined && names.length > 1) {
    throw new QuiverError('UsageInvalid', `--from-path holds backups of several databases (${names.join(', ')})`, { hint: 'choose one with --source-database=<name>' });
  }
  const databaseName = chosen ?? names[0]!;
  const analysis = analyseChain(catalog, { databaseName, rootAccepts: (f) => beforePoint(f, until) });
  if (!analysis) {
    const fulls = catalog.artifacts.filter((a) => a.header.databaseName === databaseName && a.header.kind === 'FULL').sort(compareByTime);
    const first = fulls[0];
    if (first && until) throw fullAfterPoint(first);
    const orphan = catalog.artifacts.find((a) => a.header.databaseName === databaseName);
    const unreadable = catalog.unreadable.length > 0 ? `; skipped ${catalog.unreadable.length} unreadable artifact(s): ${catalog.unreadable.map((u) => u.message).join('; ')}` : '';
    throw new QuiverError('ChainBroken', `no backup chain at --from-path starts with a full artifact${orphan ? `: ${explainUnreachable(catalog, orphan)}` : ''}${unreadable}`, {
      hint: 'the full artifact and every differential after it must be in the same folder',
    });
  }
  const { tip } = analysis;
  if (analysis.forks.length > 0) {
    const fork = analysis.forks[0]!;
    throw new QuiverError('ChainBroken', `cannot restore database "${databaseName}" from this folder: ${fork.message}`, { hint: forkHint(tip.artifact.name) });
  }
  // The requested point (or, without one, the newest data) lies beyond what the path reaches.
  const wantsMore = !until || (until.kind === 'tx' ? until.txId > tip.tx + 1 : until.epochMs > tip.commitTimeMs);
  if (wantsMore) {
    // A newer FULL lies after the point: the transactions between the path's end and it are in no DIFF.
    const next = until
      ? catalog.artifacts.filter((a) => a.header.kind === 'FULL' && a.header.databaseId === analysis.databaseId && compareByTime(a, analysis.root) > 0 && a.trailer.highestTx > tip.tx).sort(compareByTime)[0]
      : undefined;
    if (next) {
      throw new QuiverError('ChainBroken', `cannot restore to the requested point: the chain ending at "${tip.artifact.name}" stops at tx ${tip.tx} and the next full artifact "${next.name}" already contains tx ${next.trailer.highestTx}; transactions ${tip.tx + 1}..${next.trailer.highestTx} are in no differential artifact`, {
        hint: `use --restore-until=${tip.tx + 1} or earlier, or ${next.trailer.highestTx + 1} or later`,
      });
    }
    const hiding = analysis.leftOut.find((l) => l.hidesNewer);
    if (hiding) {
      throw new QuiverError(hiding.kind === 'unreadable' ? 'ArtifactCorrupt' : 'ChainBroken',
        hiding.kind === 'unreadable'
          ? `cannot restore database "${req.targetName ?? databaseName}": artifact "${hiding.name}" may belong to the chain being restored but ${hiding.reason.replace(/^it /, '')}`
          : `the backup chain of "${databaseName}" is broken: ${hiding.reason}`,
        hiding.hint ? { hint: hiding.hint } : {});
    }
  }
  return finish(req, analysis.databaseName, analysis.databaseId, analysis.path, analysis.leftOut, !wantsMore);
}

/** Leaves out DIFFs that hold only transactions at or after the point: they are not read. */
function finish(req: RestoreRequest, sourceDatabase: string, databaseId: string, path: ArtifactInfo[], leftOut: LeftOut[], pointInChainIfUntil: boolean): RestoreStep {
  const until = req.until;
  // What each DIFF adds starts after what the artifact before it ends at (a DIFF may overlap it).
  const needed = until
    ? path.filter((a, i) => i === 0 || (until.kind === 'tx' ? path[i - 1]!.trailer.highestTx + 1 < until.txId : path[i - 1]!.trailer.highestTxCommitTimeMs < until.epochMs))
    : path;
  const notRead = path.filter((a) => !needed.includes(a)).map((a) => ({ name: a.name, uri: a.uri, kind: 'afterPoint' as const, reason: 'not needed: it holds only transactions at or after the point of --restore-until', hidesNewer: false }));
  return {
    sourceDatabase,
    databaseId,
    artifacts: needed,
    chainHighestTx: needed.at(-1)!.trailer.highestTx,
    pointInChain: until !== null && pointInChainIfUntil,
    leftOut: [...leftOut, ...notRead],
  };
}

function fullAfterPoint(full: ArtifactInfo): QuiverError {
  return new QuiverError('ChainBroken', `cannot restore to the requested point: the full artifact "${full.name}" already contains transaction ${full.trailer.highestTx} (committed ${new Date(full.trailer.highestTxCommitTimeMs).toISOString()}), after the requested point`, {
    hint: 'use an older full backup, or a later --restore-until',
  });
}
