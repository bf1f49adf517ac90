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
}

export interface RestoreRequest {
  /** Every artifact found at --from-path. */
  infos: ArtifactInfo[];
  /** When --from-path named exactly one artifact file: its name. */
  namedArtifact: string | undefined;
  sourceDatabase: string | undefined;
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
    endAt = named.header.kind === 'DIFF' && !(named.trailer.highestTx === 0) ? named.name : undefined;
  } else {
    const names = [...new Set(chains.map((c) => c.databaseName))];
    if (req.sourceDatabase) {
      chains = chains.filter((c) => c.databaseName === req.sourceDatabase!.toLowerCase());
      if (chains.length === 0) {
        throw new QuiverError('TargetInvalid', `no backup chain of database "${req.sourceDatabase}" at --from-path (found: ${names.join(', ') || 'none'})`);
      }
    } else if (names.length > 1) {
      throw new QuiverError('UsageInvalid', `--from-path holds backups of several databases (${names.join(', ')})`, { hint: 'choose one with --source-database=<name>' });
    }
  }
  const brokenHere = report.problems.filter((p) => chains.some((c) => c.databaseId === p.databaseId));
  // Newest chain (by its full's time) whose full lies before the restore point.
  const usable = chains.filter((c) => fullCovers(c, req.until));
  const chain = usable.at(-1);
  if (!chain) {
    const first = chains[0];
    const detail = first && req.until ? `the full artifact "${first.full.name}" already contains transaction ${first.full.trailer.highestTx} (committed ${new Date(first.full.trailer.highestTxCommitTimeMs).toISOString()}), after the requested point` : 'no chain starts with a full artifact';
    throw new QuiverError('ChainBroken', `cannot restore to the requested point: ${detail}`, { hint: 'use an older full backup, or a later --restore-until' });
  }
  let diffs = chain.diffs;
  if (endAt) {
    const i = diffs.findIndex((d) => d.name === endAt);
    diffs = diffs.slice(0, i + 1);
  }
  if (brokenHere.length && !endAt && !req.until) {
    // Artifacts after the chain that could not join it: the newest data may be unreachable.
    const newer = brokenHere.filter((p) => p.kind === 'gap' || p.kind === 'brokenLink');
    if (newer.length) {
      throw new QuiverError('ChainBroken', `the backup chain of "${chain.databaseName}" is broken: ${newer[0]!.message}`, {
        hint: `restore up to "${chain.tipName}" by naming it in --from-path, or find the missing artifact`,
      });
    }
  }
  const artifacts = [chain.full, ...diffs];
  return { sourceDatabase: chain.databaseName, databaseId: chain.databaseId, artifacts, chainHighestTx: artifacts.at(-1)!.trailer.highestTx };
}
