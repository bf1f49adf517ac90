/**
 * The one reader of what a target holds: every artifact's header and trailer (bounded concurrency),
 * the artifacts that cannot be read (with why), and the few transaction checksums inside DIFFs that
 * the chain model needs at join points (chain.ts, `joinQueries`). AUTO backup, restore,
 * aggregate-backup, check, `backup verify` and `--inspect-path` all start here, so they all see the
 * same folder the same way.
 */
import type { BackupTarget } from '../../targets/target.js';
import { RecordStreamParser } from '../../txlog/record-stream.js';
import { QuiverError, toQuiverError } from '../../util/errors.js';
import type { ArtifactInfo } from '../artifact/artifact-info.js';
import { readArtifactInfo, readPayload } from '../artifact/artifact-reader.js';
import { type Catalog, joinQueries, type UnreadableArtifact } from '../plan/chain.js';
import { mapOrdered } from '../compression/compression-queue.js';
import { inspectReadsInFlightMax } from '../limits.js';

export interface TargetCatalog extends Catalog {
  /** Where each artifact (by uri) lives: several --from-path values may be combined. */
  targetOf: ReadonlyMap<string, BackupTarget>;
}

export interface CatalogSource {
  target: BackupTarget;
  /** Read only these names (default: every artifact the target lists). */
  names?: readonly string[];
}

/** Header and trailer of each artifact; one that cannot be read is listed with its error, never thrown. */
export async function readInfos(sources: readonly CatalogSource[]): Promise<{ artifacts: ArtifactInfo[]; unreadable: UnreadableArtifact[]; targetOf: Map<string, BackupTarget> }> {
  const artifacts: ArtifactInfo[] = [];
  const unreadable: UnreadableArtifact[] = [];
  const targetOf = new Map<string, BackupTarget>();
  for (const { target, names } of sources) {
    const toRead = names ?? (await target.list()).map((e) => e.name);
    const readOne = async (name: string): Promise<ArtifactInfo | UnreadableArtifact> => {
      try {
        return await readArtifactInfo(target, name);
      } catch (e) {
        return { name, uri: target.uri(name), message: toQuiverError(e).message };
      }
    };
    for await (const one of mapOrdered(iterate(toRead), readOne, inspectReadsInFlightMax)) {
      if ('header' in one) {
        // The same artifact reached twice (a file and its folder) counts once.
        if (targetOf.has(one.uri)) continue;
        artifacts.push(one);
        targetOf.set(one.uri, target);
      } else if (!unreadable.some((u) => u.uri === one.uri)) unreadable.push(one);
    }
  }
  return { artifacts, unreadable, targetOf };
}

/**
 * The catalog of one or more targets. A DIFF whose records at the join points cannot be read is
 * moved to `unreadable`: the model then treats it as the damaged artifact it is.
 */
export async function readCatalog(sources: readonly CatalogSource[]): Promise<TargetCatalog> {
  const { artifacts, unreadable, targetOf } = await readInfos(sources);
  return withJoinPoints(artifacts, unreadable, targetOf);
}

/**
 * The catalog of artifacts whose headers and trailers were already read (`backup verify` reads them
 * while verifying): the join-point checksums added, a DIFF whose records there cannot be read moved
 * to `unreadable`.
 */
export async function withJoinPoints(artifacts: readonly ArtifactInfo[], unreadableBefore: readonly UnreadableArtifact[], targetOf: ReadonlyMap<string, BackupTarget>): Promise<TargetCatalog> {
  const unreadable = [...unreadableBefore];
  const checksumsInside = new Map<string, Map<number, number>>();
  const damaged = new Set<string>();
  for (const [uri, txs] of joinQueries(artifacts)) {
    const info = artifacts.find((a) => a.uri === uri)!;
    try {
      checksumsInside.set(uri, await checksumsAt(targetOf.get(uri)!, info, txs));
    } catch (e) {
      damaged.add(uri);
      unreadable.push({ name: info.name, uri, message: toQuiverError(e).message });
    }
  }
  return { artifacts: artifacts.filter((a) => !damaged.has(a.uri)), unreadable, checksumsInside, targetOf };
}

/** The chain checksums of transactions `txs` (sorted, inside the DIFF's range), reading its records only as far as the last. */
async function checksumsAt(target: BackupTarget, info: ArtifactInfo, txs: readonly number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  const wanted = new Set(txs);
  const last = txs.at(-1)!;
  const parser = new RecordStreamParser(info.trailer.lowestTx, info.header.parent?.lastTxChecksum ?? 0);
  try {
    for await (const chunk of readPayload(target, info.name, { info })) {
      for (const { record } of parser.push(chunk)) {
        if (wanted.has(record.txId)) out.set(record.txId, record.chainCrc);
        if (record.txId >= last) return out;
      }
    }
  } catch (e) {
    if (e instanceof QuiverError) throw e;
    throw new QuiverError('ArtifactCorrupt', `artifact "${info.name}" is corrupt: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  throw new QuiverError('ArtifactCorrupt', `artifact "${info.name}" is corrupt: its records end before tx ${last}, which its trailer says it holds`);
}

async function* iterate<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}
