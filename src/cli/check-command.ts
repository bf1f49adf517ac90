/**
 * `quiver-admin database check` (checksums, chain links and graph consistency of a backup or of a
 * stopped local database) and `quiver-admin backup verify` (checksums and chain links only).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { parseArtifactFileName } from '../backup/artifact-name.js';
import { verifyArtifact } from '../backup/artifact-reader.js';
import { readCatalog, readInfos } from '../backup/catalog.js';
import { analyseChain, type Catalog, explainUnreachable } from '../backup/chain.js';
import { compareText } from '../util/compare-text.js';
import { planRestore } from '../backup/restore-plan.js';
import { buildStagedStore } from '../backup/restore.js';
import { defaultDatabaseSettings, locateDatabase } from '../kernel/database.js';
import { normalizeDatabaseName } from '../kernel/database-name.js';
import { checkStoreConsistency, type ConsistencyReport } from '../storage/consistency.js';
import { GraphStore } from '../storage/store.js';
import { layoutOf } from '../server/home.js';
import { resolveArtifactPath } from '../targets/resolve.js';
import type { BackupTarget } from '../targets/target.js';
import { QuiverError, toQuiverError } from '../util/errors.js';
import { databaseNotRunningCheck } from './local-server.js';
import { addCommonOptions, type CommonAdminOptions, loadAdminConfig, targetSettingsOf } from './options.js';
import { adminLogger } from './output.js';

interface CheckCliOptions extends CommonAdminOptions {
  fromPath?: string;
  reportPath?: string;
  tempPath?: string;
}

/**
 * Every checksum of every named artifact, then the chain model over what verified: forks, gaps and
 * artifacts that hide newer transactions are problems; each database's path is logged.
 */
async function verifyAll(target: BackupTarget, names: string[], log: (l: 'info' | 'warn' | 'error', m: string) => void): Promise<{ catalog: Catalog; problems: string[] }> {
  const problems: string[] = [];
  const failed = new Map<string, string>();
  for (const n of names) {
    try {
      const v = await verifyArtifact(target, n);
      log('info', `verified ${n}: ${v.blockCount} block(s), every checksum matches`);
    } catch (e) {
      failed.set(n, toQuiverError(e).message);
      problems.push(toQuiverError(e).message);
    }
  }
  const read = await readCatalog([{ target, names }]);
  const catalog: Catalog = {
    artifacts: read.artifacts.filter((a) => !failed.has(a.name)),
    unreadable: [...read.unreadable.filter((u) => !failed.has(u.name)), ...[...failed].map(([name, message]) => ({ name, uri: target.uri(name), message }))],
    checksumsInside: read.checksumsInside,
  };
  for (const u of read.unreadable) if (!failed.has(u.name)) problems.push(u.message);
  const databases = [...new Set(catalog.artifacts.map((a) => a.header.databaseName))].sort(compareText);
  for (const databaseName of databases) {
    const analysis = analyseChain(catalog, { databaseName });
    if (!analysis) {
      const orphan = catalog.artifacts.find((a) => a.header.databaseName === databaseName)!;
      problems.push(explainUnreachable(catalog, orphan));
      continue;
    }
    log('info', `chain of '${databaseName}' (${analysis.databaseId}): ${analysis.path.map((a) => a.name).join(' → ')} reaches tx ${analysis.tip.tx}`);
    for (const f of analysis.forks) problems.push(f.message);
    for (const l of analysis.leftOut) {
      if (l.hidesNewer && l.kind !== 'unreadable' && l.kind !== 'otherHistory') problems.push(l.reason);
      else if (!l.hidesNewer && l.kind !== 'unreadable') log('info', `not on the chain of '${databaseName}': "${l.name}": ${l.reason}`);
    }
  }
  return { catalog, problems };
}

export function verifyCommand(run: (code: number) => void): Command {
  const cmd = new Command('verify')
    .description('Verify every checksum and chain link of backup artifacts without restoring them.')
    .option('--from-path <dir|file>', 'Folder of artifacts or one artifact.');
  addCommonOptions(cmd);
  cmd.action(async (o: CheckCliOptions) => {
    const log = adminLogger(false);
    if (!o.fromPath) throw new QuiverError('UsageInvalid', 'missing required option --from-path');
    const config = loadAdminConfig('quiver-admin-backup-verify.conf', o, (m) => log('warn', m));
    const { target, fileName } = await resolveArtifactPath(o.fromPath, targetSettingsOf(config));
    const names = fileName ? [fileName] : (await target.list()).map((e) => e.name);
    const { catalog, problems } = await verifyAll(target, names, log);
    for (const p of problems) log('error', p);
    process.stdout.write(`${catalog.artifacts.length} of ${names.length} artifact(s) verified${problems.length ? `; ${problems.length} problem(s) found` : ', no problems found'}.\n`);
    run(problems.length ? 1 : 0);
  });
  return cmd;
}

export function checkCommand(run: (code: number) => void): Command {
  const cmd = new Command('check')
    .description('Check a backup (checksums, chain links, then graph consistency of the restored store) or a stopped local database.')
    .argument('<database>', 'Database to check.')
    .option('--from-path <dir|file>', 'Check this backup instead of the local database.')
    .option('--report-path <dir>', 'Folder for the report file (default: the current folder).')
    .option('--temp-path <dir>', 'Staging folder for the restored copy.');
  addCommonOptions(cmd);
  cmd.action(async (database: string, o: CheckCliOptions) => {
    const log = adminLogger(false);
    const name = normalizeDatabaseName(database);
    const lines: string[] = [`Quiver consistency check of database '${name}' at ${new Date().toISOString()}`];
    let consistency: ConsistencyReport;
    const problems: string[] = [];
    if (o.fromPath) {
      const config = loadAdminConfig('quiver-admin-database-check.conf', o, (m) => log('warn', m));
      const { target, fileName } = await resolveArtifactPath(o.fromPath, targetSettingsOf(config));
      const names = fileName ? [fileName] : (await target.list()).map((e) => e.name);
      const relevant: string[] = [];
      const read = await readInfos([{ target, names }]);
      for (const info of read.artifacts) if (info.header.databaseName === name) relevant.push(info.name);
      for (const u of read.unreadable) {
        // Unreadable: its file name still tells whether it belongs to this database.
        const owner = parseArtifactFileName(u.name)?.databaseName;
        if (owner === undefined || owner === name) problems.push(u.message);
        else log('warn', `ignoring "${u.name}" (another database's artifact): ${u.message}`);
      }
      const verified = await verifyAll(target, relevant, log);
      problems.push(...verified.problems);
      const staging = join(o.tempPath ?? tmpdir(), `.check-${name}-${randomBytes(4).toString('hex')}`);
      mkdirSync(staging, { recursive: true });
      try {
        const step = planRestore({ catalog: verified.catalog, namedArtifact: fileName, sourceDatabase: name, until: null });
        lines.push(`chain: ${step.artifacts.map((a) => a.name).join(' → ')}`);
        await buildStagedStore(step, new Map(step.artifacts.map((a) => [a.uri, target])), join(staging, 'store'), join(staging, 'tx'), null, defaultDatabaseSettings, log);
        const store = GraphStore.open(join(staging, 'store'), { readOnly: true });
        try {
          consistency = checkStoreConsistency(store);
        } finally {
          store.close();
        }
      } catch (e) {
        // A chain that cannot be built is a finding like any other: it goes in the report with the
        // problems found so far (often the reason, e.g. a damaged full artifact).
        const err = toQuiverError(e);
        if (err.code === 'Internal') throw e;
        problems.push(`the backup cannot be restored to check its graph: ${err.message}`);
        consistency = { nodes: 0, relationships: 0, problems: [], problemCount: 0 };
      } finally {
        rmSync(staging, { recursive: true, force: true });
      }
    } else {
      const config = loadAdminConfig('quiver-admin-database-check.conf', o, (m) => log('warn', m));
      const layout = layoutOf(config);
      await databaseNotRunningCheck(config)(name);
      const loc = locateDatabase(layout.dataDir, layout.txRoot, name);
      if (!existsSync(join(loc.storeDir, 'data.mdb'))) throw new QuiverError('DatabaseNotFound', `no store for database "${name}" at "${loc.storeDir}"`);
      const store = GraphStore.open(loc.storeDir, { readOnly: true });
      try {
        consistency = checkStoreConsistency(store);
      } finally {
        store.close();
      }
    }
    problems.push(...consistency.problems);
    const total = problems.length + (consistency.problemCount - consistency.problems.length);
    lines.push(`nodes: ${consistency.nodes}, relationships: ${consistency.relationships}`);
    lines.push(total === 0 ? 'result: consistent, no problems found' : `result: ${total} problem(s) found`);
    for (const p of problems) lines.push(`problem: ${p}`);
    const reportDir = o.reportPath ?? process.cwd();
    mkdirSync(reportDir, { recursive: true });
    const reportFile = join(reportDir, `quiver-check-${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.report`);
    writeFileSync(reportFile, lines.join('\n') + '\n');
    for (const p of problems.slice(0, 20)) log('error', p);
    process.stdout.write(`${total === 0 ? `Database '${name}' is consistent.` : `Database '${name}' has ${total} problem(s).`} Report: ${reportFile}\n`);
    run(total === 0 ? 0 : 1);
  });
  return cmd;
}
