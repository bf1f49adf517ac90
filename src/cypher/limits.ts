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
