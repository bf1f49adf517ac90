/**
 * Child program of test/crash.test.ts: opens (or creates) a database and commits small
 * transactions as fast as it can from several concurrent loops until it is killed. It prints a
 * transaction's line only after `commit()` resolved, so every printed line is a promise the
 * database made: that transaction is durable.
 *
 *   node dist/test/support/crash-writer.js <folder> <round> <settings JSON>
 *
 * stdout lines:
 *   ready <lastCommittedTxId>                 the database is open (recovery done)
 *   ack <txId> <k> <nodeA> <nodeB> <relId>   committed: (:A {k})-[:R {k}]->(:B {k})
 */
import { join } from 'node:path';
import { Database, type DatabaseSettings, defaultDatabaseSettings, locateDatabase, storeExists } from '../../src/kernel/database.js';

/** Concurrent committers: more than one, so that group commit shares fsyncs under the kill. */
const writerLoops = 4;

/** Also spelled out in test/crash.test.ts, which must not import this module (it would run it). */
const crashDatabaseName = 'crash';

function say(line: string): void {
  // Pipes are written synchronously on Linux and a line is far below PIPE_BUF, so a line is
  // either wholly in the pipe or absent when the kill arrives.
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<void> {
  const [folder, roundText, settingsJson] = process.argv.slice(2);
  if (!folder || !roundText || !settingsJson) throw new Error('usage: crash-writer <folder> <round> <settings JSON>');
  const settings: DatabaseSettings = { ...defaultDatabaseSettings, ...(JSON.parse(settingsJson) as Partial<DatabaseSettings>) };
  const loc = locateDatabase(join(folder, 'data'), join(folder, 'data', 'transactions'), crashDatabaseName);
  const warn = (m: string) => process.stderr.write(`warning: ${m}\n`);
  const db = storeExists(loc) ? Database.open(crashDatabaseName, loc, settings, warn) : await Database.create(crashDatabaseName, loc, settings, warn);
  say(`ready ${db.lastCommittedTxId()}`);
  await Promise.all(
    Array.from({ length: writerLoops }, async (_, loop) => {
      for (let i = 0; ; i++) {
        const k = `${roundText}.${loop}.${i}`;
        const tx = await db.beginWrite();
        const a = tx.createNode(['A'], new Map([['k', k]]));
        const b = tx.createNode(['B'], new Map([['k', k]]));
        const rel = tx.createRelationship('R', a, b, new Map([['k', k]]));
        const { txId } = await tx.commit();
        say(`ack ${txId} ${k} ${a} ${b} ${rel}`);
      }
    }),
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`crash-writer failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  // The other loops would keep committing: this is the program's entry, so it may exit.
  process.exit(1);
});
