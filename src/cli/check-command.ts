/**
 * `quiver-admin database check` (checksums, chain links and graph consistency of a backup or of a
 * stopped local database) and `quiver-admin backup verify` (checksums and chain links only).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { checkBackup, verifyAll } from '../backup/restore/check.js';
import { locateDatabase } from '../kernel/database.js';
import { normalizeDatabaseName } from '../kernel/database-name.js';
import { checkStoreConsistency, type ConsistencyReport } from '../storage/consistency.js';
import { GraphStore } from '../storage/store.js';
import { layoutOf } from '../server/home.js';
import { resolveArtifactPath } from '../targets/resolve.js';
import { QuiverError } from '../util/errors.js';
import { databaseNotRunningCheck } from './local-server.js';
import { addCommonOptions, type CommonAdminOptions, loadAdminConfig, targetSettingsOf } from './options.js';
import { adminLogger } from './output.js';

interface CheckCliOptions extends CommonAdminOptions {
  fromPath?: string;
  reportPath?: string;
  tempPath?: string;
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
      const checked = await checkBackup(o.fromPath, name, o.tempPath, log, targetSettingsOf(config));
      if (checked.chain.length > 0) lines.push(`chain: ${checked.chain.join(' → ')}`);
      problems.push(...checked.problems);
      consistency = checked.consistency;
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
