/**
 * Child program of test/large-apply-crash.test.ts: creates a database with an index on :N(id),
 * commits one large transaction (nodes with an indexed property, relationships between them) and
 * prints its acknowledgement; the store then applies it in slices, and QUIVER_CRASH_POINT=
 * store.betweenApplySlices kills the process between two of them.
 *
 *   node dist/test/support/large-apply-writer.js <folder> <nodes>
 *
 * stdout lines:
 *   ack <txId>     the large transaction is durable (acknowledged); its apply starts just after
 */
import { join } from 'node:path';
import { Database, defaultDatabaseSettings, locateDatabase } from '../../src/kernel/database.js';

/** Also spelled out in test/large-apply-crash.test.ts, which must not import this module (it would run it). */
const databaseName = 'big';

async function main(): Promise<void> {
  const [folder, nodesText] = process.argv.slice(2);
  if (!folder || !nodesText) throw new Error('usage: large-apply-writer <folder> <nodes>');
  const nodes = Number(nodesText);
  const loc = locateDatabase(join(folder, 'data'), join(folder, 'data', 'transactions'), databaseName);
  const db = await Database.create(databaseName, loc, defaultDatabaseSettings, (m) => process.stderr.write(`warning: ${m}\n`));
  const schema = await db.beginWrite();
  schema.createIndex('n_id', 'N', 'id', false);
  await schema.commit();
  const tx = await db.beginWrite();
  const ids: number[] = [];
  for (let i = 0; i < nodes; i++) ids.push(tx.createNode(['N'], new Map<string, string | bigint>([['id', BigInt(i)], ['name', `name-${i}`]])));
  // Every other node points to the next one.
  for (let i = 0; i + 1 < nodes; i += 2) tx.createRelationship('NEXT', ids[i]!, ids[i + 1]!, new Map([['i', BigInt(i)]]));
  const { txId } = await tx.commit();
  process.stdout.write(`ack ${txId}\n`);
  // The store's apply timer does not keep a process alive: wait for the crash point here. Reaching
  // the end means the apply finished without pausing (exit code 3 tells the test).
  await db.applyCommitted();
  process.exit(3);
}

main().catch((e: unknown) => {
  process.stderr.write(`large-apply-writer failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
