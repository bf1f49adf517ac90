/**
 * Every limit of the Cypher front end and executor, in one place with its reason.
 */

/** Prepared queries kept by text; applications reuse a few hundred distinct queries at most. */
export const preparedCacheEntriesMax = 1000;

/** Variable-length patterns without an upper bound stop at this depth, so a cycle-rich graph cannot run forever. */
export const varLengthDepthMax = 10_000;

/** `range()` materialised as a list (outside UNWIND, which streams it) refuses more elements than this. */
export const rangeListElementsMax = 50_000_000;

/** Nested subqueries and expressions deeper than this are rejected by the parser rather than overflowing the stack. */
export const parseDepthMax = 500;

/** Rows per inner transaction of `CALL { ... } IN TRANSACTIONS` without `OF n ROWS` (Neo4j's default). */
export const inTransactionsBatchRowsDefault = 1000;
/**
 * The longest a statement runs before it lets the event loop run other connections, the backup
 * service, timers and signals. Every other client's latency floor is this figure (a RETURN 1 beside a
 * heavy statement waits about one slice per round trip), and each slice boundary costs a
 * `setImmediate` turn (about 5–20 µs measured). 5 ms: a heavy read of 3M rows took the same time at
 * 5 and 10 ms within noise (700/751/748 ms against 698/711/747 ms), while RETURN 1 beside it went
 * from p99 18.9 to 10.5 ms (session.run) and a managed transaction (3 round trips) from p99 44.8 to
 * 23.5 ms; README "Design decisions", docs/performance.md.
 */
export const executionSliceMs = 5;

/**
 * Rows (or candidates, or relationships) between two clock reads of the slice check: reading
 * `performance.now()` costs ~30 ns, a row 0.2–2 µs, so 64 rows overshoot a slice by well under 1 ms
 * and keep the clock off the hot path.
 */
export const sliceCheckEveryRows = 64;
