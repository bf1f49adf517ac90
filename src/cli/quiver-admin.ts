/**
 * Entry point of `bin/quiver-admin`: the operations tool. Only this file exits the process.
 */
import { Command, CommanderError } from 'commander';
import { backupBooleanFlags, backupCommand, inspectCommand } from './backup-command.js';
import { normalizeBooleanFlags } from './options.js';
import { reportError } from './output.js';
import { restoreBooleanFlags, restoreCommand } from './restore-command.js';
import { aggregateBooleanFlags, aggregateCommand } from './aggregate-command.js';
import { checkCommand, verifyCommand } from './check-command.js';
import { setInitialPasswordCommand } from './dbms-command.js';
import { reloadCertificatesCommand } from './server-command.js';
import { toolVersion } from '../util/version.js';

async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const setCode = (c: number) => {
    exitCode = c;
  };
  const program = new Command('quiver-admin').description('Quiver operations tool.').version(toolVersion, '--version').exitOverride();
  const database = new Command('database').description('Database administration: backup, restore, aggregate-backup, check.');
  database.addCommand(backupCommand(setCode));
  database.addCommand(restoreCommand(setCode));
  database.addCommand(aggregateCommand('aggregate-backup', setCode));
  database.addCommand(checkCommand(setCode));
  const backup = new Command('backup').description('Backup artifact tools: aggregate, verify, inspect.');
  backup.addCommand(aggregateCommand('aggregate', setCode));
  backup.addCommand(verifyCommand(setCode));
  backup.addCommand(inspectCommand(setCode));
  const dbms = new Command('dbms').description('DBMS administration.');
  dbms.addCommand(setInitialPasswordCommand(setCode));
  const server = new Command('server').description('Running server administration: reload-certificates.');
  server.addCommand(reloadCertificatesCommand(setCode));
  for (const c of [program, database, backup, dbms, server]) c.exitOverride().configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const c of [...database.commands, ...backup.commands, ...dbms.commands, ...server.commands]) c.exitOverride().showHelpAfterError('(run with --help for usage)');
  program.addCommand(database);
  program.addCommand(backup);
  program.addCommand(dbms);
  program.addCommand(server);
  const args = normalizeBooleanFlags(argv, [...backupBooleanFlags, ...restoreBooleanFlags, ...aggregateBooleanFlags]);
  const verbose = args.includes('--verbose');
  if (args.length === 0) {
    process.stderr.write(program.helpInformation());
    return 64;
  }
  try {
    await program.parseAsync(args, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 64;
    }
    return reportError(e, verbose);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    process.exitCode = 70;
  },
);
