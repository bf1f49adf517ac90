/**
 * Generates a large store quickly through the kernel API in-process (no Bolt): big write
 * transactions of `nodesPerTx` person nodes with several properties and half as many
 * relationships, until data.mdb reaches the requested size. The server of that home must be
 * stopped while this runs (one process owns a database's transaction log).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Database, defaultDatabaseSettings } from '../../src/kernel/database.js';
import type { PropertyValue } from '../../src/values/value.js';
import { xorshift32 } from '../../src/util/seeded-random.js';

/**
 * Nodes per write transaction: large transactions amortise the commit (log append, fsync, LMDB
 * commit). 10k nodes make log records of about 2.5 MB. Records over 4 MiB are not used on purpose:
 * the log's segment scanner reads 4 MiB ahead once, so such a record at the start of a segment is
 * reported as a torn tail on the next start (the database then fails to start, or drops that
 * acknowledged transaction); reported with a reproduction, see docs/performance.md.
 */
export const generationNodesPerTx = 10_000;

export interface GeneratedStore {
  storeBytes: number;
  nodes: number;
  relationships: number;
  transactions: number;
  ms: number;
  lastTxId: number;
}

const cities = ['Lisbon', 'Oslo', 'Quito', 'Nairobi', 'Osaka', 'Tucson', 'Leeds', 'Hanoi', 'Perth', 'Recife'];
const words = ['graph', 'backup', 'restore', 'ledger', 'river', 'quartz', 'maple', 'signal', 'harbor', 'violet', 'copper', 'meadow', 'orbit', 'cinder', 'falcon', 'lumen'];

export async function generateStore(
  home: { storeDir(db: string): string; logDir(db: string): string },
  database: string,
  targetBytes: number,
  progress: (line: string) => void,
): Promise<GeneratedStore> {
  const storeDir = home.storeDir(database);
  const db = Database.open(database, { storeDir, logDir: home.logDir(database) }, defaultDatabaseSettings, (m) => progress(`warning: ${m}`));
  const next = xorshift32(0x5eed);
  const pick = <T>(list: readonly T[]): T => list[next() % list.length]!;
  const started = performance.now();
  let nodes = 0;
  let relationships = 0;
  let transactions = 0;
  let lastTxId = 0;
  let storeBytes = 0;
  let lastReportMs = started;
  try {
    while ((storeBytes = statSync(join(storeDir, 'data.mdb')).size) < targetBytes) {
      const tx = await db.beginWrite();
      const ids: number[] = [];
      for (let i = 0; i < generationNodesPerTx; i++) {
        const n = nodes + i;
        const bioWords = 6 + (next() % 8);
        const bio: string[] = [];
        for (let w = 0; w < bioWords; w++) bio.push(pick(words));
        const props = new Map<string, PropertyValue>([
          ['name', `person-${n}-${(next() % 100_000).toString(36)}`],
          ['email', `p${n}@example.org`],
          ['age', BigInt(18 + (next() % 70))],
          ['score', (next() % 1_000_000) / 1000],
          ['city', pick(cities)],
          ['active', next() % 4 !== 0],
          ['bio', bio.join(' ')],
        ]);
        ids.push(tx.createNode(n % 3 === 0 ? ['Person', 'Customer'] : ['Person'], props));
      }
      for (let i = 1; i < ids.length; i += 2) {
        const other = ids[next() % i]!;
        tx.createRelationship('KNOWS', ids[i]!, other, new Map<string, PropertyValue>([['since', BigInt(1990 + (next() % 35))]]));
        relationships++;
      }
      lastTxId = (await tx.commit()).txId;
      nodes += generationNodesPerTx;
      transactions++;
      const now = performance.now();
      if (now - lastReportMs > 10_000) {
        lastReportMs = now;
        progress(`  generating: ${(storeBytes / 1024 / 1024).toFixed(0)} of ${(targetBytes / 1024 / 1024).toFixed(0)} MiB, ${nodes} nodes, ${((now - started) / 1000).toFixed(0)} s`);
      }
    }
  } finally {
    await db.close();
  }
  storeBytes = statSync(join(storeDir, 'data.mdb')).size;
  return { storeBytes, nodes, relationships, transactions, ms: performance.now() - started, lastTxId };
}
