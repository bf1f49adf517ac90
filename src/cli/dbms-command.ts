/**
 * `quiver-admin dbms set-initial-password <password>`: sets the password of the initial `neo4j`
 * user before the first start (the server consumes it when it creates the user).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { hashPassword } from '../security/password.js';
import { initialPasswordFile } from '../security/users.js';
import { layoutOf } from '../server/home.js';
import { QuiverError } from '../util/errors.js';
import { addCommonOptions, type CommonAdminOptions, loadAdminConfig } from './options.js';

export function setInitialPasswordCommand(run: (code: number) => void): Command {
  const cmd = new Command('set-initial-password')
    .description('Set the password of the initial "neo4j" user before the first start.')
    .argument('<password>', 'The password (at least 8 characters).');
  addCommonOptions(cmd);
  cmd.action((password: string, o: CommonAdminOptions) => {
    if (password.length < 8) throw new QuiverError('UsageInvalid', 'the initial password must have at least 8 characters');
    const config = loadAdminConfig('quiver-admin.conf', o, (m) => process.stderr.write(`warning: ${m}\n`));
    const layout = layoutOf(config);
    if (existsSync(join(layout.dataDir, 'databases', 'system', 'data.mdb'))) {
      throw new QuiverError('UsageInvalid', 'the DBMS has already been started once: the initial password can no longer be set', {
        hint: 'change it with ALTER CURRENT USER SET PASSWORD FROM ... TO ... instead',
      });
    }
    const file = initialPasswordFile(layout.dataDir);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, hashPassword(password) + '\n', { mode: 0o600 });
    process.stdout.write('Changed password for user \'neo4j\'. IMPORTANT: this change will only take effect if performed before the database is started for the first time.\n');
    run(0);
  });
  return cmd;
}
