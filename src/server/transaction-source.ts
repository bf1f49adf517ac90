/**
 * The transactions of one CALL { ... } IN TRANSACTIONS statement on a database (see
 * src/cypher/in-transactions.ts): a read snapshot for the outer query, and a write transaction per
 * batch that takes the database's writer slot only while the batch runs and commits. `secure`
 * applies the user's privileges to every transaction, as for any other statement.
 */
import type { GraphRead, GraphWrite, ReadTransaction, WriteTransaction } from '../kernel/api.js';
import type { Database } from '../kernel/database.js';
import type { TransactionSource } from '../cypher/index.js';

/** Numbers the inner transactions for REPORT STATUS (`neo4j-transaction-7`), per server process. */
let innerTransactionsStarted = 0;

export function transactionSource(db: Database, lockTimeoutMs: number, secure: (tx: ReadTransaction | WriteTransaction) => GraphRead | GraphWrite): TransactionSource {
  return {
    beginRead() {
      const tx = db.beginRead();
      return { graph: secure(tx), close: () => tx.close() };
    },
    async beginWrite() {
      const tx = await db.beginWrite(lockTimeoutMs);
      innerTransactionsStarted++;
      return {
        graph: secure(tx) as GraphWrite,
        id: `${db.name}-transaction-${innerTransactionsStarted}`,
        commit: () => tx.commit(),
        rollback: () => tx.rollback(),
      };
    },
  };
}
