/**
 * Shared option parsing for the admin tool: Neo4j's `--flag[=true|false]` booleans, byte sizes,
 * and the config files an admin command reads (quiver.conf < quiver-admin.conf <
 * quiver-admin-<command>.conf < --additional-config).
 */
import { Command, InvalidArgumentError } from 'commander';
import { type Config, loadConfig } from '../config/config.js';
import { parseServerAddress, serverAddressExpected } from '../config/listen-address.js';
import { parseByteSize } from '../config/units.js';
import { QuiverError } from '../util/errors.js';
import { defaultHome } from '../server/home.js';
import type { TargetSettings } from '../targets/resolve.js';
import { s3SettingsFromConfig } from '../targets/s3/s3-settings.js';

export function parseBool(value: string): boolean {
  const v = value.toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new InvalidArgumentError(`expected true or false, got "${value}"`);
}

export function parseSize(value: string): number {
  const n = parseByteSize(value);
  if (n === undefined) throw new InvalidArgumentError(`expected a size such as 512M or 4G, got "${value}"`);
  return n;
}

/**
 * Commander reads `--flag value` as the flag's value; Neo4j's booleans take a value only after `=`.
 * Rewrite a bare boolean flag to `--flag=true` so a following database name stays positional.
 */
export function normalizeBooleanFlags(argv: string[], booleans: readonly string[]): string[] {
  return argv.map((a) => (booleans.includes(a) ? `${a}=true` : a));
}

export interface CommonAdminOptions {
  additionalConfig?: string;
  expandCommands?: boolean;
  verbose?: boolean;
}

export function addCommonOptions(cmd: Command): Command {
  return cmd
    .option('--additional-config <file>', 'Configuration file with additional configuration.')
    .option('--expand-commands', 'Allow command expansion in config value evaluation.')
    .option('--verbose', 'Enable verbose output.');
}

export function loadAdminConfig(commandFile: string, opts: CommonAdminOptions, warn: (m: string) => void): Config {
  return loadConfig({
    home: defaultHome(),
    files: ['quiver.conf', 'quiver-admin.conf', commandFile],
    ...(opts.additionalConfig ? { additionalConfig: opts.additionalConfig } : {}),
    expandCommands: Boolean(opts.expandCommands),
    onWarning: warn,
  });
}

/**
 * The servers of `--from` (each use of the option as given, each a comma-separated list), checked:
 * an empty entry, a missing host or port, or a bad port is a usage error naming the entry, never
 * dropped or filled in. Without the option: `defaultAddress`.
 */
export function parseServerList(optionValues: readonly string[] | undefined, defaultAddress: string): string[] {
  if (optionValues === undefined) return [defaultAddress];
  const servers: string[] = [];
  for (const value of optionValues) {
    const entries = value.split(',');
    for (const [index, entry] of entries.entries()) {
      const parsed = parseServerAddress(entry);
      if ('problem' in parsed) {
        const where = entries.length > 1 ? ` (entry ${index + 1} of "${value}")` : '';
        throw new QuiverError('UsageInvalid', `invalid server address "${entry.trim()}" in --from${where}: ${parsed.problem}`, { hint: serverAddressExpected });
      }
      servers.push(entry.trim());
    }
  }
  return servers;
}

/** What opening a backup target (`--to-path`, `--from-path`, `--inspect-path`) takes from the config: the `backup.s3.*` settings. */
export function targetSettingsOf(config: Config): TargetSettings {
  return { s3: s3SettingsFromConfig(config) };
}
