/**
 * Test support: runs Cypher against a real scratch database (LMDB kernel), one transaction per
 * statement (read queries in a read transaction, everything else in a committed write transaction).
 */
import { openScratchDatabase } from '../../kernel/testing.js';
import type { DatabaseHandle } from '../../kernel/api.js';
import { NodeValue, RelationshipValue, PathValue, type Value } from '../../values/value.js';
import { ExecutionSlice, slicePause, type SlicePause } from '../execution-slice.js';
import { prepare, type TransactionSource } from '../index.js';

/** CALL { ... } IN TRANSACTIONS straight on the scratch database, inner transactions numbered from 1. */
function harnessTransactions(db: DatabaseHandle): TransactionSource {
  let started = 0;
  return {
    beginRead() {
      const tx = db.beginRead();
      return { graph: tx, close: () => tx.close() };
    },
    async beginWrite() {
      const tx = await db.beginWrite();
      started++;
      return { graph: tx, id: `scratch-transaction-${started}`, commit: () => tx.commit(), rollback: () => tx.rollback(), stopReason: () => null };
    },
    pause: () => new Promise((resolve) => setImmediate(resolve)),
    stopReason: () => null,
  };
}

export interface RunResult {
  columns: string[];
  rows: Value[][];
  stats: Record<string, number>;
}

export interface Harness {
  db: DatabaseHandle;
  run(query: string, params?: Record<string, Value>, now?: () => Date): Promise<RunResult>;
  /** Rows of a single-column result. */
  column(query: string, params?: Record<string, Value>): Promise<Value[]>;
  close(): Promise<void>;
}

export async function openHarness(): Promise<Harness> {
  const scratch = await openScratchDatabase();
  const db = scratch.db as unknown as DatabaseHandle;
  const run = async (query: string, params: Record<string, Value> = {}, now?: () => Date): Promise<RunResult> => {
    const prepared = prepare(query);
    const parameters = new Map(Object.entries(params));
    // A slice that is always used up: every statement pauses at every chance, so every test also
    // checks that pauses pass through the operators without changing a result.
    const slice = new ExecutionSlice(0, () => 0, 1);
    const options = now ? { now, slice } : { slice };
    if (prepared.kind === 'read') {
      const tx = db.beginRead();
      try {
        const ex = prepared.execute(tx, parameters, options);
        const rows = [...iter(ex.rows())];
        return { columns: ex.columns, rows, stats: ex.stats() };
      } finally {
        tx.close();
      }
    }
    if (prepared.inTransactions) {
      const ex = await prepared.executeInTransactions(harnessTransactions(db), parameters, options);
      return { columns: ex.columns, rows: [...iter(ex.rows())], stats: ex.stats() };
    }
    const tx = await db.beginWrite();
    try {
      const ex = prepared.execute(tx, parameters, options);
      const rows = [...iter(ex.rows())];
      await tx.commit();
      return { columns: ex.columns, rows, stats: ex.stats() };
    } catch (e) {
      try {
        tx.rollback();
      } catch {
        // already closed by a failed commit
      }
      throw e;
    }
  };
  return {
    db,
    run,
    async column(query, params) {
      return (await run(query, params)).rows.map((r) => r[0]!);
    },
    close: () => scratch.close(),
  };
}

function* iter<T>(it: Iterator<T | SlicePause>): Generator<T> {
  for (let r = it.next(); !r.done; r = it.next()) if (r.value !== slicePause) yield r.value as T;
}

/** A compact, comparable form of values: nodes as `(id:Labels {..})`-like objects are reduced to their names. */
export function plain(v: Value): unknown {
  if (typeof v === 'bigint') return v;
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, plain(x)]));
  if (v instanceof NodeValue) return { labels: v.labels, props: plain(v.properties as Map<string, Value>) };
  if (v instanceof RelationshipValue) return { type: v.type, props: plain(v.properties as Map<string, Value>) };
  if (v instanceof PathValue) return { nodes: v.nodes.map(plain), rels: v.relationships.map(plain) };
  return v;
}
