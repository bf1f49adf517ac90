/**
 * The value types of settings. Each turns the raw text of a setting into a typed value, or says what
 * form it expected, and carries the name the docs table shows. Pure apart from reading the values of
 * settings parsed before it (a default host, a base folder) through the context.
 */
import { isAbsolute, resolve } from 'node:path';
import { databaseNameExpected, normalizeDatabaseName } from './database-name.js';
import {
  hostExpected,
  type ListenAddress,
  listenAddressExpected,
  parseHost,
  parseListenAddress,
} from './listen-address.js';
import { parseRetentionPolicy, type RetentionPolicy, retentionPolicyGrammar } from './retention.js';
import { formatByteSize, parseByteSize, parseDuration } from './units.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; expected: string };

export interface ParseContext {
  /** Absolute home folder; relative paths resolve against it. */
  home: string;
  /** The parsed value of a setting declared earlier in the table (see `dependsOn`). */
  valueOf(key: string): unknown;
}

export interface ValueType<T> {
  /** Short name for the docs table, e.g. `byte size ≥ 128k`. */
  readonly docName: string;
  /** Completes "expected …" in error messages. */
  readonly expected: string;
  /** A setting whose value this type reads while parsing; the table must declare it earlier. */
  readonly dependsOn: string | undefined;
  parse(raw: string, ctx: ParseContext): Parsed<T>;
}

function valueType<T>(
  docName: string,
  expected: string,
  parse: (raw: string, ctx: ParseContext) => T | undefined,
  dependsOn?: string,
): ValueType<T> {
  return {
    docName,
    expected,
    dependsOn,
    parse(raw, ctx) {
      const value = parse(raw, ctx);
      return value === undefined ? { ok: false, expected } : { ok: true, value };
    },
  };
}

export const stringType: ValueType<string> = valueType('string', 'a string', (raw) => raw);

export const booleanType: ValueType<boolean> = valueType('boolean', 'true or false', (raw) => {
  const text = raw.toLowerCase();
  return text === 'true' ? true : text === 'false' ? false : undefined;
});

export function integerType(bounds: { min?: number; max?: number } = {}): ValueType<number> {
  const { min, max } = bounds;
  const range = [min !== undefined ? `≥ ${min}` : '', max !== undefined ? `≤ ${max}` : ''].filter(Boolean).join(', ');
  return valueType(
    range ? `integer ${range}` : 'integer',
    range ? `an integer ${range}` : 'an integer',
    (raw) => {
      if (!/^-?\d+$/.test(raw)) return undefined;
      const n = Number(raw);
      if (!Number.isSafeInteger(n) || (min !== undefined && n < min) || (max !== undefined && n > max)) return undefined;
      return n;
    },
  );
}

/** Bytes, from `512`, `64k`, `256M`, `1G`, `1GiB` (binary units). With `zeroAllowed`, 0 (= no limit) passes `min` too. */
export function byteSizeType(bounds: { min?: number; zeroAllowed?: boolean } = {}): ValueType<number> {
  const { min, zeroAllowed = false } = bounds;
  const zero = zeroAllowed ? '0 or ' : '';
  return valueType(
    min !== undefined ? `${zero}byte size ≥ ${formatByteSize(min)}` : 'byte size',
    min !== undefined
      ? `${zero}a byte size of at least ${formatByteSize(min)}, such as 256M or 1G`
      : 'a byte size such as 256M or 1G',
    (raw) => {
      const bytes = parseByteSize(raw);
      if (bytes === 0 && zeroAllowed) return 0;
      return bytes === undefined || (min !== undefined && bytes < min) ? undefined : bytes;
    },
  );
}

/** Milliseconds, from `500ms`, `10s`, `15m`, `2h`, `1d`; a bare number is seconds. */
export const durationType: ValueType<number> = valueType(
  'duration',
  'a duration such as 500ms, 10s, 15m, 2h or 1d (a bare number is seconds)',
  parseDuration,
);

/** A host without a port; IPv6 with or without brackets. */
export const hostType: ValueType<string> = valueType('host', hostExpected, parseHost);

/** `host:port`; `:port` takes its host from the setting `hostKey`, a lone host takes `defaultPort`. */
export function listenAddressType(hostKey: string, defaultPort: number): ValueType<ListenAddress> {
  return valueType(
    'listen address',
    listenAddressExpected,
    (raw, ctx) => parseListenAddress(raw, stringValue(ctx, hostKey), defaultPort),
    hostKey,
  );
}

/** One of `values`, matched case-insensitively and returned in the declared spelling. */
export function enumType<const V extends string>(values: readonly V[]): ValueType<V> {
  return valueType(`one of ${values.join(', ')}`, `one of ${values.join(', ')}`, (raw) =>
    values.find((v) => v.toLowerCase() === raw.toLowerCase()),
  );
}

/** Comma-separated items, trimmed, empty items dropped; `allowed` restricts them (case-insensitive, canonical spelling out). */
export function listType(options: { allowed?: readonly string[]; minItems?: number } = {}): ValueType<string[]> {
  const { allowed, minItems = 0 } = options;
  const docName = allowed !== undefined ? `list of ${allowed.join(', ')}` : 'comma-separated list';
  const expected = `a comma-separated list${allowed !== undefined ? ` of ${allowed.join(', ')}` : ''}`;
  return valueType(docName, expected, (raw) => {
    const items: string[] = [];
    for (const part of raw.split(',')) {
      const item = part.trim();
      if (item === '') continue;
      if (allowed === undefined) {
        items.push(item);
        continue;
      }
      const canonical = allowed.find((a) => a.toLowerCase() === item.toLowerCase());
      if (canonical === undefined) return undefined;
      items.push(canonical);
    }
    return items.length < minItems ? undefined : items;
  });
}

/**
 * An absolute path. A relative path resolves against the home folder, or against the (absolute) value of
 * the setting `relativeToKey` when given, as SSL files resolve under their policy's base directory.
 * `relativeToDoc` names that base in the docs.
 */
export function pathType(relativeToKey?: string, relativeToDoc: string | undefined = relativeToKey): ValueType<string> {
  return valueType(
    relativeToDoc !== undefined ? `path (relative to ${relativeToDoc})` : 'path (relative to home)',
    'a file system path',
    (raw, ctx) => {
      if (raw === '' || raw.includes('\0')) return undefined;
      if (isAbsolute(raw)) return resolve(raw);
      return resolve(relativeToKey !== undefined ? stringValue(ctx, relativeToKey) : ctx.home, raw);
    },
    relativeToKey,
  );
}

export const retentionPolicyType: ValueType<RetentionPolicy> = valueType(
  'retention policy',
  retentionPolicyGrammar,
  parseRetentionPolicy,
);

/** A database name under Neo4j's rules, lower-cased. */
export const databaseNameType: ValueType<string> = {
  docName: 'database name',
  expected: databaseNameExpected,
  dependsOn: undefined,
  parse(raw) {
    const result = normalizeDatabaseName(raw);
    return result.ok
      ? { ok: true, value: result.name }
      : { ok: false, expected: `${databaseNameExpected}, but ${result.reason}` };
  },
};

function stringValue(ctx: ParseContext, key: string): string {
  const value = ctx.valueOf(key);
  if (typeof value !== 'string') throw new Error(`assertion failed: setting "${key}" has no string value yet`);
  return value;
}
