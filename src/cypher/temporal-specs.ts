/**
 * The temporal entries of the function table: each constructor with its .statement, .transaction
 * and .realtime clocks and .truncate, datetime.fromepoch[millis], duration() and duration.between
 * with its inMonths / inDays / inSeconds variants. A null argument gives null, never "now".
 */
import type { Value } from '../values/value.js';
import type { ExecContext } from './context.js';
import { makeTemporal, truncateTemporal, type TemporalKind } from './temporal-functions.js';
import { durationBetween, makeDuration } from './temporal-duration.js';

interface TemporalFunctionSpec {
  minArgs: number;
  maxArgs: number;
  fn: (args: Value[], ctx: ExecContext) => Value;
}

const kinds: TemporalKind[] = ['date', 'datetime', 'localdatetime', 'time', 'localtime'];

function specs(): [string, TemporalFunctionSpec][] {
  const out: [string, TemporalFunctionSpec][] = [];
  for (const kind of kinds) {
    const statement: TemporalFunctionSpec = { minArgs: 0, maxArgs: 1, fn: (args, ctx) => makeTemporal(kind, args[0], ctx.statementTime) };
    out.push([kind, statement], [`${kind}.statement`, statement], [`${kind}.transaction`, statement]);
    out.push([`${kind}.realtime`, { minArgs: 0, maxArgs: 1, fn: (args) => makeTemporal(kind, args[0], new Date()) }]);
    out.push([`${kind}.truncate`, { minArgs: 2, maxArgs: 3, fn: (args, ctx) => truncateTemporal(kind, args[0]!, args[1]!, args[2], ctx.statementTime) }]);
  }
  out.push(['datetime.fromepochmillis', { minArgs: 1, maxArgs: 1, fn: ([ms], ctx) => (ms === null ? null : makeTemporal('datetime', new Map([['epochMillis', ms!]]), ctx.statementTime)) }]);
  out.push(['datetime.fromepoch', { minArgs: 2, maxArgs: 2, fn: ([s, ns], ctx) => (s === null || ns === null ? null : makeTemporal('datetime', new Map([['epochSeconds', s!], ['nanosecond', ns!]]), ctx.statementTime)) }]);
  out.push(['duration', { minArgs: 1, maxArgs: 1, fn: ([v]) => makeDuration(v!) }]);
  out.push(['duration.between', { minArgs: 2, maxArgs: 2, fn: ([a, b]) => durationBetween(a!, b!, 'all') }]);
  out.push(['duration.inmonths', { minArgs: 2, maxArgs: 2, fn: ([a, b]) => durationBetween(a!, b!, 'months') }]);
  out.push(['duration.indays', { minArgs: 2, maxArgs: 2, fn: ([a, b]) => durationBetween(a!, b!, 'days') }]);
  out.push(['duration.inseconds', { minArgs: 2, maxArgs: 2, fn: ([a, b]) => durationBetween(a!, b!, 'seconds') }]);
  return out;
}

/** Lower-cased name → spec, spread into the function table of functions.ts. */
export const temporalFunctionSpecs: [string, TemporalFunctionSpec][] = specs();
