/**
 * The transaction-log retention policy (`db.tx_log.rotation.retention_policy`) with Neo4j's full grammar,
 * parsed into a typed union. The accepted language is exactly Neo4j 5's validation regex
 * (`neo4jRetentionRegex`), and `k`/`m`/`g` multiply by 1024 everywhere, as Neo4j's parser does
 * (so `100k txs` keeps 102 400 transactions).
 */
import { QuiverError } from '../util/errors.js';

export type RetentionPolicy =
  /** Never prune (`true`, `keep_all`). */
  | { kind: 'keep_all' }
  /** Keep only the newest non-empty file (`false`, `keep_none`). */
  | { kind: 'keep_none' }
  /** Keep the newest `count` files. */
  | { kind: 'files'; count: number }
  /** Keep at least `bytes` bytes of files. */
  | { kind: 'size'; bytes: number }
  /** Keep at least the newest `count` transactions (`txs` and `entries` are synonyms). */
  | { kind: 'txs'; count: number }
  /** Keep files holding a transaction committed in the last `ms`; `bytesMax` caps the total when given. */
  | { kind: 'age'; ms: number; bytesMax: number | undefined };

export const retentionPolicyKey = 'db.tx_log.rotation.retention_policy';

/** Neo4j 5's own validation regex, copied verbatim; the tests check that the parser accepts exactly this. */
export const neo4jRetentionRegex =
  /^(true|keep_all|false|keep_none|(\d+[KkMmGg]?( (files|size|txs|entries|hours( \d+[KkMmGg]?)?|days( \d+[KkMmGg]?)?))))$/;

/** The grammar as shown to users. */
export const retentionPolicyGrammar =
  'true | keep_all | false | keep_none | <n> files | <n> size | <n> txs | <n> entries | <n> hours [<size>] | <n> days [<size>]' +
  ' (a number may end in k, m or g, each ×1024; single spaces between words)';

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;

/** The policy, or `undefined` when `raw` is outside the grammar or a number overflows. */
export function parseRetentionPolicy(raw: string): RetentionPolicy | undefined {
  if (raw === 'true' || raw === 'keep_all') return { kind: 'keep_all' };
  if (raw === 'false' || raw === 'keep_none') return { kind: 'keep_none' };
  const match = /^(\d+[KkMmGg]?) (files|size|txs|entries|hours|days)(?: (\d+[KkMmGg]?))?$/.exec(raw);
  if (match === null) return undefined;
  const amount = parseCount(match[1]!);
  const unit = match[2]!;
  const capText = match[3];
  if (amount === undefined) return undefined;
  if (capText !== undefined && unit !== 'hours' && unit !== 'days') return undefined; // only time spans take a size cap
  switch (unit) {
    case 'files':
      return { kind: 'files', count: amount };
    case 'size':
      return { kind: 'size', bytes: amount };
    case 'txs':
    case 'entries':
      return { kind: 'txs', count: amount };
    default: {
      const ms = amount * (unit === 'hours' ? hourMs : dayMs);
      if (!Number.isSafeInteger(ms)) return undefined;
      const bytesMax = capText === undefined ? undefined : parseCount(capText);
      if (capText !== undefined && bytesMax === undefined) return undefined;
      return { kind: 'age', ms, bytesMax };
    }
  }
}

/** As parseRetentionPolicy, but a bad value throws `ConfigInvalid` naming the setting, the value and the grammar. */
export function parseRetentionPolicyOrThrow(raw: string, key: string = retentionPolicyKey): RetentionPolicy {
  const policy = parseRetentionPolicy(raw);
  if (policy === undefined) {
    throw new QuiverError('ConfigInvalid', `invalid value "${raw}" for setting "${key}": expected ${retentionPolicyGrammar}`);
  }
  return policy;
}

/** Neo4j's `parseLongWithUnit`: digits with an optional binary k/m/g suffix. */
function parseCount(text: string): number | undefined {
  const suffix = text.slice(-1).toLowerCase();
  const power = suffix === 'k' ? 1 : suffix === 'm' ? 2 : suffix === 'g' ? 3 : 0;
  const digits = power === 0 ? text : text.slice(0, -1);
  const n = Number(digits) * 1024 ** power;
  return Number.isSafeInteger(n) ? n : undefined;
}
