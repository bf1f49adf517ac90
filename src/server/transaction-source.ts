/**
 * The transactions of one CALL { ... } IN TRANSACTIONS statement on a database (see
 * src/cypher/in-transactions.ts): a read snapshot for the outer query, and a write transaction per
 * batch that takes the database's writer slot only while the batch runs and commits. Each batch is
 * registered in the server's transaction registry under its own id (`neo4j-transaction-8`, outer
 * transaction `neo4j-transaction-7`), so SHOW TRANSACTIONS lists it and TERMINATE TRANSACTION stops
 * it, and with it the statement. `secure` applies the user's privileges to every transaction, as
 * for any other statement.
 */
import type { GraphRead, GraphWrite, ReadTransaction, WriteTransaction } from '../kernel/api.js';
import type { Database } from '../kernel/database.js';
import type { TransactionSource } from '../cypher/index.js';
import type { RunningTransaction, TransactionRegistry } from './transaction-registry.js';

/** Lets timers, signals, other connections and the backup service run before the statement goes on. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function transactionSource(
  db: Database,
  lockTimeoutMs: number,
  secure: (tx: ReadTransaction | WriteTransaction) => GraphRead | GraphWrite,
  registry: TransactionRegistry,
  statement: RunningTransaction,
): TransactionSource {
  return {
    beginRead() {
      const tx = db.beginRead();
      return { graph: secure(tx), close: () => tx.close() };
    },
    async beginWrite() {
      const tx = await db.beginWrite(lockTimeoutMs);
      const running = registry.beginInner(statement);
      running.beginExecution();
      const end = (): void => {
        running.endExecution();
        registry.end(running);
      };
      return {
        graph: secure(tx) as GraphWrite,
        id: running.transactionId,
        commit: async () => {
          try {
            return await tx.commit();
          } finally {
            end();
          }
        },
        rollback: () => {
          end();
          tx.rollback();
        },
        stopReason: () => running.stopReason(),
      };
    },
    pause: yieldToEventLoop,
    stopReason: () => statement.stopReason(),
  };
}
