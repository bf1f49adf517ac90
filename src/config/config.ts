/**
 * Loads the configuration: reads the config files in precedence order, expands `$(…)` values when asked,
 * parses every setting of the settings table, and returns a typed, read-only `Config`. All problems of one
 * load are reported together in one `ConfigInvalid` error; unknown settings warn (or fail when strict).
 */
import { join, resolve } from 'node:path';
import { isQuiverError, QuiverError } from '../util/errors.js';
import { type ConfEntry, readConfSource } from './conf-file.js';
import { type ExpandOptions, expandValue } from './expand.js';
import { commandTimeoutMsDefault } from './limits.js';
import { type Problem, throwProblems } from './problems.js';
import {
  isSettingKey,
  type SettingKey,
  settingKeys,
  settingSpec,
  type SettingValue,
  type SslScope,
} from './settings.js';
import { type SslPolicy, sslPolicyOf } from './ssl-policy.js';
import { closestMatch } from './suggest.js';
import type { ParseContext } from './value-types.js';

export { listenAddressToString, type ListenAddress } from './listen-address.js';

export interface LoadConfigOptions {
  /** Home folder (QUIVER_HOME); relative paths in settings resolve against it. */
  home: string;
  /** Folder of the config files; default: `QUIVER_CONF` from `env`, else `<home>/conf`. */
  confDir?: string;
  /** File names inside `confDir`, read in order, later ones winning; a missing one counts as empty. */
  files: string[];
  /** `--additional-config`: read after `files` and winning over them; it must exist. A folder works too. */
  additionalConfig?: string;
  /** `--expand-commands`: run `$(…)` values. */
  expandCommands: boolean;
  /** Win over every file (tests, CLI options that map to settings). Taken literally: never expanded. */
  overrides?: Record<string, string>;
  /** Default: `process.env`. Also the environment of expanded commands. */
  env?: NodeJS.ProcessEnv;
  onWarning: (message: string) => void;
  /** Default: 30 s, as Neo4j. Injectable so tests need not wait. */
  commandTimeoutMs?: number;
}

/** Where the effective value of a setting came from. A folder entry has the key's file as `path` and no line. */
export type SettingSource =
  | { kind: 'default' }
  | { kind: 'file'; path: string; line: number | undefined }
  | { kind: 'override' };

export interface Config {
  /** Absolute home folder. */
  readonly home: string;
  /** Absolute folder the default files were looked for in. */
  readonly confDir: string;
  /** The parsed value; settings without a default give `undefined` when unset. */
  get<K extends SettingKey>(key: K): SettingValue<K>;
  getSslPolicy(scope: SslScope): SslPolicy;
  /** Every setting of the table and where its value came from (for --verbose). */
  readonly sources: ReadonlyMap<SettingKey, SettingSource>;
}

interface Configured {
  raw: string;
  source: Exclude<SettingSource, { kind: 'default' }>;
}

export function loadConfig(options: LoadConfigOptions): Config {
  const env = options.env ?? process.env;
  const home = resolve(options.home);
  const confDirFromEnv = env['QUIVER_CONF'] === '' ? undefined : env['QUIVER_CONF'];
  const confDir = resolve(options.confDir ?? confDirFromEnv ?? join(home, 'conf'));

  const configured = new Map<string, Configured>();
  const apply = (entries: ConfEntry[]) => {
    for (const e of entries) {
      configured.set(e.key, { raw: e.value, source: { kind: 'file', path: e.path, line: e.line } });
    }
  };
  for (const name of options.files) apply(readConfSource(resolve(confDir, name), options.onWarning) ?? []);
  if (options.additionalConfig !== undefined) {
    const path = resolve(options.additionalConfig);
    const entries = readConfSource(path, options.onWarning);
    if (entries === undefined) {
      throw new QuiverError('ConfigInvalid', `cannot read additional config file "${path}": it does not exist`, {
        hint: 'check the path given to --additional-config',
      });
    }
    apply(entries);
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    configured.set(key, { raw: value.trim(), source: { kind: 'override' } });
  }

  const problems: Problem[] = [];
  const { values, sources } = parseSettings(home, configured, problems, {
    expandCommands: options.expandCommands,
    timeoutMs: options.commandTimeoutMs ?? commandTimeoutMsDefault,
    env,
  });
  const strict = values.get('server.config.strict_validation.enabled') === true;
  for (const [key, entry] of configured) {
    if (isSettingKey(key)) continue;
    const suggestion = closestMatch(key, settingKeys);
    const unknown = `unknown setting "${key}" (${describeWhere(entry.source)})`;
    const didYouMean = suggestion === undefined ? '' : `: did you mean "${suggestion}"?`;
    if (strict) {
      problems.push({
        message: `${unknown}${didYouMean}`,
        hint: 'correct or remove it, or set server.config.strict_validation.enabled=false to only warn',
      });
    } else {
      options.onWarning(`${unknown} is ignored${didYouMean}`);
    }
  }
  throwProblems(problems);

  const config: Config = {
    home,
    confDir,
    get<K extends SettingKey>(key: K): SettingValue<K> {
      return values.get(key) as SettingValue<K>;
    },
    getSslPolicy: (scope) => sslPolicyOf(config, scope),
    sources,
  };
  return Object.freeze(config);
}

/** `default`, `override`, `/path/quiver.conf:12`, or the file of a folder entry. */
export function describeSource(source: SettingSource): string {
  if (source.kind !== 'file') return source.kind;
  return source.line === undefined ? source.path : `${source.path}:${source.line}`;
}

/**
 * Parses every setting of the table in declaration order, so a type that reads another setting finds it.
 * A setting that fails records a problem and takes its default, so its dependents still parse.
 */
function parseSettings(
  home: string,
  configured: ReadonlyMap<string, Configured>,
  problems: Problem[],
  expand: ExpandOptions,
): { values: Map<string, unknown>; sources: Map<SettingKey, SettingSource> } {
  const values = new Map<string, unknown>();
  const sources = new Map<SettingKey, SettingSource>();
  const ctx: ParseContext = { home, valueOf: (key) => values.get(key) };
  const parseDefault = (key: SettingKey): unknown => {
    const spec = settingSpec(key);
    if (spec.default === undefined) return undefined;
    const parsed = spec.type.parse(spec.default, ctx);
    if (!parsed.ok) throw new Error(`assertion failed: default "${spec.default}" of setting "${key}" does not parse`);
    return parsed.value;
  };

  for (const key of settingKeys) {
    const spec = settingSpec(key);
    const entry = configured.get(key);
    sources.set(key, entry?.source ?? { kind: 'default' });
    let raw = entry?.raw;
    if (entry !== undefined && entry.source.kind === 'file') {
      try {
        raw = expandValue(key, entry.raw, entry.source.path, expand);
      } catch (e) {
        if (!isQuiverError(e, 'ConfigInvalid')) throw e;
        problems.push({ message: e.message, hint: e.hint });
        values.set(key, parseDefault(key));
        continue;
      }
    }
    // An empty value means "not set" (`key=` in a file): the default applies.
    if (raw === undefined || raw === '') {
      values.set(key, parseDefault(key));
      continue;
    }
    const parsed = spec.type.parse(raw, ctx);
    if (parsed.ok) {
      values.set(key, parsed.value);
      continue;
    }
    const shown = spec.secret ? '<secret>' : raw;
    problems.push({
      message: `invalid value "${shown}" for setting "${key}": expected ${parsed.expected}`,
      hint: entry === undefined ? undefined : `fix it ${describeWhere(entry.source)}`,
    });
    values.set(key, parseDefault(key));
  }
  return { values, sources };
}

function describeWhere(source: Configured['source']): string {
  if (source.kind === 'override') return 'in the overrides';
  return source.line === undefined ? `in "${source.path}"` : `in "${source.path}" line ${source.line}`;
}
