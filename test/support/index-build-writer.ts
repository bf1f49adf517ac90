/**
 * Child program of test/index-population.test.ts: creates a database with nodes :N {id}, lets the
 * store apply them, then arms the crash point store.betweenApplySlices and creates an index on
 * :N(id), so the process is SIGKILLed between two slices of the index's population.
 *
 *   node dist/test/support/index-build-writer.js <folder> <nodes>
 *
 * Exit code 3: the index was built without pausing (the test fails: no crash happened).
 */
import { join } from 'node:path';
import { Database, defaultDatabaseSettings, locateDatabase, storeApplyCrashPoint } from '../../src/kernel/database.js';
import { crashPointEnvVar } from '../../src/targets/crash-points.js';

async function main(): Promise<void> {
  const [folder, nodesText] = process.argv.slice(2);
  if (!folder || !nodesText) throw new Error('usage: index-build-writer <folder> <nodes>');
  const nodes = Number(nodesText);
  const loc = locateDatabase(join(folder, 'data'), join(folder, 'data', 'transactions'), 'big');
  const db = await Database.create('big', loc, defaultDatabaseSettings, (m) => process.stderr.write(`warning: ${m}\n`));
  const tx = await db.beginWrite();
  for (let i = 0; i < nodes; i++) tx.createNode(['N'], new Map<string, bigint>([['id', BigInt(i)]]));
  await tx.commit();
  await db.applyCommitted();
  // From here on the first pause of a store apply kills the process: the index's population.
  process.env[crashPointEnvVar] = storeApplyCrashPoint;
  const schema = await db.beginWrite();
  schema.createIndex('n_id', 'N', 'id', false);
  await schema.commit();
  process.exit(3);
}

main().catch((e: unknown) => {
  process.stderr.write(`index-build-writer failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
