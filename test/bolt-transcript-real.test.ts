// Bolt behaviour as C:/S: transcripts (the syntax of src/bolt/test-transcript.ts), replayed over a
// socket against a real `bin/quiver console` with authentication on and the real query service.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type BoltVersion } from '../src/bolt/handshake.js';
import { responseTag } from '../src/bolt/messages.js';
import { boltRequest, connectRaw, runSocketTranscript } from './support/bolt-raw.js';
import { createServer_, runAdmin, type TestServer } from './support/harness.js';

const v58: BoltVersion = { major: 5, minor: 8 };
const v56: BoltVersion = { major: 5, minor: 6 };
const v44: BoltVersion = { major: 4, minor: 4 };
const password = 'transcript-secret';

const login58 = `
  C: HELLO {"user_agent": "transcript/1.0", "bolt_agent": {"product": "transcript/1.0"}}
  C: LOGON {"scheme": "basic", "principal": "neo4j", "credentials": "${password}"}
  S: SUCCESS {"server": "Neo4j/5.26.0", "connection_id": *, "hints": {}}
  S: SUCCESS {}
`;
const gql = `"gql_status": *, "description": *, "diagnostic_record": *`;
const readSummary = `S: SUCCESS {"type": "r", "t_last": *, "db": "neo4j"}`;

describe('Bolt transcripts against the real server', () => {
  let server: TestServer;
  let run: (transcript: string, version?: BoltVersion) => Promise<void>;

  before(async () => {
    server = await createServer_({ auth: true });
    const set = await runAdmin(['dbms', 'set-initial-password', password], { home: server.home });
    assert.equal(set.code, 0, set.stderr);
    await server.start();
    run = (transcript, version = v58) => runSocketTranscript(server.boltPort, version, transcript);
  });
  after(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it('logs in with HELLO then LOGON, runs a query, and closes on GOODBYE', async () => {
    await run(`${login58}
      C: RUN "RETURN 1 AS n, 'x' AS s" {} {}
      C: PULL {"n": 1000}
      S: SUCCESS {"fields": ["n", "s"], "t_first": *}
      S: RECORD [1, "x"]
      ${readSummary}
      C: GOODBYE
      STATE: DEFUNCT`);
  });

  it('refuses a wrong password with Unauthorized and closes the connection', async () => {
    await run(`
      C: HELLO {"user_agent": "t"}
      C: LOGON {"scheme": "basic", "principal": "neo4j", "credentials": "wrong"}
      C: RUN "RETURN 1 AS n" {} {}
      S: SUCCESS {"server": "Neo4j/5.26.0", "connection_id": *, "hints": {}}
      S: FAILURE {"neo4j_code": "Neo.ClientError.Security.Unauthorized", "message": "The client is unauthorized due to authentication failure.", ${gql}}
      STATE: DEFUNCT`);
  });

  it('authenticates inside HELLO on 4.4, echoes the utc patch, and keys FAILURE by "code"', async () => {
    await run(
      `
      C: HELLO {"user_agent": "t", "scheme": "basic", "principal": "neo4j", "credentials": "${password}", "patch_bolt": ["utc"]}
      S: SUCCESS {"server": "Neo4j/5.26.0", "connection_id": *, "hints": {}, "patch_bolt": ["utc"]}
      C: RUN "RETURN 2 AS n" {} {}
      C: PULL {"n": -1}
      S: SUCCESS {"fields": ["n"], "t_first": *}
      S: RECORD [2]
      ${readSummary}
      C: RUN "RETURN nope(" {} {}
      S: FAILURE {"code": "Neo.ClientError.Statement.SyntaxError", "message": *}`,
      v44,
    );
  });

  it('keys FAILURE by "code" up to 5.6', async () => {
    await run(
      `${login58}
      C: RUN "MATCH (n RETURN n" {} {}
      S: FAILURE {"code": "Neo.ClientError.Statement.SyntaxError", "message": *}`,
      v56,
    );
  });

  it('streams a result in batches of n with has_more, then the summary', async () => {
    await run(`${login58}
      C: RUN "UNWIND range(1, $n) AS i RETURN i" {"n": 5} {}
      C: PULL {"n": 2}
      S: SUCCESS {"fields": ["i"], "t_first": *}
      S: RECORD [1]
      S: RECORD [2]
      S: SUCCESS {"has_more": true}
      C: PULL {"n": 2}
      S: RECORD [3]
      S: RECORD [4]
      S: SUCCESS {"has_more": true}
      C: PULL {"n": 2}
      S: RECORD [5]
      ${readSummary}`);
  });

  it('discards the rest of a result on DISCARD', async () => {
    await run(`${login58}
      C: RUN "UNWIND range(1, 100000000) AS i RETURN i" {} {}
      C: PULL {"n": 1}
      C: DISCARD {"n": -1}
      C: RUN "RETURN 'after' AS s" {} {}
      C: PULL {"n": -1}
      S: SUCCESS {"fields": ["i"], "t_first": *}
      S: RECORD [1]
      S: SUCCESS {"has_more": true}
      ${readSummary}
      S: SUCCESS {"fields": ["s"], "t_first": *}
      S: RECORD ["after"]
      ${readSummary}`);
  });

  it('answers pipelined requests strictly in order, one summary each', async () => {
    await run(`${login58}
      C: RUN "CREATE (n:Pipelined {k: 1}) RETURN n.k AS k" {} {}
      C: PULL {"n": -1}
      C: RUN "MATCH (n:Pipelined) RETURN count(n) AS c" {} {}
      C: PULL {"n": -1}
      C: RUN "RETURN $x AS x" {"x": [1, "two", {"three": 3.5}]} {}
      C: PULL {"n": -1}
      S: SUCCESS {"fields": ["k"], "t_first": *}
      S: RECORD [1]
      S: SUCCESS {"bookmark": *, "type": "rw", "t_last": *, "db": "neo4j", "stats": {"nodes-created": 1, "labels-added": 1, "properties-set": 1}}
      S: SUCCESS {"fields": ["c"], "t_first": *}
      S: RECORD [1]
      ${readSummary}
      S: SUCCESS {"fields": ["x"], "t_first": *}
      S: RECORD [[1, "two", {"three": 3.5}]]
      ${readSummary}`);
  });

  it('IGNOREs everything after a FAILURE until RESET, and serves again after it', async () => {
    await run(`${login58}
      C: RUN "RETRUN 1" {} {}
      C: PULL {"n": -1}
      C: RUN "RETURN 1 AS n" {} {}
      C: PULL {"n": -1}
      S: FAILURE {"neo4j_code": "Neo.ClientError.Statement.SyntaxError", "message": *, "gql_status": "42001", "description": *, "diagnostic_record": {"OPERATION": "", "OPERATION_CODE": "0", "CURRENT_SCHEMA": "/", "_classification": "CLIENT_ERROR"}}
      S: IGNORED
      S: IGNORED
      S: IGNORED
      C: RESET
      S: SUCCESS {}
      C: RUN "RETURN 1 AS n" {} {}
      C: PULL {"n": -1}
      S: SUCCESS {"fields": ["n"], "t_first": *}
      S: RECORD [1]
      ${readSummary}`);
  });

  it('lets a pipelined RESET jump ahead of the requests before it', async () => {
    await run(`${login58}
      C: RUN "UNWIND range(1, 100000000) AS i RETURN i" {} {}
      C: PULL {"n": -1}
      C: RESET
      S: IGNORED
      S: IGNORED
      S: SUCCESS {}
      C: RUN "RETURN 3 AS n" {} {}
      C: PULL {"n": -1}
      S: SUCCESS {"fields": ["n"], "t_first": *}
      S: RECORD [3]
      ${readSummary}`);
  });

  it('commits BEGIN/RUN/COMMIT with a bookmark, and the write is visible afterwards', async () => {
    await run(`${login58}
      C: BEGIN {}
      S: SUCCESS {"db": "neo4j"}
      C: RUN "CREATE (n:Committed {v: $v}) RETURN n.v AS v" {"v": 42} {}
      C: PULL {"n": -1}
      S: SUCCESS {"fields": ["v"], "t_first": *, "qid": 0}
      S: RECORD [42]
      S: SUCCESS {"type": "rw", "t_last": *, "db": "neo4j", "stats": {"nodes-created": 1, "labels-added": 1, "properties-set": 1}}
      C: RUN "MATCH (n:Committed) RETURN n.v AS v" {} {}
      C: PULL {"n": -1}
      S: SUCCESS {"fields": ["v"], "t_first": *, "qid": 1}
      S: RECORD [42]
      ${readSummary}
      C: COMMIT
      S: SUCCESS {"bookmark": *}
      C: RUN "MATCH (n:Committed) RETURN n.v AS v" {} {"mode": "r"}
      C: PULL {"n": -1}
      S: SUCCESS {"fields": ["v"], "t_first": *}
      S: RECORD [42]
      ${readSummary}`);
  });

  it('rolls back BEGIN/RUN/ROLLBACK: the write is not visible afterwards', async () => {
    await run(`${login58}
      C: BEGIN {"db": "neo4j"}
      S: SUCCESS {}
      C: RUN "CREATE (:RolledBack)" {} {}
      C: PULL {"n": -1}
      S: SUCCESS {"fields": [], "t_first": *, "qid": 0}
      S: SUCCESS {"type": "rw", "t_last": *, "db": "neo4j", "stats": {"nodes-created": 1, "labels-added": 1}}
      C: ROLLBACK
      S: SUCCESS {}
      C: RUN "MATCH (n:RolledBack) RETURN count(n) AS c" {} {}
      C: PULL {"n": -1}
      S: SUCCESS {"fields": ["c"], "t_first": *}
      S: RECORD [0]
      ${readSummary}`);
  });

  it('pulls interleaved results of one transaction by qid', async () => {
    await run(`${login58}
      C: BEGIN {"mode": "r"}
      C: RUN "UNWIND range(1, 3) AS i RETURN i" {} {}
      C: RUN "UNWIND range(10, 12) AS j RETURN j" {} {}
      C: PULL {"n": 1, "qid": 0}
      C: PULL {"n": -1, "qid": 1}
      C: PULL {"n": -1, "qid": 0}
      C: COMMIT
      S: SUCCESS {"db": "neo4j"}
      S: SUCCESS {"fields": ["i"], "t_first": *, "qid": 0}
      S: SUCCESS {"fields": ["j"], "t_first": *, "qid": 1}
      S: RECORD [1]
      S: SUCCESS {"has_more": true}
      S: RECORD [10]
      S: RECORD [11]
      S: RECORD [12]
      ${readSummary}
      S: RECORD [2]
      S: RECORD [3]
      ${readSummary}
      S: SUCCESS {"bookmark": *}`);
  });

  it('keeps an open result whole when a later statement of its transaction writes', async () => {
    await run(`${login58}
      C: BEGIN {}
      C: RUN "UNWIND range(1, 3) AS i CREATE (:Snapshot {i: i})" {} {}
      C: PULL {"n": -1}
      C: RUN "MATCH (s:Snapshot) RETURN s.i AS i" {} {}
      C: PULL {"n": 1}
      C: RUN "MATCH (s:Snapshot) DETACH DELETE s" {} {}
      C: PULL {"n": -1, "qid": 2}
      C: PULL {"n": -1, "qid": 1}
      C: ROLLBACK
      S: SUCCESS {"db": "neo4j"}
      S: SUCCESS {"fields": [], "t_first": *, "qid": 0}
      S: SUCCESS {"type": "rw", "t_last": *, "db": "neo4j", "stats": {"nodes-created": 3, "labels-added": 3, "properties-set": 3}}
      S: SUCCESS {"fields": ["i"], "t_first": *, "qid": 1}
      S: RECORD [1]
      S: SUCCESS {"has_more": true}
      S: SUCCESS {"fields": [], "t_first": *, "qid": 2}
      S: SUCCESS {"type": "rw", "t_last": *, "db": "neo4j", "stats": {"nodes-deleted": 3}}
      S: RECORD [2]
      S: RECORD [3]
      ${readSummary}
      S: SUCCESS {}`);
  });

  it('fails a write in a read transaction, rolls it back, and recovers on RESET', async () => {
    await run(`${login58}
      C: BEGIN {"mode": "r"}
      C: RUN "CREATE (:NotWritten)" {} {}
      C: COMMIT
      S: SUCCESS {"db": "neo4j"}
      S: FAILURE {"neo4j_code": "Neo.ClientError.General.WriteOnReadOnlyAccessDatabase", "message": *, ${gql}}
      S: IGNORED
      C: RESET
      C: RUN "MATCH (n:NotWritten) RETURN count(n) AS c" {} {}
      C: PULL {"n": -1}
      S: SUCCESS {}
      S: SUCCESS {"fields": ["c"], "t_first": *}
      S: RECORD [0]
      ${readSummary}`);
  });

  it('rolls back an open transaction on RESET', async () => {
    await run(`${login58}
      C: BEGIN {}
      C: RUN "CREATE (:ResetAway)" {} {}
      C: PULL {"n": -1}
      S: SUCCESS {"db": "neo4j"}
      S: SUCCESS {"fields": [], "t_first": *, "qid": 0}
      S: SUCCESS {"type": "rw", "t_last": *, "db": "neo4j", "stats": {"nodes-created": 1, "labels-added": 1}}
      C: RESET
      S: SUCCESS {}
      C: RUN "MATCH (n:ResetAway) RETURN count(n) AS c" {} {}
      C: PULL {"n": -1}
      S: SUCCESS {"fields": ["c"], "t_first": *}
      S: RECORD [0]
      ${readSummary}`);
  });

  it('reports an unknown database as DatabaseNotFound, and stays usable after RESET', async () => {
    await run(`${login58}
      C: BEGIN {"db": "no-such-db"}
      S: FAILURE {"neo4j_code": "Neo.ClientError.Database.DatabaseNotFound", "message": "Database does not exist. Database name: 'no-such-db'.", ${gql}}
      C: RUN "RETURN 1 AS n" {} {"db": "no-such-db"}
      S: IGNORED
      C: RESET
      S: SUCCESS {}
      C: RUN "RETURN 1 AS n" {} {"db": "no-such-db"}
      S: FAILURE {"neo4j_code": "Neo.ClientError.Database.DatabaseNotFound", "message": *, ${gql}}`);
  });

  it('answers ROUTE with the advertised address in every role', async () => {
    const address = `127.0.0.1:${server.boltPort}`;
    await run(`${login58}
      C: ROUTE {"address": "${address}"} [] {}
      S: SUCCESS {"rt": {"ttl": 300, "db": "neo4j", "servers": [{"addresses": ["${address}"], "role": "ROUTE"}, {"addresses": ["${address}"], "role": "READ"}, {"addresses": ["${address}"], "role": "WRITE"}]}}
      C: ROUTE {"address": "${address}"} [] {"db": "system"}
      S: SUCCESS {"rt": {"ttl": 300, "db": "system", "servers": *}}`);
  });

  it('runs administration commands against system, and refuses them elsewhere', async () => {
    await run(`${login58}
      C: RUN "SHOW DATABASES YIELD name RETURN name" {} {"db": "system"}
      C: PULL {"n": -1}
      S: SUCCESS {"fields": *, "t_first": *}
      S: RECORD *
      S: RECORD *
      S: SUCCESS {"bookmark": *, "type": "r", "t_last": *, "db": "system"}
      C: RUN "SHOW DATABASES" {} {}
      S: FAILURE {"neo4j_code": "Neo.ClientError.Statement.SemanticError", "message": *, ${gql}}`);
  });

  it('closes the connection on a request that is illegal in its state', async () => {
    await run(`${login58}
      C: PULL {"n": 1000}
      S: FAILURE {"neo4j_code": "Neo.ClientError.Request.Invalid", "message": "message PULL cannot be handled by a connection in state READY", ${gql}}
      STATE: DEFUNCT`);
  });

  it('keeps serving a connection whose client reads slowly, then rolls back when it leaves', async () => {
    // The raw client stops reading in the middle of a large result; the server must neither buffer
    // without bound nor hold the database: another connection writes meanwhile.
    const slow = await connectRaw(server.boltPort, { credentials: password });
    slow.pause();
    slow.send(Buffer.concat([boltRequest('RUN', 'UNWIND range(1, 100000000) AS i RETURN i', new Map(), new Map()), boltRequest('PULL', new Map([['n', -1n]]))]));
    await new Promise((r) => setTimeout(r, 300));
    const other = await connectRaw(server.boltPort, { credentials: password });
    other.send(Buffer.concat([boltRequest('RUN', 'CREATE (:WhileSlow) RETURN 1 AS one', new Map(), new Map()), boltRequest('PULL', new Map([['n', -1n]]))]));
    const [runReply] = await other.read(1);
    assert.equal(runReply?.tag, responseTag.SUCCESS);
    const { records, summary } = await other.readSummary();
    assert.deepEqual(records, [[1n]]);
    assert.equal(summary.tag, responseTag.SUCCESS);
    await other.goodbye();
    slow.destroy();
    await slow.closed;
  });
});
