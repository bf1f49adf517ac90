// The server over real TCP sockets: raw protocol edge cases, back-pressure, disconnects, and a seeded fuzz run.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Value } from '../values/value.js';
import { Dechunker, chunk } from './chunking.js';
import { decodeMessage, encodeMessage, requestTag, responseTag } from './messages.js';
import { PackStreamWriter } from './packstream.js';
import { type BoltServer, startBoltServer } from './server.js';
import { TestBackend } from './test-backend.js';
import { mulberry32 } from '../util/seeded-random.js';

const driverHandshake = Buffer.from('6060b017000001ff000808050002040400000003', 'hex');
const writer = new PackStreamWriter({ elementIds: true, utcDateTime: true });

function request(name: keyof typeof requestTag, ...fields: Value[]): Buffer {
  return Buffer.from(chunk(encodeMessage(writer, requestTag[name], fields).slice()));
}
const hello = request('HELLO', new Map([['user_agent', 'raw/1']]));
const logon = request('LOGON', new Map([['scheme', 'basic'], ['principal', 'neo4j'], ['credentials', 'pass']]));

/** A bare Bolt client: send bytes, read the version reply and whole messages. */
class RawClient {
  private readonly socket: net.Socket;
  private buffered = Buffer.alloc(0);
  private readonly dechunker = new Dechunker();
  private readonly messages: { tag: number; fields: Value[] }[] = [];
  private handshakeDone = false;
  private wake: (() => void) | null = null;
  readonly closed: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('error', () => {});
    this.closed = new Promise((resolve) => this.socket.on('close', () => resolve()));
    this.socket.on('close', () => this.wake?.());
    this.socket.on('data', (b: Buffer) => {
      if (!this.handshakeDone) {
        this.buffered = Buffer.concat([this.buffered, b]);
        if (this.buffered.length < 4) return;
        this.handshakeDone = true;
        b = this.buffered.subarray(4);
      }
      for (const m of this.dechunker.push(b)) this.messages.push(decodeMessage(m));
      this.wake?.();
    });
  }

  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  async version(): Promise<string> {
    while (this.buffered.length < 4 && !this.socket.destroyed) await this.waitForData();
    return this.buffered.subarray(0, 4).toString('hex');
  }

  /** Waits for `count` messages; returns their tags (and fields). */
  async read(count: number): Promise<{ tag: number; fields: Value[] }[]> {
    while (this.messages.length < count) {
      if (this.socket.destroyed || this.socket.readableEnded) throw new Error(`connection closed after ${this.messages.length} of ${count} messages`);
      await this.waitForData();
    }
    return this.messages.splice(0, count);
  }

  pause(): void {
    this.socket.pause();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private waitForData(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = null;
        resolve();
      };
    });
  }
}

async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('Bolt server over TCP', () => {
  let server: BoltServer;
  let backend: TestBackend;
  const logs: string[] = [];

  before(async () => {
    backend = new TestBackend();
    server = await startBoltServer({ host: '127.0.0.1', port: 0, backend, log: (l) => logs.push(l) });
  });
  after(async () => {
    await server.close();
  });

  /** Logs in, runs RETURN 1 AS n and checks the record: proof the server still serves. */
  async function assertServing(): Promise<void> {
    const c = new RawClient(server.address.port);
    c.send(Buffer.concat([driverHandshake, hello, logon, request('RUN', 'RETURN 1 AS n', new Map(), new Map()), request('PULL', new Map([['n', 1000n]]))]));
    assert.equal(await c.version(), '00000805');
    const replies = await c.read(5);
    assert.deepEqual(
      replies.map((m) => m.tag),
      [responseTag.SUCCESS, responseTag.SUCCESS, responseTag.SUCCESS, responseTag.RECORD, responseTag.SUCCESS],
    );
    assert.deepEqual(replies[3]?.fields, [[1n]]);
    c.send(request('GOODBYE'));
    await c.closed;
  }

  it('negotiates 5.8 and serves requests pipelined behind the handshake in one packet', async () => {
    await assertServing();
  });

  it('advertises the bound address when none is configured', () => {
    assert.equal(server.advertisedAddress, `127.0.0.1:${server.address.port}`);
  });

  it('answers 00000000 and closes when no version is acceptable', async () => {
    const c = new RawClient(server.address.port);
    c.send(Buffer.from('6060b017' + '00000003' + '00000002' + '00000001' + '00030304', 'hex'));
    assert.equal(await c.version(), '00000000');
    await c.closed;
  });

  it('closes a connection that sends HTTP, with a log line, and keeps serving others', async () => {
    const before = logs.length;
    const c = new RawClient(server.address.port);
    c.send(Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'));
    await c.closed;
    assert.ok(logs.slice(before).some((l) => /not a Bolt handshake/.test(l) && /HTTP/.test(l)), logs.join('\n'));
    await assertServing();
  });

  it('replies to a malformed message with FAILURE and closes that connection', async () => {
    const c = new RawClient(server.address.port);
    c.send(Buffer.concat([driverHandshake, hello, Buffer.from([0, 2, 0xb0, 0x55, 0, 0])])); // unknown tag 0x55
    await c.version();
    const [success, failure] = await c.read(2);
    assert.equal(success?.tag, responseTag.SUCCESS);
    assert.equal(failure?.tag, responseTag.FAILURE);
    assert.equal((failure?.fields[0] as Map<string, Value>).get('neo4j_code'), 'Neo.ClientError.Request.Invalid');
    await c.closed;
  });

  it('ignores NOOP chunks between messages', async () => {
    const c = new RawClient(server.address.port);
    c.send(Buffer.concat([driverHandshake, Buffer.from([0, 0]), hello, Buffer.from([0, 0, 0, 0]), logon]));
    await c.version();
    assert.deepEqual((await c.read(2)).map((m) => m.tag), [responseTag.SUCCESS, responseTag.SUCCESS]);
    c.destroy();
  });

  it('rolls back an open transaction when the client disconnects', async () => {
    const rollbacks = backend.activity.rollbacks;
    const c = new RawClient(server.address.port);
    c.send(Buffer.concat([driverHandshake, hello, logon, request('BEGIN', new Map())]));
    await c.version();
    await c.read(3);
    assert.equal(backend.activity.openTransactions, 1);
    c.destroy();
    await eventually(() => backend.activity.openTransactions === 0, 'the rollback');
    assert.equal(backend.activity.rollbacks, rollbacks + 1);
  });

  it('stops pulling from the backend while the client does not read, and rolls back when it leaves', async () => {
    const rollbacks = backend.activity.autoCommitRollbacks;
    const pullsBefore = backend.activity.pullSizes.length;
    const rows = 3_000_000n;
    const c = new RawClient(server.address.port);
    c.send(Buffer.concat([driverHandshake, hello, logon]));
    await c.version();
    await c.read(2);
    c.pause();
    c.send(Buffer.concat([request('RUN', 'UNWIND range(1, $n) AS i RETURN i', new Map([['n', rows]]), new Map()), request('PULL', new Map([['n', -1n]]))]));
    try {
      await eventually(() => backend.activity.pullSizes.length > pullsBefore + 10, 'the first pulls');
      // The server keeps producing until the kernel's socket buffers and our write high-water mark
      // are full (several MiB on loopback; slower on a loaded machine, as the server yields to other
      // work between writes), then must stop: wait for 300 ms without a pull.
      const stopDeadlineMs = Date.now() + 20_000;
      let steps = backend.activity.pullSizes.length - pullsBefore;
      for (;;) {
        await new Promise((r) => setTimeout(r, 300));
        const stepsLater = backend.activity.pullSizes.length - pullsBefore;
        if (stepsLater === steps) break;
        assert.ok(Date.now() < stopDeadlineMs, `still pulling after 20 s while the client is not reading (${stepsLater} steps)`);
        steps = stepsLater;
      }
      assert.ok(steps * 1000 < Number(rows), `pulled ${steps} steps of 1000 rows before stopping`);
    } finally {
      c.destroy();
    }
    await eventually(() => backend.activity.autoCommitRollbacks === rollbacks + 1, 'the auto-commit rollback');
    await eventually(() => server.connectionCount() === 0, 'connections to close');
  });

  it('survives random and truncated byte streams, then still serves (seeded)', async (t) => {
    const seed = Number(process.env['BOLT_FUZZ_SEED'] ?? Date.now() % 2 ** 31);
    t.diagnostic(`fuzz seed ${seed} (rerun with BOLT_FUZZ_SEED=${seed})`);
    const random = mulberry32(seed);
    const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
    const valid = Buffer.concat([
      driverHandshake,
      hello,
      logon,
      request('BEGIN', new Map([['db', 'neo4j']])),
      request('RUN', 'UNWIND range(1, $n) AS i RETURN i', new Map([['n', 50n]]), new Map()),
      request('PULL', new Map([['n', 10n]])),
      request('RUN', 'RETURN $x AS x', new Map<string, Value>([['x', [1n, 'two', new Map([['three', 3.5]])]]]), new Map()),
      request('PULL', new Map([['n', -1n]])),
      request('COMMIT'),
    ]);
    const cases: (() => Buffer)[] = [
      () => bytes(Math.floor(random() * 64)),
      () => Buffer.concat([driverHandshake, bytes(Math.floor(random() * 200))]),
      () => valid.subarray(0, Math.floor(random() * valid.length)),
      () => {
        const b = Buffer.from(valid);
        for (let i = 0; i < 3; i++) b[20 + Math.floor(random() * (b.length - 20))] = Math.floor(random() * 256);
        return b;
      },
      () => Buffer.concat([driverHandshake, Buffer.from([0xff, 0xff]), bytes(100)]),
    ];
    const iterations = 200;
    const parallel = 10;
    try {
      for (let i = 0; i < iterations; i += parallel) {
        await Promise.all(
          Array.from({ length: parallel }, async () => {
            const c = new RawClient(server.address.port);
            c.send((cases[Math.floor(random() * cases.length)] as () => Buffer)());
            // Give the server a moment to react, then leave (or see it leave first).
            await Promise.race([c.closed, new Promise((r) => setTimeout(r, 5 + random() * 20))]);
            c.destroy();
            await c.closed;
          }),
        );
      }
      await assertServing();
      await eventually(() => server.connectionCount() === 0, 'all fuzz connections to close');
      await eventually(() => backend.activity.openTransactions === 0, 'all fuzz transactions to roll back');
    } catch (e) {
      throw new Error(`fuzz failed with BOLT_FUZZ_SEED=${seed}: ${(e as Error).message}`, { cause: e });
    }
  });
});
