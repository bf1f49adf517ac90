/**
 * `npm run demo`: Quiver's main job on an embedded default, with no setup. It starts a server in a
 * temporary home, writes a sample graph while a writer keeps going, takes a FULL and then a DIFF
 * backup with the real admin tool, prints the inspect table, restores the chain as a new
 * database, shows that it answers the same, and cleans up.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import neo4j from 'neo4j-driver';
import { defaultHome } from '../server/home.js';

const root = defaultHome();
const quiver = join(root, 'bin', 'quiver');
const admin = join(root, 'bin', 'quiver-admin');

function step(n: number, text: string): void {
  process.stdout.write(`\n\x1b[1m== ${n}. ${text}\x1b[0m\n`);
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

function runAdmin(home: string, args: string[]): number {
  process.stdout.write(`$ quiver-admin ${args.join(' ')}\n`);
  const r = spawnSync(admin, args, { env: { ...process.env, QUIVER_HOME: home }, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`quiver-admin ${args[1]} exited with ${r.status}`);
  return r.status;
}

async function startServer(home: string): Promise<ChildProcess> {
  const proc = spawn(quiver, ['console'], { env: { ...process.env, QUIVER_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`server did not start:\n${out}`)), 30_000);
    proc.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes(' Started.')) {
        clearTimeout(t);
        res();
      }
    });
    proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    proc.once('exit', (c) => rej(new Error(`server exited (${c}):\n${out}`)));
  });
  proc.removeAllListeners('exit');
  for (const line of out.trim().split('\n')) process.stdout.write(`  server: ${line}\n`);
  return proc;
}

const summaryQuery = `MATCH (p:Person) WITH count(p) AS people
  MATCH (m:Movie) WITH people, count(m) AS movies
  MATCH (:Person)-[r:ACTED_IN]->(:Movie) WITH people, movies, count(r) AS roles
  OPTIONAL MATCH (e:Event) RETURN people, movies, roles, count(e) AS events, max(e.seq) AS lastEvent`;

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'quiver-demo-'));
  const backups = join(home, 'backups');
  mkdirSync(join(home, 'conf'), { recursive: true });
  mkdirSync(backups);
  const boltPort = await freePort();
  const backupPort = await freePort();
  writeFileSync(
    join(home, 'conf', 'quiver.conf'),
    [`server.bolt.listen_address=127.0.0.1:${boltPort}`, `server.backup.listen_address=127.0.0.1:${backupPort}`, 'dbms.security.auth_enabled=false', ''].join('\n'),
  );
  let server: ChildProcess | null = null;
  const driver = neo4j.driver(`bolt://127.0.0.1:${boltPort}`, neo4j.auth.basic('neo4j', 'unused'));
  try {
    step(1, `Start a Quiver server in ${home} (Bolt ${boltPort}, backup service ${backupPort})`);
    server = await startServer(home);

    step(2, 'Write a sample graph through the official neo4j-driver');
    await driver.executeQuery('CREATE CONSTRAINT person_name IF NOT EXISTS FOR (p:Person) REQUIRE p.name IS UNIQUE');
    await driver.executeQuery('CREATE INDEX movie_title IF NOT EXISTS FOR (m:Movie) ON (m.title)');
    const people = Array.from({ length: 200 }, (_, i) => ({ name: `Person ${i}`, born: neo4j.int(1940 + (i % 60)) }));
    const movies = Array.from({ length: 50 }, (_, i) => ({ title: `Movie ${i}`, released: neo4j.int(1980 + (i % 40)) }));
    await driver.executeQuery('UNWIND $people AS p CREATE (:Person {name: p.name, born: p.born})', { people });
    await driver.executeQuery('UNWIND $movies AS m CREATE (:Movie {title: m.title, released: m.released})', { movies });
    await driver.executeQuery(
      `MATCH (p:Person), (m:Movie) WHERE (p.born + m.released) % 7 = 0 CREATE (p)-[:ACTED_IN {role: 'role of ' + p.name}]->(m)`,
    );
    const first = await driver.executeQuery(summaryQuery);
    process.stdout.write(`  ${JSON.stringify(first.records[0]!.toObject(), (_, v) => (typeof v === 'object' && v && 'low' in v ? Number(v) : v))}\n`);

    step(3, 'Keep a writer going in the background (one small transaction every few ms)');
    let seq = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        seq++;
        await driver.executeQuery('CREATE (:Event {seq: $seq, at: datetime()})', { seq: neo4j.int(seq) });
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    process.stdout.write(`  ${seq} events written so far\n`);

    step(4, 'FULL backup while the writer runs');
    runAdmin(home, ['database', 'backup', `--from=127.0.0.1:${backupPort}`, `--to-path=${backups}`, 'neo4j']);
    await new Promise((r) => setTimeout(r, 500));

    step(5, 'DIFF backup (AUTO picks a differential: only the transactions since the FULL)');
    runAdmin(home, ['database', 'backup', `--from=127.0.0.1:${backupPort}`, `--to-path=${backups}`, 'neo4j']);

    step(6, 'Stop the writer and take a last DIFF, so the backup chain ends at the current state');
    writing = false;
    await writer;
    process.stdout.write(`  ${seq} events written in total\n`);
    runAdmin(home, ['database', 'backup', `--from=127.0.0.1:${backupPort}`, `--to-path=${backups}`, 'neo4j']);

    step(7, 'Inspect the backup folder (header and trailer only: constant time per artifact)');
    runAdmin(home, ['database', 'backup', `--inspect-path=${backups}`]);

    step(8, 'Restore the chain as a new database "restored" while the server keeps running');
    // --apply-metadata finishes the job on the server: CREATE DATABASE (adopting the restored
    // store) and the users and roles carried by the backup.
    runAdmin(home, ['database', 'restore', `--from-path=${backups}`, `--apply-metadata=bolt://127.0.0.1:${boltPort}`, 'restored']);

    step(9, 'Ask both databases the same question');
    const a = (await driver.executeQuery(summaryQuery, {}, { database: 'neo4j' })).records[0]!.toObject();
    const b = (await driver.executeQuery(summaryQuery, {}, { database: 'restored' })).records[0]!.toObject();
    const show = (o: Record<string, unknown>) => JSON.stringify(o, (_, v) => (typeof v === 'object' && v && 'low' in v ? Number(v) : v));
    process.stdout.write(`  neo4j:    ${show(a)}\n  restored: ${show(b)}\n`);
    if (show(a) !== show(b)) throw new Error('the restored database differs from the source');
    process.stdout.write('  The restored database answers exactly like the source.\n');
  } finally {
    step(10, 'Stop the server and clean up');
    await driver.close();
    if (server) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(home, { recursive: true, force: true });
    process.stdout.write('  done.\n');
  }
}

main().catch((e) => {
  process.stderr.write(`demo failed: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
