/**
 * Chooses what a restore reads: which chain, up to which artifact, for which database. Pure, over
 * artifact infos (header and trailer only), so a bad request fails before anything is written.
 */
import { QuiverError } from '../util/errors.js';
import type { ArtifactInfo } from './artifact-info.js';
import { buildChains, type Chain } from './chain.js';
import type { RestoreUntil } from './restore-until.js';

export interface RestoreStep {
  /** Source database name (from the artifacts). */
  sourceDatabase: string;
  databaseId: string;
  /** FULL first, then the DIFFs to replay, in order. */
  artifacts: ArtifactInfo[];
  /** Highest transaction the chosen artifacts hold. */
  chainHighestTx: number;
  /** --restore-until was given and lies within the chosen artifacts: nothing after them is needed. */
  pointInChain: boolean;
}

export interface RestoreRequest {
  /** Every artifact found at --from-path. */
  infos: ArtifactInfo[];
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

function fullCovers(chain: Chain, until: RestoreUntil | null): boolean {
  if (!until) return true;
  const t = chain.full.trailer;
  return until.kind === 'tx' ? t.highestTx < until.txId : t.highestTxCommitTimeMs < until.epochMs;
}

export function planRestore(req: RestoreRequest): RestoreStep {
  if (req.infos.length === 0) throw new QuiverError('TargetInvalid', 'no backup artifacts found at --from-path', { hint: 'pass a .backup file or a folder that holds them' });
  const report = buildChains(req.infos);
  let chains = report.chains;
  let endAt: string | undefined;
  if (req.namedArtifact) {
    const named = req.infos.find((i) => i.name === req.namedArtifact)!;
    chains = chains.filter((c) => c.full.name === named.name || c.diffs.some((d) => d.name === named.name) || c.emptyDiffs.some((d) => d.name === named.name));
    if (chains.length === 0) {
      const problem = report.problems.find((p) => p.artifact === named.name);
      throw new QuiverError('ChainBroken', `cannot restore "${named.name}": ${problem ? problem.message : 'no complete chain ends at it'}`, {
        hint: 'the full artifact and every differential before it must be in the same folder',
      });
    }
    // The chain ends at the named artifact: a FULL is restored on its own, a DIFF with the
    // artifacts before it, an empty DIFF like the artifact it was taken after.
    const empty = named.header.kind === 'DIFF' && named.trailer.highestTx === 0;
    endAt = empty ? named.header.parent?.artifactName : named.name;
  } else {
    const names = [...new Set(chains.map((c) => c.databaseName))];
    const target = req.targetName?.toLowerCase();
    const source = req.sourceDatabase ?? (names.length > 1 && target !== undefined && names.includes(target) ? target : undefined);
    if (source) {
      chains = chains.filter((c) => c.databaseName === source.toLowerCase());
      if (chains.length === 0) {
        throw new QuiverError('TargetInvalid', `no backup chain of database "${source}" at --from-path (found: ${names.join(', ') || 'none'})`);
      }
    } else if (names.length > 1) {
      throw new QuiverError('UsageInvalid', `--from-path holds backups of several databases (${names.join(', ')})`, { hint: 'choose one with --source-database=<name>' });
    }
  }
  const brokenHere = report.problems.filter((p) => chains.some((c) => c.databaseId === p.databaseId));
  // Newest chain (by its full's time) whose full lies before the restore point. buildChains orders
  // by database id first, so a recreated database (same name, new id) needs this explicit order.
  chains = [...chains].sort((a, b) => compareText(a.full.header.createdAt, b.full.header.createdAt));
  const usable = chains.filter((c) => fullCovers(c, req.until));
  const chain = usable.at(-1);
  if (!chain) {
    const first = chains[0];
    if (first && req.until) {
      throw new QuiverError('ChainBroken', `cannot restore to the requested point: the full artifact "${first.full.name}" already contains transaction ${first.full.trailer.highestTx} (committed ${new Date(first.full.trailer.highestTxCommitTimeMs).toISOString()}), after the requested point`, {
        hint: 'use an older full backup, or a later --restore-until',
      });
    }
    const orphan = report.problems.find((p) => p.kind === 'noFull');
    throw new QuiverError('ChainBroken', `no backup chain at --from-path starts with a full artifact${orphan ? `: ${orphan.message}` : ''}`, {
      hint: 'the full artifact and every differential after it must be in the same folder',
    });
  }
  let diffs = chain.diffs;
  if (endAt === chain.full.name) diffs = [];
  else if (endAt !== undefined && diffs.some((d) => d.name === endAt)) diffs = diffs.slice(0, diffs.findIndex((d) => d.name === endAt) + 1);
  const artifacts = [chain.full, ...diffs];
  const tip = artifacts.at(-1)!.trailer;
  // The requested point (or, without one, the newest data) lies beyond what this chain holds.
  const wantsMore = !endAt && (!req.until || (req.until.kind === 'tx' ? req.until.txId > tip.highestTx + 1 : req.until.epochMs > tip.highestTxCommitTimeMs));
  if (wantsMore) {
    // Artifacts after the chain that could not join it: the data they hold is unreachable.
    const highestOf = new Map(req.infos.map((i) => [i.name, i.trailer.highestTx]));
    const newer = brokenHere.filter((p) => (p.kind === 'gap' || p.kind === 'brokenLink') && (highestOf.get(p.artifact) ?? 0) > tip.highestTx);
    if (newer.length) {
      throw new QuiverError('ChainBroken', `the backup chain of "${chain.databaseName}" is broken: ${newer[0]!.message}`, {
        hint: `restore up to "${chain.tipName}" by naming it in --from-path, or find the missing artifact`,
      });
    }
    // A newer chain exists but its full artifact lies after the point: the transactions between
    // this chain's end and that full artifact are in no differential.
    const next = req.until ? chains.find((c) => c.databaseId === chain.databaseId && c.full.header.createdAt > chain.full.header.createdAt && c.full.trailer.highestTx > tip.highestTx) : undefined;
    if (next) {
      throw new QuiverError('ChainBroken', `cannot restore to the requested point: the chain ending at "${chain.tipName}" stops at tx ${tip.highestTx} and the next full artifact "${next.full.name}" already contains tx ${next.full.trailer.highestTx}; transactions ${tip.highestTx + 1}..${next.full.trailer.highestTx} are in no differential artifact`, {
        hint: `use --restore-until=${tip.highestTx + 1} or earlier, or ${next.full.trailer.highestTx + 1} or later`,
      });
    }
  }
  // Leave out differentials that hold only transactions at or after the point: they are not read.
  const until = req.until;
  const needed = until
    ? artifacts.filter((a, i) => i === 0 || (until.kind === 'tx' ? a.trailer.lowestTx < until.txId : artifacts[i - 1]!.trailer.highestTxCommitTimeMs < until.epochMs))
    : artifacts;
  return {
    sourceDatabase: chain.databaseName,
    databaseId: chain.databaseId,
    artifacts: needed,
    chainHighestTx: needed.at(-1)!.trailer.highestTx,
    pointInChain: until !== null && !wantsMore,
  };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
