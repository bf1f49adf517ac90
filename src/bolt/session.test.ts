// The connection state machine, driven by C:/S: transcripts against the in-memory test backend.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isQuiverError } from '../util/errors.js';
import type { BoltVersion } from './handshake.js';
import { decodeRequest, type Response } from './messages.js';
import { BoltSession } from './session.js';
import { TestBackend } from './test-backend.js';
import { runTranscript } from './test-transcript.js';

const v58: BoltVersion = { major: 5, minor: 8 };
const v56: BoltVersion = { major: 5, minor: 6 };
const v50: BoltVersion = { major: 5, minor: 0 };
const v44: BoltVersion = { major: 4, minor: 4 };

function setup(version: BoltVersion = v58): { session: BoltSession; backend: TestBackend; run: (t: string) => Promise<void> } {
  const backend = new TestBackend();
  const session = new BoltSession({ backend, version, connectionId: 'bolt-test', advertisedAddress: 'quiver.example:7687', clockMs: () => 0 });
  return { session, backend, run: (t) => runTranscript(session, version, t) };
}

const login58 = `
  C: HELLO {"user_agent": "test/1.0", "bolt_agent": {"product": "test/1.0"}}
  C: LOGON {"scheme": "basic", "principal": "neo4j", "credentials": "pass"}
  S: SUCCESS {"server": "Neo4j/5.26.0", "connection_id": "bolt-test", "hints": {}}
  S: SUCCESS {}
  STATE: READY
`;
const syntaxFailure58 = `S: FAILURE {"neo4j_code": "Neo.ClientError.Statement.SyntaxError", "message": *, "gql_status": "42001", "description": *, "diagnostic_record": {"OPERATION": "", "OPERATION_CODE": "0", "CURRENT_SCHEMA": "/", "_classification": "CLIENT_ERROR"}}`;
/** PULL {n: -1}: tests that need to count thousands of RECORDs use the session API directly. */
const pullAll = Uint8Array.from([0xb1, 0x3f, 0xa1, 0x81, 0x6e, 0xff]);
const readSummary = `S: SUCCESS {"type": "r", "t_last": 0, "db": "neo4j"}`;

describe('Bolt session: connection setup', () => {
  it('accepts HELLO then LOGON (5.1+), runs a query, and ends on GOODBYE', async () => {
    const { run } = setup();
    await run(`${login58}
      C: RUN "RETURN 1 AS n" {} {}
      C: PULL {"n": 1000}
      S: SUCCESS {"fields": ["n"], "t_first": 0}
      S: RECORD [1]
      ${readSummary}
      STATE: READY
      C: GOODBYE
      STATE: DEFUNCT
      C: RUN "RETURN 1 AS n" {} {}
      STATE: DEFUNCT`);
  });

  it('authenticates inside HELLO in 4.4, echoes the utc patch, and keys FAILURE by "code"', async () => {
    const { run, session } = setup(v44);
    assert.equal(session.structureOptions.utcDateTime, false);
    await run(`
      C: HELLO {"user_agent": "t", "scheme": "basic", "principal": "neo4j", "credentials": "pass", "patch_bolt": ["utc"]}
      S: SUCCESS {"server": "Neo4j/5.26.0", "connection_id": "bolt-test", "hints": {}, "patch_bolt": ["utc"]}
      STATE: READY
      C: RUN "NOT CYPHER" {} {}
      S: FAILURE {"code": "Neo.ClientError.Statement.SyntaxError", "message": *}`);
    assert.deepEqual(session.structureOptions, { elementIds: false, utcDateTime: true });
  });

  it('authenticates inside HELLO in 5.0, where LOGON does not exist', async () => {
    const { run } = setup(v50);
    await run(`
      C: HELLO {"user_agent": "t", "scheme": "basic", "principal": "neo4j", "credentials": "pass"}
      S: SUCCESS {"server": "Neo4j/5.26.0", "connection_id": "bolt-test", "hints": {}}
      STATE: READY
      C: LOGON {"scheme": "basic", "principal": "neo4j", "credentials": "pass"}
      S: FAILURE {"code": "Neo.ClientError.Request.Invalid", "message": "LOGON is not part of Bolt 5.0"}
      STATE: DEFUNCT`);
  });

  it('rejects a wrong password with Unauthorized and closes the connection', async () => {
    const { run } = setup();
    await run(`
      C: HELLO {"user_agent": "t"}
      C: LOGON {"scheme": "basic", "principal": "neo4j", "credentials": "wrong"}
      C: RUN "RETURN 1 AS n" {} {}
      S: SUCCESS {"server": "Neo4j/5.26.0", "connection_id": "bolt-test", "hints": {}}
      S: FAILURE {"neo4j_code": "Neo.ClientError.Security.Unauthorized", "message": "The client is unauthorized due to authentication failure.", "gql_status": "42NFF", "description": *, "diagnostic_record": *}
      STATE: DEFUNCT`);
  });

  it('switches users with LOGOFF and LOGON', async () => {
    const { run } = setup();
    await run(`${login58}
      C: LOGOFF
      S: SUCCESS {}
      STATE: AUTHENTICATION
      C: LOGON {"scheme": "basic", "principal": "neo4j", "credentials": "pass"}
      S: SUCCESS {}
      STATE: READY`);
  });

  it('accepts TELEMETRY in 5.4+ without changing state', async () => {
    const { run } = setup();
    await run(`${login58}
      C: TELEMETRY 2
      C: RUN "RETURN 1 AS n" {} {}
      C: PULL {"n": 1000}
      S: SUCCESS {}
      S: SUCCESS {"fields": ["n"], "t_first": 0}
      S: RECORD [1]
      ${readSummary}`);
  });

  it('treats a message outside its state as a protocol violation and closes', async () => {
    const { run } = setup();
    await run(`${login58}
      C: PULL {"n": 1000}
      S: FAILURE {"neo4j_code": "Neo.ClientError.Request.Invalid", "message": "message PULL cannot be handled by a connection in state READY", "gql_status": "08N06", "description": *, "diagnostic_record": *}
      STATE: DEFUNCT`);
  });

  it('refuses anything but HELLO first, and RESET before authentication', async () => {
    const first = setup();
    await first.run(`
      C: RUN "RETURN 1 AS n" {} {}
      S: FAILURE {"neo4j_code": "Neo.ClientError.Request.Invalid", "message": *, "gql_status": "08N06", "description": *, "diagnostic_record": *}
      STATE: DEFUNCT`);
    const second = setup();
    await second.run(`
      C: HELLO {"user_agent": "t"}
      S: SUCCESS {"server": "Neo4j/5.26.0", "connection_id": "bolt-test", "hints": {}}
      C: RESET
      S: FAILURE {"neo4j_code": "Neo.ClientError.Request.Invalid", "message": *, "gql_status": "08N06", "description": *, "diagnostic_record": *}
      STATE: DEFUNCT`);
  });
});

describe('Bolt session: auto-commit results', () => {
  it('streams with has_more in batches of n and ends with the summary', async () => {
    const { run, backend } = setup();
    await run(`${login58}
      C: RUN "UNWIND range(1, $n) AS i RETURN i" {"n": 5} {}
      C: PULL {"n": 2}
      S: SUCCESS {"fields": ["i"], "t_first": 0}
      S: RECORD [1]
      S: RECORD [2]
      S: SUCCESS {"has_more": true}
      STATE: STREAMING
      C: PULL {"n": 2}
      S: RECORD [3]
      S: RECORD [4]
      S: SUCCESS {"has_more": true}
      C: PULL {"n": 2}
      S: RECORD [5]
      ${readSummary}
      STATE: READY`);
    assert.deepEqual(backend.activity.pullSizes, [2, 2, 2]);
  });

  it('ends the stream exactly when the last record is pulled', async () => {
    const { run } = setup();
    await run(`${login58}
      C: RUN "UNWIND range(1, $n) AS i RETURN i" {"n": 2} {}
      C: PULL {"n": 2}
      S: SUCCESS {"fields": ["i"], "t_first": 0}
      S: RECORD [1]
      S: RECORD [2]
      ${readSummary}`);
  });

  it('pulls everything (n = -1) from the backend in bounded steps', async () => {
    const { session, backend, run } = setup();
    await run(`${login58}
      C: RUN "UNWIND range(1, $n) AS i RETURN i" {"n": 2500} {}
      S: SUCCESS {"fields": ["i"], "t_first": 0}`);
    const responses = await session.handle(decodeRequest(pullAll, v58));
    assert.equal(responses.filter((r) => r.type === 'RECORD').length, 2500);
    assert.equal(responses.at(-1)?.type, 'SUCCESS');
    assert.deepEqual(backend.activity.pullSizes, [1000, 1000, 1000]);
  });

  it('discards the rest of a write and returns its bookmark and counters', async () => {
    const { run } = setup();
    await run(`${login58}
      C: RUN "CREATE (n:Person {name: $name}) RETURN n" {"name": "Ann"} {"bookmarks": ["FB:test:0"], "tx_metadata": {"app": "t"}, "tx_timeout": 1000}
      C: DISCARD {"n": -1}
      S: SUCCESS {"fields": ["n"], "t_first": 0}
      S: SUCCESS {"bookmark": "FB:test:1", "type": "w", "t_last": 0, "db": "neo4j", "stats": {"nodes-created": 1, "labels-added": 1, "properties-set": 1}}`);
  });

  it('discards n records and reports has_more while records remain', async () => {
    const { run } = setup();
    await run(`${login58}
      C: RUN "UNWIND range(1, $n) AS i RETURN i" {"n": 5} {}
      C: DISCARD {"n": 3}
      C: PULL {"n": 5}
      S: SUCCESS {"fields": ["i"], "t_first": 0}
      S: SUCCESS {"has_more": true}
      S: RECORD [4]
      S: RECORD [5]
      ${readSummary}`);
  });

  it('answers IGNORED after a failure until RESET, then works again (pipelined)', async () => {
    const { run } = setup();
    await run(`${login58}
      C: RUN "NOT CYPHER" {} {}
      C: PULL {"n": 1000}
      ${syntaxFailure58}
      S: IGNORED
      STATE: FAILED
      C: BEGIN {}
      S: IGNORED
      C: RESET
      S: SUCCESS {}
      STATE: READY
      C: RUN "RETURN 1 AS n" {} {}
      C: PULL {"n": 1000}
      S: SUCCESS {"fields": ["n"], "t_first": 0}
      S: RECORD [1]
      ${readSummary}`);
  });

  it('fails mid-stream, rolls back the auto-commit transaction, and reports in the 5.6 format', async () => {
    const { run, backend } = setup(v56);
    await run(`
      C: HELLO {"user_agent": "t"}
      C: LOGON {"scheme": "basic", "principal": "neo4j", "credentials": "pass"}
      S: SUCCESS *
      S: SUCCESS {}
      C: RUN "UNWIND [1, 0] AS x RETURN 1 / x" {} {}
      C: PULL {"n": 1000}
      S: SUCCESS {"fields": ["1 / x"], "t_first": 0}
      S: FAILURE {"code": "Neo.ClientError.Statement.ArithmeticError", "message": "/ by zero"}
      STATE: FAILED`);
    assert.equal(backend.activity.autoCommitRollbacks, 1);
  });

  it('fails on an unknown database and on impersonation', async () => {
    const { run } = setup();
    await run(`${login58}
      C: RUN "RETURN 1 AS n" {} {"db": "nope"}
      S: FAILURE {"neo4j_code": "Neo.ClientError.Database.DatabaseNotFound", "message": "Database does not exist. Database name: 'nope'.", "gql_status": "22N51", "description": *, "diagnostic_record": *}
      C: RESET
      S: SUCCESS {}
      C: BEGIN {"imp_user": "bob"}
      S: FAILURE {"neo4j_code": "Neo.ClientError.Security.Forbidden", "message": *, "gql_status": "42NFF", "description": *, "diagnostic_record": *}
      STATE: FAILED`);
  });

  it('IGNOREs requests queued ahead of a RESET that arrived with them (jump-ahead interrupt)', async () => {
    const { run } = setup();
    await run(`${login58}
      C: RUN "UNWIND range(1, $n) AS i RETURN i" {"n": 5} {}
      C: PULL {"n": 2}
      C: RESET
      S: IGNORED
      S: IGNORED
      S: SUCCESS {}
      STATE: READY`);
  });

  it('stops a long PULL between steps when interrupted, and rolls back on the RESET', async () => {
    const { session, backend, run } = setup();
    await run(`${login58}
      C: RUN "UNWIND range(1, $n) AS i RETURN i" {"n": 100000} {}
      S: SUCCESS {"fields": ["i"], "t_first": 0}`);
    const responses: Response[] = [];
    await session.handleInto(decodeRequest(pullAll, v58), (r) => {
      if (responses.length === 0) session.interrupt();
      responses.push(r);
    });
    assert.equal(responses.filter((r) => r.type === 'RECORD').length, 1000);
    assert.equal(responses.at(-1)?.type, 'IGNORED');
    assert.equal(session.state, 'INTERRUPTED');
    // The RESET whose arrival the interrupt() above stood for; handled directly so it interrupts only once.
    assert.deepEqual(await session.handle({ type: 'RESET' }), [{ type: 'SUCCESS', metadata: new Map() }]);
    assert.equal(session.state, 'READY');
    assert.equal(backend.activity.autoCommitRollbacks, 1);
  });

  it('fails a request with an unsupported parameter type but keeps the connection', async () => {
    const { session, run } = setup();
    await run(login58);
    // RUN "RETURN $p AS p" {p: Point2D(7203, 1.0, 2.0)} {}
    const body = Buffer.concat([
      Buffer.from('b310', 'hex'),
      Buffer.from([0x8e]),
      Buffer.from('RETURN $p AS p'),
      Buffer.from('a18170b35800c91c23c13ff0000000000000c14000000000000000a0', 'hex'),
    ]);
    const request = decodeRequest(body, v58);
    assert.equal(request.type, 'UNDECODABLE');
    const [failure] = await session.handle(request);
    assert.ok(failure?.type === 'FAILURE' && isQuiverError(failure.error, 'TypeError'));
    assert.equal(session.state, 'FAILED');
    await run(`
      C: RESET
      S: SUCCESS {}`);
  });
});

describe('Bolt session: explicit transactions', () => {
  it('runs BEGIN / RUN / PULL with qids / COMMIT', async () => {
    const { run, backend } = setup();
    await run(`${login58}
      C: BEGIN {"db": "neo4j", "mode": "r", "bookmarks": ["FB:test:0"], "tx_timeout": 5000, "tx_metadata": {"app": "t"}}
      S: SUCCESS {}
      STATE: TX_READY
      C: RUN "UNWIND range(1, $n) AS i RETURN i" {"n": 3} {}
      C: PULL {"n": 2}
      S: SUCCESS {"fields": ["i"], "t_first": 0, "qid": 0}
      S: RECORD [1]
      S: RECORD [2]
      S: SUCCESS {"has_more": true}
      C: RUN "RETURN 1 AS n" {} {}
      C: PULL {"n": -1}
      S: SUCCESS {"fields": ["n"], "t_first": 0, "qid": 1}
      S: RECORD [1]
      ${readSummary}
      STATE: TX_STREAMING
      C: PULL {"n": 10, "qid": 0}
      S: RECORD [3]
      ${readSummary}
      STATE: TX_READY
      C: COMMIT
      S: SUCCESS {"bookmark": "FB:test:1"}
      STATE: READY`);
    assert.equal(backend.activity.commits, 1);
    assert.equal(backend.activity.openTransactions, 0);
  });

  it('names the home database in BEGIN SUCCESS (5.8) when the client named none', async () => {
    const { run } = setup();
    await run(`${login58}
      C: BEGIN {}
      S: SUCCESS {"db": "neo4j"}`);
  });

  it('rolls back, even with a result still open', async () => {
    const { run, backend } = setup();
    await run(`${login58}
      C: BEGIN {}
      C: RUN "CREATE (n:Person {name: $name}) RETURN n" {"name": "Ann"} {}
      S: SUCCESS {"db": "neo4j"}
      S: SUCCESS {"fields": ["n"], "t_first": 0, "qid": 0}
      C: ROLLBACK
      S: SUCCESS {}
      STATE: READY`);
    assert.equal(backend.activity.rollbacks, 1);
    assert.equal(backend.activity.openTransactions, 0);
  });

  it('rolls back at once when a query in the transaction fails', async () => {
    const { run, backend } = setup();
    await run(`${login58}
      C: BEGIN {}
      C: RUN "NOT CYPHER" {} {}
      C: PULL {"n": 1000}
      C: COMMIT
      S: SUCCESS {"db": "neo4j"}
      ${syntaxFailure58}
      S: IGNORED
      S: IGNORED
      C: RESET
      S: SUCCESS {}`);
    assert.equal(backend.activity.rollbacks, 1);
    assert.equal(backend.activity.commits, 0);
  });

  it('rejects an unknown qid without closing the connection', async () => {
    const { run } = setup();
    await run(`${login58}
      C: BEGIN {}
      C: RUN "RETURN 1 AS n" {} {}
      C: PULL {"n": 1, "qid": 7}
      S: SUCCESS {"db": "neo4j"}
      S: SUCCESS {"fields": ["n"], "t_first": 0, "qid": 0}
      S: FAILURE {"neo4j_code": "Neo.ClientError.Request.Invalid", "message": "no open result with qid 7 in this transaction", "gql_status": "08N06", "description": *, "diagnostic_record": *}
      STATE: FAILED`);
  });

  it('rolls back an open transaction on RESET and on close', async () => {
    const a = setup();
    await a.run(`${login58}
      C: BEGIN {}
      S: SUCCESS {"db": "neo4j"}
      C: RESET
      S: SUCCESS {}`);
    assert.equal(a.backend.activity.rollbacks, 1);
    const b = setup();
    await b.run(`${login58}
      C: BEGIN {}
      S: SUCCESS {"db": "neo4j"}`);
    await b.session.close();
    assert.equal(b.backend.activity.rollbacks, 1);
    assert.equal(b.session.state, 'DEFUNCT');
  });
});

describe('Bolt session: routing', () => {
  it('answers ROUTE with this server in every role, at the advertised address', async () => {
    const { run, backend } = setup();
    await run(`${login58}
      C: ROUTE {"address": "localhost:7687"} [] {}
      S: SUCCESS {"rt": {"ttl": 300, "db": "neo4j", "servers": [{"addresses": ["quiver.example:7687"], "role": "ROUTE"}, {"addresses": ["quiver.example:7687"], "role": "READ"}, {"addresses": ["quiver.example:7687"], "role": "WRITE"}]}}
      STATE: READY
      C: ROUTE {"address": "localhost:7687"} ["FB:test:1"] {"db": "system"}
      S: SUCCESS {"rt": {"ttl": 300, "db": "system", "servers": *}}
      C: ROUTE {"address": "localhost:7687"} [] {"db": "nope"}
      S: FAILURE {"neo4j_code": "Neo.ClientError.Database.DatabaseNotFound", "message": *, "gql_status": "22N51", "description": *, "diagnostic_record": *}`);
    assert.equal(backend.activity.routes, 3);
  });

  it('is not allowed inside a transaction', async () => {
    const { run } = setup();
    await run(`${login58}
      C: BEGIN {}
      C: ROUTE {"address": "localhost:7687"} [] {}
      S: SUCCESS {"db": "neo4j"}
      S: FAILURE {"neo4j_code": "Neo.ClientError.Request.Invalid", "message": *, "gql_status": "08N06", "description": *, "diagnostic_record": *}
      STATE: DEFUNCT`);
  });
});
