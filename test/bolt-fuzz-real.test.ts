// Random, mutated and truncated byte streams against a real server's Bolt port (seeded; rerun with
// BOLT_FUZZ_SEED=<seed>). The server must neither crash nor disturb a driver session that keeps
// writing and reading on another connection the whole time.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import neo4j, { type Driver } from 'neo4j-driver';
import type { Value } from '../src/values/value.js';
import { mulberry32 } from '../src/util/seeded-random.js';
import { RawBoltClient, boltRequest, driverHandshake, sleep } from './support/bolt-raw.js';
import { startTestServer, type TestServer } from './support/harness.js';

/**
 * Fuzz connections in total, and how many run at once. Bounded so the file stays well under a
 * minute; BOLT_FUZZ_CONNECTIONS raises it for a longer local soak.
 */
const fuzzConnections = Math.min(100_000, Number(process.env['BOLT_FUZZ_CONNECTIONS'] ?? 400));
const fuzzParallel = 8;
/** Longest a fuzz connection stays before it disconnects (it may be closed by the server sooner). */
const fuzzLingerMsMax = 40;
/** A background query slower than this means the fuzz starved other connections. */
const backgroundQueryMsMax = 10_000;

const hello = boltRequest('HELLO', new Map([['user_agent', 'fuzz/1']]));
const logon = boltRequest('LOGON', new Map([['scheme', 'basic'], ['principal', 'neo4j'], ['credentials', 'x']]));
const login = Buffer.concat([driverHandshake, hello, logon]);

/** A well-formed conversation that writes in a transaction and commits: the raw material of mutations. */
const valid = Buffer.concat([
  login,
  boltRequest('BEGIN', new Map([['db', 'neo4j']])),
  boltRequest('RUN', 'UNWIND range(1, $n) AS i CREATE (f:Fuzz {i: i}) RETURN f.i', new Map([['n', 20n]]), new Map()),
  boltRequest('PULL', new Map([['n', 10n]])),
  boltRequest('RUN', 'RETURN $x AS x', new Map<string, Value>([['x', [1n, 'two', new Map([['three', 3.5]])]]]), new Map()),
  boltRequest('PULL', new Map([['n', -1n]])),
  boltRequest('COMMIT'),
  boltRequest('RUN', 'MATCH (f:Fuzz) RETURN count(f)', new Map(), new Map([['mode', 'r']])),
  boltRequest('PULL', new Map([['n', -1n]])),
]);

/** Cypher-ish fragments for random query text: cheap to evaluate, so no fuzz query can hog the server. */
const fragments = [
  'MATCH', 'RETURN', 'WITH', 'UNWIND', 'CREATE', 'MERGE', 'DELETE', 'SET', 'WHERE', 'LIMIT 3', 'ORDER BY', 'CALL', 'YIELD',
  '(', ')', '[', ']', '{', '}', ':', ',', '.', '-', '->', '<-', '=', '+', '*', '$x', '$missing', 'n', 'f', ':Fuzz', 'i: 1',
  "'str'", '"unterminated', '1', '-9223372036854775808', '9223372036854775808', '1.5e308', 'null', 'true', 'range(1, 5)',
  'count(*)', 'collect(n)', 'toInteger(', 'date(', "datetime('2024-13-45')", 'duration(', '`quoted', '/*', '//', '\\u',
  'SHOW DATABASES', 'DROP DATABASE', 'CREATE DATABASE', 'ALTER CURRENT USER SET PASSWORD FROM', 'CREATE INDEX', 'AS', 'x',
];

describe('Bolt fuzzing against the real server', () => {
  let server: TestServer;
  let driver: Driver;

  before(async () => {
    server = await startTestServer();
    driver = server.driver();
  });
  after(async () => {
    await driver?.close();
    await server?.stop();
    server?.cleanup();
  });

  it('survives random and truncated byte streams while another connection keeps working (seeded)', async (t) => {
    const seed = Number(process.env['BOLT_FUZZ_SEED'] ?? Date.now() % 2 ** 31);
    t.diagnostic(`fuzz seed ${seed} (rerun with BOLT_FUZZ_SEED=${seed})`);
    const random = mulberry32(seed);
    const int = (n: number): number => Math.floor(random() * n);
    const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
    const randomQuery = (): string => Array.from({ length: 1 + int(12) }, () => fragments[int(fragments.length)]).join(' ');

    const cases: [string, () => Buffer][] = [
      ['random bytes', () => bytes(int(64))],
      ['handshake then random bytes', () => Buffer.concat([driverHandshake, bytes(int(200))])],
      ['truncated conversation', () => valid.subarray(0, int(valid.length))],
      [
        'conversation with flipped bytes',
        () => {
          const b = Buffer.from(valid);
          for (let i = 0, flips = 1 + int(4); i < flips; i++) b[20 + int(b.length - 20)] = int(256);
          return b;
        },
      ],
      ['lying chunk header', () => Buffer.concat([driverHandshake, Buffer.from([0xff, 0xff]), bytes(int(300))])],
      ['random message body in a valid chunk', () => {
        const body = bytes(1 + int(60));
        body[0] = 0xb0 | int(16);
        return Buffer.concat([login, Buffer.from([body.length >> 8, body.length & 0xff]), body, Buffer.from([0, 0])]);
      }],
      [
        'random query text',
        () => Buffer.concat([login, boltRequest('RUN', randomQuery(), new Map([['x', bytes(4).toString('latin1')]]), new Map()), boltRequest('PULL', new Map([['n', 5n]]))]),
      ],
      [
        'open write transaction, then gone',
        () => Buffer.concat([login, boltRequest('BEGIN', new Map()), boltRequest('RUN', 'CREATE (:Fuzz {abandoned: true})', new Map(), new Map()), boltRequest('PULL', new Map([['n', -1n]]))]),
      ],
      [
        'huge result, then gone mid-stream',
        () => Buffer.concat([login, boltRequest('RUN', 'UNWIND range(1, 100000000) AS i RETURN i', new Map(), new Map()), boltRequest('PULL', new Map([['n', -1n]]))]),
      ],
      ['deeply nested parameter', () => {
        const depth = 60 + int(20);
        const nested = Buffer.concat([Buffer.alloc(depth, 0x91), Buffer.from([0x01])]);
        const body = Buffer.concat([Buffer.from([0xb3, 0x10, 0x88]), Buffer.from('RETURN 1'), Buffer.from([0xa1, 0x81, 0x78]), nested, Buffer.from([0xa0])]);
        return Buffer.concat([login, Buffer.from([body.length >> 8, body.length & 0xff]), body, Buffer.from([0, 0])]);
      }],
    ];
    const used = new Map<string, number>();

    // The bystander: a driver session that writes, then reads its count back, for the whole run.
    let stop = false;
    let committed = 0;
    let slowestMs = 0;
    const problems: string[] = [];
    const bystander = (async () => {
      const session = driver.session({ database: 'neo4j' });
      try {
        while (!stop) {
          const started = performance.now();
          try {
            await session.run('CREATE (:Bystander {i: $i})', { i: neo4j.int(committed) });
            committed++;
            const { records } = await session.run('MATCH (b:Bystander) RETURN count(b) AS c');
            const seen = records[0]?.get('c').toNumber();
            if (seen !== committed) problems.push(`bystander saw ${seen} of its ${committed} nodes`);
          } catch (e) {
            problems.push(`bystander query failed: ${(e as Error).message}`);
          }
          const ms = performance.now() - started;
          slowestMs = Math.max(slowestMs, ms);
          if (ms > backgroundQueryMsMax) problems.push(`bystander round trip took ${ms.toFixed(0)} ms`);
          await sleep(2);
        }
      } finally {
        await session.close();
      }
    })();

    // Start fuzzing once the bystander is connected and has done a round.
    while (committed < 2 && problems.length === 0) await sleep(5);
    /** Bystander commits seen at the end of each fuzz group: it must progress throughout, not only before or after. */
    const committedAfterGroup: number[] = [committed];
    try {
      for (let done = 0; done < fuzzConnections; done += fuzzParallel) {
        await Promise.all(
          Array.from({ length: fuzzParallel }, async () => {
            const [name, make] = cases[int(cases.length)] as [string, () => Buffer];
            used.set(name, (used.get(name) ?? 0) + 1);
            const c = new RawBoltClient(server.boltPort);
            const payload = make();
            // Sometimes split the payload at a random byte, as TCP may.
            const cut = int(payload.length + 1);
            c.send(payload.subarray(0, cut));
            if (cut < payload.length) {
              await sleep(int(3));
              c.send(payload.subarray(cut));
            }
            await c.closedWithin(int(fuzzLingerMsMax));
            c.destroy();
            await c.closed;
          }),
        );
        assert.equal(problems.length, 0, problems.join('\n'));
        committedAfterGroup.push(committed);
      }
      // Let the bystander do a few more rounds after the last fuzz connection.
      const committedAtEnd = committed;
      while (committed < committedAtEnd + 3 && problems.length === 0) await sleep(10);
      stop = true;
      await bystander;
      t.diagnostic(`cases: ${[...used].map(([n, k]) => `${n} ×${k}`).join(', ')}; bystander committed ${committed}, slowest round trip ${slowestMs.toFixed(0)} ms`);

      assert.deepEqual(problems, []);
      const groups = committedAfterGroup.length - 1;
      const halves = [0, 1].map((h) => (committedAfterGroup[Math.floor(((h + 1) * groups) / 2)] ?? 0) - (committedAfterGroup[Math.floor((h * groups) / 2)] ?? 0));
      assert.ok(halves.every((n) => n > 0), `bystander commits in each half of the fuzz: ${halves.join(', ')}`);
      assert.ok(server.pid !== undefined && processAlive(server.pid), 'the server process is gone');
      // A fresh client still gets served, abandoned transactions were rolled back, the writer slot is free.
      const check = await driver.executeQuery('MATCH (f:Fuzz {abandoned: true}) RETURN count(f) AS c', {}, { database: 'neo4j' });
      assert.equal(check.records[0]?.get('c').toNumber(), 0);
      const write = await driver.executeQuery('CREATE (:AfterFuzz) RETURN 1 AS one', {}, { database: 'neo4j' });
      assert.equal(write.records[0]?.get('one').toNumber(), 1);
      assert.doesNotMatch(server.output, /internal error|Uncaught|FATAL|ERROR/, 'the server log shows no internal error');
    } catch (e) {
      stop = true;
      await bystander.catch(() => undefined);
      throw new Error(`fuzz failed with BOLT_FUZZ_SEED=${seed}: ${(e as Error).message}`, { cause: e });
    }
  });

  it('serves other connections while one client reads a huge result as fast as it can', { timeout: 60_000 }, async () => {
    // A fast reader never fills the server's socket buffer, so nothing in the write path waits;
    // the server must still give other connections their turn.
    const hog = net.connect(server.boltPort, '127.0.0.1');
    let hogBytes = 0;
    hog.on('data', (b: Buffer) => (hogBytes += b.length));
    hog.on('error', () => undefined);
    hog.write(
      Buffer.concat([login, boltRequest('RUN', 'UNWIND range(1, 100000000) AS i RETURN i', new Map(), new Map()), boltRequest('PULL', new Map([['n', -1n]]))]),
    );
    try {
      while (hogBytes < 1_000_000) await sleep(10);
      const latenciesMs: number[] = [];
      for (let i = 0; i < 10; i++) {
        const started = performance.now();
        const { records } = await driver.executeQuery('RETURN $i AS i', { i: neo4j.int(i) }, { database: 'neo4j' });
        latenciesMs.push(performance.now() - started);
        assert.equal(records[0]?.get('i').toNumber(), i);
      }
      const hogBytesAfter = hogBytes;
      latenciesMs.sort((a, b) => a - b);
      assert.ok((latenciesMs[4] as number) < 1000, `median query latency ${latenciesMs[4]?.toFixed(0)} ms beside a streaming client`);
      await sleep(50);
      assert.ok(hogBytes > hogBytesAfter, 'the streaming client kept being served too');
    } finally {
      hog.destroy();
    }
  });
});

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
