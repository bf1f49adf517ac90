/**
 * Hand-made artifact descriptions for the pure planners' tests (chain model, AUTO plan, restore plan):
 * what readArtifactInfo would return, with transaction checksums from one pretend history per
 * `history` number. Each call is one minute later than the one before, so creation time follows
 * call order.
 */
import type { ArtifactInfo } from '../artifact/artifact-info.js';
import { databaseIdA } from '../artifact/artifact-test-fixtures.js';
import { type Catalog, joinQueries } from './chain.js';

/** The chain checksum the tests pretend transaction `tx` has in history `history` (a restored database has another). */
export function checksumOf(tx: number, history = 0): number {
  return ((tx + history * 7919) * 2654435761) >>> 0;
}

/** Commit time the tests pretend transaction `tx` has: one second apart from 2024-01-01. */
export function commitTimeOf(tx: number): number {
  return Date.UTC(2024, 0, 1) + tx * 1000;
}

export interface ArtifactOptions {
  databaseId?: string;
  databaseName?: string;
  /** Name of the artifact a DIFF follows (only empty DIFFs are linked by it). */
  parent?: string;
  parentHighestTx?: number;
  /** History of the transaction a DIFF follows (default: `history`). */
  parentHistory?: number;
  parentChecksum?: number;
  history?: number;
  /** Chain checksum of the last transaction (default: checksumOf(highestTx, history)). */
  checksum?: number;
}

let minute = 0;

export function artifact(name: string, kind: 'FULL' | 'DIFF', lowestTx: number, highestTx: number, o: ArtifactOptions = {}): ArtifactInfo {
  minute += 1;
  const empty = lowestTx === 0 && highestTx === 0;
  const parentTx = o.parentHighestTx ?? (empty ? 0 : lowestTx - 1);
  return {
    name,
    uri: `file:///backups/${name}`,
    sizeBytes: 1000,
    formatVersion: 1,
    headerCrc32: 0,
    header: {
      databaseName: o.databaseName ?? 'neo4j',
      databaseId: o.databaseId ?? databaseIdA,
      storeId: 'store-1',
      kind,
      compressed: true,
      compression: 'zstd',
      createdAt: new Date(Date.UTC(2024, 0, 2, 0, 0) + minute * 60_000).toISOString(),
      payloadFormat: kind === 'FULL' ? 'lmdb-pages-v1' : 'txlog-v1',
      parent: kind === 'FULL' ? null : {
        artifactName: o.parent ?? '',
        highestTx: parentTx,
        lastTxChecksum: o.parentChecksum ?? (empty ? 0 : checksumOf(parentTx, o.parentHistory ?? o.history)),
      },
      metadataCommands: [],
      includeMetadata: 'all',
      toolVersion: '0.1.0',
      blockRawBytes: 1 << 20,
    },
    trailer: {
      lowestTx,
      highestTx,
      highestTxCommitTimeMs: empty ? 0 : commitTimeOf(highestTx),
      txCount: empty ? 0 : highestTx - lowestTx + 1,
      payloadRawBytes: 0,
      payloadStoredBytes: 0,
      blockCount: 0,
      lastTxChecksum: o.checksum ?? (empty ? 0 : checksumOf(highestTx, o.history)),
      headerCrc32: 0,
      headerBytes: 100,
      sha256Hex: '00'.repeat(32),
    },
  };
}

/**
 * A catalog of `infos` with the join-point checksums the model asks for, taken from history 0
 * unless `inside` gives a DIFF's own (per DIFF name, per transaction).
 */
export function catalogOf(infos: ArtifactInfo[], inside: Record<string, Record<number, number>> = {}): Catalog {
  const checksumsInside = new Map<string, Map<number, number>>();
  for (const [uri, txs] of joinQueries(infos)) {
    const info = infos.find((i) => i.uri === uri)!;
    const own = inside[info.name] ?? {};
    checksumsInside.set(uri, new Map(txs.map((tx) => [tx, own[tx] ?? checksumOf(tx)])));
  }
  return { artifacts: infos, unreadable: [], checksumsInside };
}
