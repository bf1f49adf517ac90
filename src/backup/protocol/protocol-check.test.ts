import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isQuiverError } from '../../util/errors.js';
import { headers, protocolVersion } from './protocol.js';
import { checkDatabasesResponse, checkMetadataResponse, checkSnapshotHeaders, checkTransactionsHeaders, parseErrorBody } from './protocol-check.js';

const database = { name: 'neo4j', databaseId: 'c8368b24-55e2-474d-bb41-75657f5bfcde', storeId: 's1', status: 'online', role: 'primary', lastCommittedTxId: 5, lastCommittedChecksum: 4294967295, lastCommitTimeMs: 1, oldestTxIdInLog: 1, storeBytes: 4096 };
const snapshot = {
  [headers.txId]: '5',
  [headers.txChecksum]: '7',
  [headers.txTimeMs]: '1700000000000',
  [headers.databaseId]: database.databaseId,
  [headers.storeId]: 's1',
  [headers.payloadFormat]: 'lmdb-pages-v1',
  [headers.imageBytes]: '8192',
  [headers.blockRawBytes]: '1048576',
};

function rejects(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isQuiverError(e, 'ServerAnswerInvalid'), String(e));
    assert.equal(e.message, message);
    return true;
  });
}

describe('checks of backup service answers', () => {
  it('passes well-formed answers through, typed', () => {
    assert.deepEqual(checkDatabasesResponse({ protocol: protocolVersion, serverId: 'x', databases: [database] }, 'h:1'), { protocol: protocolVersion, serverId: 'x', databases: [database] });
    assert.deepEqual(checkSnapshotHeaders(snapshot, 'h:1', 'neo4j'), { txId: 5, txChecksum: 7, txTimeMs: 1700000000000, databaseId: database.databaseId, storeId: 's1', payloadFormat: 'lmdb-pages-v1', imageBytes: 8192, blockRawBytes: 1048576 });
    assert.deepEqual(checkMetadataResponse({ commands: ['CREATE ROLE r'] }, 'h:1', 'neo4j'), ['CREATE ROLE r']);
    assert.deepEqual(checkTransactionsHeaders({ [headers.lastTxId]: '9' }, 'h:1', 'neo4j'), { lastTxId: 9 });
  });

  it('names the field and the server of a malformed listing', () => {
    const listing = (entry: Record<string, unknown>) => ({ protocol: protocolVersion, databases: [{ ...database, ...entry }] });
    const at = 'the database listing from h:1 is malformed: ';
    rejects(() => checkDatabasesResponse(null, 'h:1'), `${at}the answer is not an object`);
    rejects(() => checkDatabasesResponse({ protocol: 2, databases: [1] }, 'h:1'), `${at}databases[0] is not an object`);
    rejects(() => checkDatabasesResponse(listing({ name: 'a/b' }), 'h:1'), `${at}databases[0].name "a/b" is not a database name: it contains "/"`);
    rejects(() => checkDatabasesResponse(listing({ name: 'NEO4J' }), 'h:1'), `${at}databases[0].name "NEO4J" is not a database name: it is not in lower case`);
    rejects(() => checkDatabasesResponse(listing({ databaseId: 'x' }), 'h:1'), `${at}databases[0].databaseId "x" is not a lowercase UUID`);
    rejects(() => checkDatabasesResponse(listing({ lastCommittedChecksum: 2 ** 32 }), 'h:1'), `${at}databases[0].lastCommittedChecksum is 4294967296, not a whole number from 0 to 4294967295`);
    rejects(() => checkDatabasesResponse(listing({ oldestTxIdInLog: 1.5 }), 'h:1'), `${at}databases[0].oldestTxIdInLog is 1.5, not a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`);
    rejects(() => checkDatabasesResponse(listing({ role: 'secondary' }), 'h:1'), `${at}databases[0].role is "secondary", not "primary"`);
  });

  it('names the header and the server of malformed snapshot and transaction headers', () => {
    const at = 'the store snapshot of "neo4j" from h:1 is malformed: ';
    rejects(() => checkSnapshotHeaders({ ...snapshot, [headers.txId]: '-1' }, 'h:1', 'neo4j'), `${at}header ${headers.txId} is "-1", not a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`);
    rejects(() => checkSnapshotHeaders({ ...snapshot, [headers.txId]: '99999999999999999' }, 'h:1', 'neo4j'), `${at}header ${headers.txId} is "99999999999999999", not a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`);
    rejects(() => checkSnapshotHeaders({ ...snapshot, [headers.txChecksum]: '4294967296' }, 'h:1', 'neo4j'), `${at}header ${headers.txChecksum} is "4294967296", not a whole number from 0 to 4294967295`);
    rejects(() => checkSnapshotHeaders({ ...snapshot, [headers.imageBytes]: ['1', '2'] }, 'h:1', 'neo4j'), `${at}header ${headers.imageBytes} is given 2 times`);
    rejects(() => checkSnapshotHeaders({ ...snapshot, [headers.databaseId]: 'NOT-A-UUID' }, 'h:1', 'neo4j'), `${at}header ${headers.databaseId} is "NOT-A-UUID", not a lowercase UUID`);
    rejects(() => checkTransactionsHeaders({}, 'h:1', 'neo4j'), `the transactions of "neo4j" from h:1 are malformed: header ${headers.lastTxId} is missing`);
  });

  it('reads only the string fields of an error body', () => {
    assert.deepEqual(parseErrorBody('{"code":"DatabaseNotFound","message":"m","hint":7}'), { code: 'DatabaseNotFound', message: 'm' });
    assert.deepEqual(parseErrorBody('not json'), {});
    assert.deepEqual(parseErrorBody('null'), {});
  });
});
