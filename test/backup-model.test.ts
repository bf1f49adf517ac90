/**
 * Model-based test of backup and restore on real processes (#14): a seeded random sequence of
 * operations against one real server (database neo4j, the Workload its only writer of the :W graph)
 * and one real backup folder — writes, FULL/DIFF/AUTO backups (sometimes under load), two AUTO runs
 * at once, aggregate-backup of the folder or of one artifact, truncation, byte flips and deletion of
 * artifacts, server restarts (SIGTERM or SIGKILL), log pruning, restores under a new name (sometimes
 * with --restore-until) and `backup verify` — each checked against the small model in
 * support/backup-folder-model.ts. A restore that exits 0 short of what the folder holds fails.
 *
 * Replay and length: the seed is printed first; QUIVER_MODEL_SEED=<n> replays it, QUIVER_MODEL_STEPS
 * sets the length (default 40, the CI run), QUIVER_MODEL_LONG=1 runs 3000 steps. Every step draws
 * the same number of random values whatever happened, so a replay takes the same steps; what the
 * processes do within a step (how many transactions the workload commits before it stops, which of
 * two racing runs finishes first) can differ, and the model follows what actually happened.
 * QUIVER_MODEL_STRICT_DAMAGE=1 also fails a restore that refuses over a damaged artifact the folder
 * could do without (see `refusedOverDamage`).
 *
 * Log pruning: the server runs with 128 KiB log files and the default retention (2 days), so it
 * never prunes by itself. A "prune" step restarts it with keep_none and a checkpoint per
 * transaction, commits ~100 KiB transactions (one :Pad node, outside the :W graph the model
 * compares) until its oldest log entry lies past the end of the folder's chain, then restarts it
 * with the normal settings: the next DIFF from the folder cannot be served.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Driver } from 'neo4j-driver';
import { BackupConnection } from '../src/backup/client/remote.js';
import { mulberry32 } from '../src/util/seeded-random.js';
import {
  type BackupShape,
  type BackupType,
  chainView,
  describeModel,
  expectAggregate,
  expectBackup,
  expectRestore,
  expectVerifyClean,
  isEmpty,
  type ModelArtifact,
  type RefusalCause,
  refusalPatterns,
} from './support/backup-folder-model.js';
import { backup, describeRun, graphLinesOfStore, restoreToTemp, Workload } from './support/backup-helpers.js';
import { type CliResult, runAdmin, startTestServer, tempDir, type TestServer } from './support/harness.js';
import { flipByte, truncateFile, txIdOfBookmarks } from './support/restore-cli.js';

const seed = Number(process.env.QUIVER_MODEL_SEED ?? Math.floor(Math.random() * 2 ** 31));
const stepCount = Number(process.env.QUIVER_MODEL_STEPS ?? (process.env.QUIVER_MODEL_LONG === '1' ? 3000 : 40));
const strictDamage = process.env.QUIVER_MODEL_STRICT_DAMAGE === '1';
/**
 * Known product defects to look past while exploring (comma-separated), never set in CI:
 * `name-collision` — two runs started in the same second pick the same artifact name (the name is
 * chosen when a run starts, the file is linked when it ends) and the later one fails with "already
 * exists" instead of taking the `_001` suffix (#14 finding 2, still open; seed 3, 2 steps).
 */
const tolerated = new Set((process.env.QUIVER_MODEL_TOLERATE ?? '').split(',').filter(Boolean));
const database = 'neo4j';

/** Step kinds and their weights. Restores are the point; the slow ones (restart, prune) are rare. */
const weights = {
  write: 20,
  full: 5,
  diff: 7,
  auto: 12,
  race: 5,
  aggregate: 6,
  truncate: 3,
  flip: 3,
  delete: 3,
  restart: 3,
  prune: 2,
  restore: 20,
  verify: 4,
} as const;
type StepKind = keyof typeof weights;
/** Random values each step draws, used or not (replays take the same steps). */
const drawsPerStep = 6;
/** A run refused for a running backup must end at once: not after the run that holds the folder, plus this. */
const refusedRunSlackMs = 1000;
/** Bytes of one pad transaction: the 128 KiB log files rotate every other one. */
const padBytes = 100_000;
const padRoundsMax = 60;
const trailerBytes = 112;

const normalConf: Record<string, string> = { 'db.tx_log.rotation.size': '128k' };
const pruningConf: Record<string, string> = {
  ...normalConf,
  'db.tx_log.rotation.retention_policy': 'keep_none',
  'db.checkpoint.interval.tx': '1',
  'db.checkpoint.interval.time': '200ms',
};

interface BackupOutcome {
  outcome: 'ok' | 'failed';
  type: 'FULL' | 'DIFF' | null;
  empty: boolean;
  artifact: string | null;
  lowestTx: number | null;
  highestTx: number | null;
  fallbackReason: string | null;
  error: string | null;
}

interface InspectRecord {
  file: string;
  error: string | null;
  kind: 'FULL' | 'DIFF' | null;
  lowestTx: number | null;
  highestTx: number | null;
  createdAt: string | null;
  headerBytes: number | null;
}

class ModelRun {
  readonly rng = mulberry32(seed);
  readonly artifacts = new Map<string, ModelArtifact>();
  /** Where blocks start in each artifact (from inspect), to flip a byte inside them. */
  readonly headerBytes = new Map<string, number>();
  readonly steps: string[] = [];
  readonly counts = new Map<string, number>();
  refusedOverDamage = 0;
  serverTx = 0;
  oldestTxInLog = 0;
  stepNo = 0;

  constructor(
    readonly server: TestServer,
    readonly driver: Driver,
    readonly workload: Workload,
    readonly folder: string,
  ) {}

  get present(): ModelArtifact[] {
    return [...this.artifacts.values()];
  }

  count(what: string): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + 1);
  }

  note(line: string): void {
    this.steps.push(`#${this.stepNo} ${line}`);
  }

  pick<T>(items: readonly T[], r: number): T | undefined {
    return items.length === 0 ? undefined : items[Math.floor(r * items.length)];
  }

  chooseKind(r: number): StepKind {
    const total = Object.values(weights).reduce((a, b) => a + b, 0);
    let x = r * total;
    for (const [kind, w] of Object.entries(weights) as Array<[StepKind, number]>) {
      if (x < w) return kind;
      x -= w;
    }
    return 'write';
  }

  /** One step of a fixed sequence (a case the random runs found worth keeping). */
  async scripted<T>(kind: StepKind, fn: () => Promise<T>): Promise<T> {
    this.stepNo++;
    this.count(kind);
    const value = await fn();
    this.checkFolder();
    return value;
  }

  async step(): Promise<void> {
    this.stepNo++;
    const r = Array.from({ length: drawsPerStep }, () => this.rng());
    const kind = this.chooseKind(r[0]!);
    this.count(kind);
    switch (kind) {
      case 'write': return this.write(r);
      case 'full': return void (await this.backupStep('FULL', r));
      case 'diff': return void (await this.backupStep('DIFF', r));
      case 'auto': return void (await this.backupStep('AUTO', r));
      case 'race': return this.race(r);
      case 'aggregate': return this.aggregate(r);
      case 'truncate': return this.truncate(r);
      case 'flip': return this.flip(r);
      case 'delete': return this.deleteOne(r);
      case 'restart': return this.restart(r);
      case 'prune': return this.prune();
      case 'restore': return this.restore(r);
      case 'verify': return this.verify();
    }
  }

  // ---- the server ----

  async listing(): Promise<{ lastCommittedTxId: number; oldestTxIdInLog: number }> {
    const conn = await BackupConnection.connect(this.server.backupAddress);
    try {
      const db = (await conn.listDatabases()).databases.find((d) => d.name === database);
      assert.ok(db, `no database ${database} on the server`);
      return db;
    } finally {
      conn.close();
    }
  }

  async write(r: number[]): Promise<void> {
    const n = 1 + Math.floor(r[1]! * 6);
    const from = this.serverTx;
    this.workload.start();
    await this.workload.advance(n);
    await this.workload.stop();
    this.serverTx = this.workload.lastTxId;
    this.note(`write: tx ${from + 1}..${this.serverTx}`);
  }

  async restart(r: number[]): Promise<void> {
    const kill = r[1]! < 0.35;
    if (kill) await this.server.kill();
    else await this.server.stop();
    await this.server.start();
    await this.probe();
    const l = await this.listing();
    this.note(`restart (${kill ? 'SIGKILL' : 'SIGTERM'}): server at tx ${l.lastCommittedTxId}, oldest log entry ${l.oldestTxIdInLog}`);
    assert.equal(l.lastCommittedTxId, this.serverTx, 'every acknowledged transaction survives a restart');
    assert.equal(l.oldestTxIdInLog, this.oldestTxInLog, 'the server prunes only in a prune step');
  }

  /** The driver reconnects to a restarted server (its pooled connections died with the old one). */
  async probe(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const session = this.driver.session({ database });
      try {
        await session.run('RETURN 1');
        return;
      } catch (e) {
        if (attempt >= 5) throw e;
      } finally {
        await session.close();
      }
    }
  }

  writeConf(conf: Record<string, string>): void {
    const path = join(this.server.home, 'conf', 'quiver.conf');
    const keep = readFileSync(path, 'utf8').split('\n').filter((l) => l && !Object.keys(pruningConf).includes(l.split('=')[0]!));
    writeFileSync(path, [...keep, ...Object.entries(conf).map(([k, v]) => `${k}=${v}`)].join('\n') + '\n');
  }

  async prune(): Promise<void> {
    // The DIFF a backup would take next continues the chain's end (as a backup sees the folder).
    const c = chainView(this.present, 'readable');
    const tip = c.root ? c.reachedTx : this.serverTx;
    await this.server.stop();
    this.writeConf(pruningConf);
    await this.server.start();
    await this.probe();
    let rounds = 0;
    for (; rounds < padRoundsMax && (await this.listing()).oldestTxIdInLog <= tip + 1; rounds++) await this.pad(rounds);
    await this.server.stop();
    this.writeConf(normalConf);
    await this.server.start();
    await this.probe();
    const l = await this.listing();
    assert.equal(l.lastCommittedTxId, this.serverTx, 'every pad transaction survives the restart');
    assert.ok(l.oldestTxIdInLog > tip + 1, `pruning did not get past tx ${tip + 1} in ${rounds} pad transactions (oldest log entry ${l.oldestTxIdInLog})`);
    this.oldestTxInLog = l.oldestTxIdInLog;
    this.note(`prune: ${rounds} pad transactions, server at tx ${this.serverTx}, oldest log entry ${l.oldestTxIdInLog} (chain ends at ${tip})`);
  }

  async pad(round: number): Promise<void> {
    const session = this.driver.session({ database });
    try {
      await session.executeWrite((tx) => tx.run('MERGE (p:Pad {id: 0}) SET p.pad = $pad', { pad: `${round}`.padEnd(padBytes, 'p') }));
      this.serverTx = txIdOfBookmarks(session.lastBookmarks());
    } finally {
      await session.close();
    }
  }

  // ---- the folder ----

  backupFiles(): string[] {
    return readdirSync(this.folder).filter((n) => n.endsWith('.backup')).sort();
  }

  /** Every .backup file is one the model knows, and no temporary file is left behind. */
  checkFolder(): void {
    const entries = readdirSync(this.folder);
    const stray = entries.filter((n) => !n.endsWith('.backup') && !/lock/i.test(n));
    assert.deepEqual(stray, [], 'no temporary files are left in the folder');
    assert.deepEqual(this.backupFiles(), [...this.artifacts.keys()].sort(), 'the folder holds exactly the artifacts the model knows');
  }

  snapshot(): string[] {
    return this.backupFiles().map((n) => `${n} ${statSync(join(this.folder, n)).size}`);
  }

  async inspect(): Promise<Map<string, InspectRecord>> {
    const r = await runAdmin(['database', 'backup', `--inspect-path=${this.folder}`, '--format=json'], { home: this.server.home });
    const list = JSON.parse(r.stdout) as InspectRecord[];
    return new Map(list.map((rec) => [decodeURIComponent(rec.file).split('/').at(-1)!, rec]));
  }

  async inspectTable(): Promise<string> {
    const r = await runAdmin(['database', 'backup', `--inspect-path=${this.folder}`, '--verbose'], { home: this.server.home });
    return r.stdout + r.stderr;
  }

  /** Learns the header facts of new artifacts and checks that inspect reads every artifact as the model has it. */
  async learnAndCrossCheck(newOnes: Array<Omit<ModelArtifact, 'createdAt'>>): Promise<ModelArtifact[]> {
    const inspected = await this.inspect();
    const added: ModelArtifact[] = [];
    for (const a of newOnes) {
      const rec = inspected.get(a.name);
      assert.ok(rec && rec.error === null && rec.createdAt !== null, `inspect reads the new artifact "${a.name}": ${JSON.stringify(rec)}`);
      const full = { ...a, createdAt: rec.createdAt };
      this.artifacts.set(a.name, full);
      this.headerBytes.set(a.name, rec.headerBytes!);
      added.push(full);
    }
    for (const a of this.present) {
      const rec = inspected.get(a.name);
      assert.ok(rec, `inspect lists "${a.name}"`);
      if (a.damage === 'unreadable') {
        assert.notEqual(rec.error, null, `inspect reports "${a.name}" as unreadable`);
      } else {
        assert.equal(rec.error, null, `inspect reads "${a.name}"`);
        assert.deepEqual([rec.kind, rec.lowestTx, rec.highestTx, rec.createdAt], [a.kind, a.lowestTx, a.highestTx, a.createdAt], `inspect of "${a.name}" agrees with the model`);
      }
    }
    assert.equal(inspected.size, this.artifacts.size, 'inspect lists no artifact the model does not know');
    return added;
  }

  // ---- backups ----

  async runBackup(type: BackupType): Promise<{ result: CliResult; outcome: BackupOutcome | null; endMs: number }> {
    const start = Date.now();
    const result = await backup(this.server, this.folder, [`--type=${type}`, '--format=json', database]);
    const endMs = Date.now() - start;
    let outcome: BackupOutcome | null = null;
    try {
      outcome = (JSON.parse(result.stdout) as { databases: BackupOutcome[] }).databases[0] ?? null;
    } catch {
      outcome = null;
    }
    return { result, outcome, endMs };
  }

  /** Null when `outcome` is one of `shapes`; else why not. */
  mismatch(result: CliResult, outcome: BackupOutcome | null, shapes: readonly BackupShape[]): string | null {
    if (!outcome) return `no JSON summary\n${describeRun(result)}`;
    const fits = shapes.some((s) => {
      if (s.kind === 'FAIL') return outcome.outcome === 'failed' && result.code === 1 && s.reason.test(outcome.error ?? '');
      if (outcome.outcome !== 'ok' || result.code !== 0) return false;
      if (s.kind === 'EMPTY') return outcome.type === 'DIFF' && outcome.empty;
      const hi = outcome.highestTx ?? -1;
      const inWindow = hi >= s.highestTx[0] && hi <= s.highestTx[1];
      if (s.kind === 'DIFF') return outcome.type === 'DIFF' && !outcome.empty && outcome.lowestTx === s.lowestTx && inWindow;
      const fallbackOk = s.fallback === 'any' || (s.fallback === 'none' ? outcome.fallbackReason === null : s.fallback.test(outcome.fallbackReason ?? ''));
      return outcome.type === 'FULL' && outcome.lowestTx === 1 && inWindow && fallbackOk;
    });
    return fits ? null : `outcome ${JSON.stringify(outcome)} is none of ${JSON.stringify(shapes, (_k, v: unknown) => (v instanceof RegExp ? v.source : v))}\n${describeRun(result)}`;
  }

  artifactOf(outcome: BackupOutcome, madeBy: string): Omit<ModelArtifact, 'createdAt'> {
    return {
      name: outcome.artifact!,
      kind: outcome.type!,
      lowestTx: outcome.empty ? 0 : outcome.lowestTx!,
      highestTx: outcome.empty ? 0 : outcome.highestTx!,
      damage: null,
      madeBy,
    };
  }

  describeOutcome(o: BackupOutcome | null): string {
    if (!o) return 'no summary';
    if (o.outcome === 'failed') return `FAILED: ${o.error}`;
    return `${o.empty ? 'empty DIFF' : `${o.type} tx ${o.lowestTx}..${o.highestTx}`} ${o.artifact}${o.fallbackReason ? ` (fell back: ${o.fallbackReason})` : ''}`;
  }

  async withLoad<T>(load: boolean, fn: () => Promise<T>): Promise<{ value: T; txBefore: number; txAfter: number }> {
    const txBefore = this.serverTx;
    if (load) this.workload.start();
    try {
      return { value: await fn(), txBefore, txAfter: txBefore };
    } finally {
      if (load) {
        await this.workload.stop();
        this.serverTx = Math.max(this.serverTx, this.workload.lastTxId);
      }
    }
  }

  async backupStep(type: BackupType, r: number[]): Promise<ModelArtifact | undefined> {
    const load = r[1]! < 0.3;
    const before = this.present;
    const run = await this.withLoad(load, () => this.runBackup(type));
    const { result, outcome } = run.value;
    const window = { txBefore: run.txBefore, txAfter: this.serverTx, oldestTxInLog: this.oldestTxInLog };
    this.note(`backup --type=${type}${load ? ' under load' : ''} (server tx ${window.txBefore}..${window.txAfter}): ${this.describeOutcome(outcome)}`);
    const why = this.mismatch(result, outcome, expectBackup(before, type, window));
    assert.equal(why, null, why ?? '');
    if (outcome?.outcome === 'ok') return (await this.learnAndCrossCheck([this.artifactOf(outcome, `#${this.stepNo} ${type}`)]))[0];
    return undefined;
  }

  /** Two AUTO runs at once: both succeed (each as if it ran first or second), or one is refused at once for the other. */
  async race(r: number[]): Promise<void> {
    const load = r[1]! < 0.5;
    const before = this.present;
    const run = await this.withLoad(load, () => Promise.all([this.runBackup('AUTO'), this.runBackup('AUTO')]));
    const window = { txBefore: run.txBefore, txAfter: this.serverTx, oldestTxInLog: this.oldestTxInLog };
    const [a, b] = run.value;
    this.note(`two AUTO runs at once${load ? ' under load' : ''} (server tx ${window.txBefore}..${window.txAfter}): [${this.describeOutcome(a.outcome)}] [${this.describeOutcome(b.outcome)}] (${a.endMs} ms, ${b.endMs} ms)`);
    const ok = [a, b].filter((x) => x.outcome?.outcome === 'ok');
    const refused = [a, b].filter((x) => x.outcome?.outcome !== 'ok');
    for (const x of refused) {
      // KNOWN DEFECT (#14 finding 2, reported by the model test): a racing run that chose the same
      // name as the other fails with "already exists" after doing all its work. Fails here unless
      // QUIVER_MODEL_TOLERATE=name-collision.
      if (tolerated.has('name-collision') && ok.length === 1 && /already exists/.test(x.outcome?.error ?? '')) {
        this.count('race: tolerated name collision');
        continue;
      }
      assert.equal(ok.length, 1, `one of two racing runs may be refused, not both:\n${describeRun(a.result)}\n${describeRun(b.result)}`);
      assert.equal(x.result.code, 1, describeRun(x.result));
      assert.match(`${x.outcome?.error ?? ''}\n${x.result.stderr}`, /lock|running|in progress/i, `a refused racing run names the running backup:\n${describeRun(x.result)}`);
      assert.ok(x.endMs <= ok[0]!.endMs + refusedRunSlackMs, `the refused run ended at once (${x.endMs} ms), not after the other (${ok[0]!.endMs} ms)`);
    }
    this.count(`race: ${ok.length} ok`);
    const added = await this.learnAndCrossCheck(ok.map((x) => this.artifactOf(x.outcome!, `#${this.stepNo} AUTO (race)`)));
    for (const [i, x] of ok.entries()) {
      const other = added[1 - i];
      const alone = expectBackup(before, 'AUTO', window);
      const second = other ? expectBackup([...before, other], 'AUTO', window) : [];
      const why = this.mismatch(x.result, x.outcome, [...alone, ...second]);
      assert.equal(why, null, why ?? '');
    }
  }

  // ---- aggregate ----

  async aggregate(r: number[], chosen?: ModelArtifact): Promise<void> {
    const named = chosen ?? (r[1]! < 0.5 ? this.pick(this.present.sort((x, y) => (x.name < y.name ? -1 : 1)), r[2]!) : undefined);
    const before = this.present;
    const beforeSnapshot = this.snapshot();
    const expected = expectAggregate(before, named);
    const args = ['database', 'aggregate-backup', `--from-path=${named ? join(this.folder, named.name) : this.folder}`, '--format=json'];
    if (!named) args.push(database);
    const result = await runAdmin(args, { home: this.server.home });
    let json: { artifact: string; replaced: string[]; highestTx: number; aggregated: boolean } | null = null;
    try {
      json = result.code === 0 ? JSON.parse(result.stdout) : null;
    } catch {
      json = null;
    }
    const removed = beforeSnapshot.map((s) => s.split(' ')[0]!).filter((n) => !this.backupFiles().includes(n));
    const appeared = this.backupFiles().filter((n) => !this.artifacts.has(n));
    this.note(`aggregate-backup --from-path=${named ? named.name : '<folder>'}: exit ${result.code}${json ? (json.aggregated ? ` → ${json.artifact} tx ${json.highestTx}, removed ${removed.join(', ')}` : ' nothing to aggregate') : ''} (model: ${expected.kind}, ${expected.why})`);

    if (result.code !== 0 || !json?.aggregated) {
      assert.deepEqual(this.snapshot(), beforeSnapshot, `aggregate that ${result.code === 0 ? 'had nothing to do' : 'failed'} left the folder as it was\n${describeRun(result)}`);
    }
    if (result.code === 0 && json && !json.aggregated) {
      const nothingRight = expected.kind === 'nothing' || expected.kind === 'any' || (expected.kind === 'fail' && expected.nothingAllowed === true);
      assert.ok(nothingRight, `aggregate did nothing where the model expects ${expected.kind} (${expected.why})\n${describeRun(result)}`);
      return;
    }
    if (result.code !== 0) {
      if (expected.kind === 'fail') this.assertRefusalNamesWhy(result, ...(named ? [expected.causes, expected.names] as [RefusalCause[], string[]] : this.refusalReasons(expected, undefined)), undefined);
      else if (expected.kind !== 'any') this.assertAllowedRefusal(result, `aggregate refused where the model expects ${expected.kind} (${expected.why})`);
      return;
    }
    assert.ok(json, `aggregate printed its JSON result\n${describeRun(result)}`);
    assert.ok(expected.kind === 'ok' || expected.kind === 'any', `aggregate wrote "${json.artifact}" where the model expects ${expected.kind} (${expected.why})\n${describeRun(result)}`);
    assert.deepEqual(appeared, [json.artifact], 'aggregate adds exactly its new FULL');
    assert.deepEqual([...json.replaced].sort(), removed.sort(), 'aggregate reports what it removed');
    const [full] = await this.removeAndLearn(removed, { name: json.artifact, kind: 'FULL', lowestTx: 1, highestTx: json.highestTx, damage: null, madeBy: `#${this.stepNo} aggregate` });
    if (expected.kind === 'ok') assert.equal(full!.highestTx, expected.tx, `the aggregated FULL ends where the model's chain does (${expected.why})`);
    for (const n of removed) {
      const gone = before.find((a) => a.name === n)!;
      assert.notEqual(gone.damage, 'unreadable', `aggregate removed "${n}", which it cannot read`);
      assert.ok(isEmpty(gone) || gone.highestTx <= full!.highestTx, `aggregate removed "${n}" (tx ${gone.lowestTx}..${gone.highestTx}), which holds transactions past its new FULL (tx ${full!.highestTx})`);
    }
    assert.ok(before.some((a) => a.damage !== 'unreadable' && a.highestTx === full!.highestTx && a.createdAt === full!.createdAt), `the aggregated FULL carries the time of the newest artifact it aggregated (${full!.createdAt})`);
    const reachBefore = chainView(before, 'intact').reachedTx;
    const reachAfter = chainView(this.present, 'intact').reachedTx;
    assert.ok(reachAfter >= reachBefore, `aggregate lowered what the folder reaches: ${reachBefore} → ${reachAfter}`);
    const restoreBefore = expectRestore(before);
    const restoreAfter = expectRestore(this.present);
    if (restoreBefore.ok) assert.ok(restoreAfter.ok && restoreAfter.tx >= restoreBefore.tx, `the folder restored tx ${restoreBefore.tx} before aggregate, afterwards: ${restoreAfter.why}`);
  }

  async removeAndLearn(removed: string[], added: Omit<ModelArtifact, 'createdAt'>): Promise<ModelArtifact[]> {
    for (const n of removed) this.artifacts.delete(n);
    return this.learnAndCrossCheck([added]);
  }

  // ---- damage ----

  target(r: number): ModelArtifact | undefined {
    return this.pick(this.present.sort((x, y) => (x.name < y.name ? -1 : 1)), r);
  }

  async truncate(r: number[], chosen?: ModelArtifact): Promise<void> {
    const a = chosen ?? this.target(r[1]!);
    if (!a) return this.note('truncate: no artifact');
    const file = join(this.folder, a.name);
    const size = statSync(file).size;
    const to = Math.floor(r[2]! * size);
    truncateFile(file, to);
    a.damage = 'unreadable';
    this.note(`truncate ${a.name} (${a.kind} ${a.lowestTx}..${a.highestTx}) from ${size} to ${to} bytes`);
    await this.learnAndCrossCheck([]);
  }

  async flip(r: number[]): Promise<void> {
    const a = this.target(r[1]!);
    if (!a) return this.note('flip: no artifact');
    const file = join(this.folder, a.name);
    const size = statSync(file).size;
    if (size === 0) return this.note(`flip: ${a.name} is empty`);
    const headerBytes = this.headerBytes.get(a.name)!;
    const blocksEnd = size - trailerBytes;
    let offset: number;
    let region: string;
    if (a.damage === 'unreadable') {
      offset = Math.floor(r[3]! * size);
      region = 'an unreadable artifact';
    } else if (blocksEnd > headerBytes && r[2]! < 0.7) {
      offset = headerBytes + Math.floor(r[3]! * (blocksEnd - headerBytes));
      region = 'the blocks';
      a.damage = 'contents';
    } else if (r[4]! < 0.5) {
      offset = Math.floor(r[3]! * headerBytes);
      region = 'the header';
      a.damage = 'unreadable';
    } else {
      offset = blocksEnd + Math.floor(r[3]! * trailerBytes);
      region = 'the trailer';
      a.damage = 'unreadable';
    }
    flipByte(file, offset);
    this.note(`flip byte ${offset} of ${a.name} (${a.kind} ${a.lowestTx}..${a.highestTx}, ${size} bytes) in ${region}`);
    await this.learnAndCrossCheck([]);
  }

  async deleteOne(r: number[]): Promise<void> {
    const a = this.target(r[1]!);
    if (!a) return this.note('delete: no artifact');
    rmSync(join(this.folder, a.name));
    this.artifacts.delete(a.name);
    this.note(`delete ${a.name} (${a.kind} ${a.lowestTx}..${a.highestTx}, ${a.damage ?? 'intact'})`);
  }

  // ---- restore and verify ----

  chooseUntil(r: number[]): number | undefined {
    if (r[1]! >= 0.4) return undefined;
    const edges = this.present.flatMap((a) => [a.lowestTx, a.highestTx, a.highestTx + 1, a.highestTx + 2]);
    const candidates = [...edges, this.serverTx + 1, this.serverTx + 2].filter((t) => t >= 2);
    if (r[2]! < 0.5 && candidates.length > 0) return this.pick(candidates, r[3]!);
    return 2 + Math.floor(r[3]! * this.serverTx);
  }

  async restore(r: number[]): Promise<void> {
    const until = this.chooseUntil(r);
    const name = `restored${this.stepNo}`;
    const expected = expectRestore(this.present, until);
    const { result, storeDir, cleanup } = await restoreToTemp(this.folder, { name, ...(until !== undefined ? { until } : {}) });
    try {
      let outcome = `exit ${result.code}`;
      let restored: { lines: string[]; lastTxId: number } | null = null;
      if (result.code === 0) {
        restored = graphLinesOfStore(storeDir);
        outcome += `, tx ${restored.lastTxId}`;
      } else {
        outcome += `: ${result.stderr.split('\n').find((l) => l.startsWith('error: ')) ?? result.stderr.trim().split('\n').at(-1)}`;
      }
      this.note(`restore as ${name}${until !== undefined ? ` --restore-until=${until}` : ''}: ${outcome} (model: ${expected.ok ? `tx ${expected.tx}` : 'refuse'}, ${expected.why})`);
      if (restored) {
        assert.ok(expected.ok, `restore exited 0 at tx ${restored.lastTxId} where the model refuses (${expected.why})\n${describeRun(result)}`);
        assert.equal(restored.lastTxId, expected.tx, `restore exited 0 at tx ${restored.lastTxId}, the folder reaches tx ${expected.tx} (${expected.why})`);
        assert.deepEqual(restored.lines, this.workload.expectedAt(expected.tx), `the restored graph is the source's at tx ${expected.tx}`);
        return;
      }
      if (expected.ok) this.assertAllowedRefusal(result, `restore refused where the model reaches tx ${expected.tx} (${expected.why})`);
      else {
        // The planner reads headers and trailers only: over a damaged block it may see the folder's
        // other true problem first (e.g. a gap after a FULL whose block is flipped).
        this.assertRefusalNamesWhy(result, ...this.refusalReasons(expected, until), until);
      }
    } finally {
      cleanup();
    }
  }

  /** A refusal where the model expects success is allowed only for a damaged artifact the planner could not know about. */
  assertAllowedRefusal(result: CliResult, what: string): void {
    const text = result.stderr + result.stdout;
    const damaged = this.present.filter((a) => a.damage === 'contents' && text.includes(a.name));
    const allowed = !strictDamage && result.code === 1 && damaged.length > 0 && refusalPatterns.damaged.test(text);
    assert.ok(allowed, `${what}\n${describeRun(result)}`);
    this.refusedOverDamage++;
    this.note(`  (allowed: refused over the damaged "${damaged[0]!.name}", which the folder could do without)`);
  }

  /**
   * The causes and names a refusal may give: the model's, and those of the planner's view (it reads
   * headers and trailers only, so over a damaged block it may see the folder's other true problem
   * first, e.g. a gap after a FULL whose block is flipped). No names: any naming will do.
   */
  refusalReasons(expected: { causes: RefusalCause[]; names: string[] }, until: number | undefined): [RefusalCause[], string[]] {
    const seen = expectRestore(this.present, until, 'readable');
    if (seen.ok) return [expected.causes, expected.names];
    const anyName = expected.names.length === 0 || seen.names.length === 0;
    return [[...new Set([...expected.causes, ...seen.causes])], anyName ? [] : [...expected.names, ...seen.names]];
  }

  assertRefusalNamesWhy(result: CliResult, causes: readonly RefusalCause[], names: readonly string[], until: number | undefined): void {
    assert.equal(result.code, 1, `a refusal exits 1\n${describeRun(result)}`);
    const error = result.stderr.split('\n').filter((l) => l.startsWith('error: ')).join('\n');
    assert.notEqual(error, '', `a refusal prints an error line\n${describeRun(result)}`);
    const damagedNamed = this.present.some((a) => a.damage !== null && error.includes(a.name)) && refusalPatterns.damaged.test(error);
    const causeNamed = causes.some((c) => refusalPatterns[c].test(error)) && (names.length === 0 || names.some((n) => error.includes(n)));
    assert.ok(damagedNamed || causeNamed, `the refusal names why (${causes.join(' or ')}${names.length ? ` naming one of ${names.join(', ')}` : ''})\n${describeRun(result)}`);
    const missing = /transactions (\d+)\.\.(\d+) are missing/.exec(error);
    if (missing && !this.present.some((a) => a.damage === 'contents')) {
      const reach = chainView(this.present, 'intact', until === undefined ? () => true : (f) => f.highestTx < until).reachedTx;
      assert.equal(Number(missing[1]), reach + 1, `the missing transactions start right after what the folder reaches (tx ${reach})\n${error}`);
    }
  }

  async verify(): Promise<void> {
    const expected = expectVerifyClean(this.present);
    const beforeSnapshot = this.snapshot();
    const result = await runAdmin(['backup', 'verify', `--from-path=${this.folder}`], { home: this.server.home });
    this.note(`backup verify: exit ${result.code} (model: ${expected.clean ? 'clean' : 'problems'}, ${expected.why})`);
    assert.equal(result.code, expected.clean ? 0 : 1, `verify ${expected.clean ? 'finds no problem' : 'reports the problem'}: ${expected.why}\n${describeRun(result)}`);
    assert.deepEqual(this.snapshot(), beforeSnapshot, 'verify changes nothing');
  }

  async context(e: unknown): Promise<string> {
    const replay = `QUIVER_MODEL_SEED=${seed} QUIVER_MODEL_STEPS=${this.stepNo} node scripts/run-tests.mjs backup-model`;
    let table: string;
    try {
      table = await this.inspectTable();
    } catch (err) {
      table = `(inspect failed: ${String(err)})`;
    }
    return [
      `model-based backup test failed at step #${this.stepNo} of seed ${seed} (replay: ${replay})`,
      e instanceof Error ? e.message : String(e),
      'steps:',
      ...this.steps.map((s) => `  ${s}`),
      `model (server at tx ${this.serverTx}, oldest log entry ${this.oldestTxInLog}):`,
      describeModel(this.present),
      'inspect:',
      table,
    ].join('\n');
  }
}

describe('backup folders against a model (#14)', () => {
  let server: TestServer;
  let driver: Driver;
  /** The only writer of the :W graph, shared by the cases so that expectedAt knows every transaction. */
  let workload: Workload;
  const folders: string[] = [];

  /** A run over a fresh folder, starting from what the server holds now. */
  async function newRun(): Promise<ModelRun> {
    const folder = tempDir('quiver-model-backups-');
    folders.push(folder);
    const run = new ModelRun(server, driver, workload, folder);
    const l = await run.listing();
    run.serverTx = l.lastCommittedTxId;
    run.oldestTxInLog = l.oldestTxIdInLog;
    return run;
  }

  async function withContext(run: ModelRun, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      throw new Error(await run.context(e), { cause: e });
    }
  }

  before(async () => {
    server = await startTestServer({ conf: normalConf });
    driver = server.driver();
    workload = new Workload(driver, database);
  });

  after(async () => {
    await driver?.close();
    await server?.stop();
    server?.cleanup();
    for (const f of folders) rmSync(f, { recursive: true, force: true });
  });

  // KNOWN DEFECT (found while writing this test, reported to the lead; fails today): an aggregated
  // FULL is dated at the artifact it aggregated up to but named with the next free suffix of that
  // second, so a later artifact of the same second sorts before it by name. When that artifact is
  // unreadable, chain.ts decides "older than the root" by name and ignores it: restore exits 0
  // short of the transactions it holds.
  it('an unreadable artifact newer than an aggregated FULL is not ignored because it sorts before the FULL by name', { timeout: 180_000 }, async (t) => {
    const run = await newRun();
    await withContext(run, async () => {
      await run.scripted('write', () => run.write([0, 0]));
      await run.scripted('full', () => run.backupStep('FULL', [0, 1]));
      let pair: [ModelArtifact, ModelArtifact] | undefined;
      // Without load (r[1] = 1) a write and a backup take well under a second: two DIFFs often
      // share one. Under load, or on a busy machine, they may never: then the case is skipped.
      for (let attempt = 0; attempt < 20 && !pair; attempt++) {
        await run.scripted('write', () => run.write([0, 0]));
        const a = await run.scripted('auto', () => run.backupStep('AUTO', [0, 1]));
        await run.scripted('write', () => run.write([0, 0]));
        const b = await run.scripted('auto', () => run.backupStep('AUTO', [0, 1]));
        const stamp = (x: ModelArtifact | undefined) => x?.name.replace(/(_\d+)?\.backup$/, '');
        if (a && b && a.kind === 'DIFF' && b.kind === 'DIFF' && stamp(a) === stamp(b)) pair = [a, b];
      }
      if (!pair) return void t.skip('this machine did not take two DIFFs within one second in 20 attempts');
      await run.scripted('aggregate', () => run.aggregate([0, 0], pair[0]));
      await run.scripted('truncate', () => run.truncate([0, 0, 0.5], pair[1]));
      await run.scripted('restore', () => run.restore([0, 1]));
    });
  });

  it(`a random sequence of ${stepCount} operations never restores less than the folder holds (seed ${seed})`, { timeout: 120_000 + stepCount * 15_000 }, async (t) => {
    t.diagnostic(`seed ${seed}: replay with QUIVER_MODEL_SEED=${seed} QUIVER_MODEL_STEPS=${stepCount}`);
    console.log(`backup model: seed ${seed}, ${stepCount} steps`);
    const run = await newRun();
    const startMs = Date.now();
    for (let i = 0; i < stepCount; i++) {
      try {
        await run.step();
        run.checkFolder();
      } catch (e) {
        throw new Error(await run.context(e), { cause: e });
      }
    }
    const summary = `backup model: seed ${seed}, ${stepCount} steps in ${((Date.now() - startMs) / 1000).toFixed(1)} s; ${[...run.counts].sort().map(([k, n]) => `${k} ${n}`).join(', ')}; restores refused over a damaged artifact the folder could do without: ${run.refusedOverDamage}`;
    t.diagnostic(summary);
    console.log(summary);
    if (process.env.QUIVER_MODEL_PRINT_STEPS === '1') console.log(run.steps.join('\n'));
  });
});
