/**
 * Maps our value classes (graph entities, temporals) to PackStream structures and back, per the
 * negotiated Bolt version: element ids only from 5.0, UTC-based DateTime (0x49/0x69) from 5.0 or with
 * the 4.4 "utc" patch, legacy local-seconds DateTime (0x46/0x66) otherwise. Decoding validates field
 * counts and types and throws `TypeError` QuiverErrors for values it cannot represent.
 */
import { QuiverError } from '../util/errors.js';
import { NodeValue, PathValue, RelationshipValue, type Properties, type Value } from '../values/value.js';
import { QDate, QDateTime, QDuration, QLocalDateTime, QLocalTime, QTime } from '../values/temporal.js';
import { civilFromEpochDays, epochDaysFromCivil } from './calendar.js';
import { zoneOffsetSeconds } from './zones.js';

export interface StructureOptions {
  /** Bolt 5+: Node and relationships carry element id strings. */
  elementIds: boolean;
  /** Bolt 5+, or 4.4 with the "utc" patch: DateTime structures hold UTC seconds (0x49/0x69). */
  utcDateTime: boolean;
}

/** What a structure field may hold: values, plus unbound relationships (only inside a Path). */
export type StructField = Value | UnboundRelationship | readonly StructField[];

/** A PackStream structure before it is mapped to a value: tag plus fields. */
export class Structure {
  constructor(
    readonly tag: number,
    readonly fields: readonly StructField[],
  ) {}
}

/** A relationship inside a Path, without its end nodes; only exists while decoding a Path. */
export class UnboundRelationship {
  constructor(
    readonly id: number,
    readonly type: string,
    readonly properties: Properties,
  ) {}
  get elementId(): string {
    return String(this.id);
  }
}

export const structTag = {
  node: 0x4e,
  relationship: 0x52,
  unboundRelationship: 0x72,
  path: 0x50,
  date: 0x44,
  time: 0x54,
  localTime: 0x74,
  dateTime: 0x49,
  dateTimeZoneId: 0x69,
  legacyDateTime: 0x46,
  legacyDateTimeZoneId: 0x66,
  localDateTime: 0x64,
  duration: 0x45,
  point2d: 0x58,
  point3d: 0x59,
} as const;

/** Cypher dates span years ±999,999,999: about ±365.25 billion days. */
const epochDaysMax = 366_000_000_000n;
const nanosPerDay = 86_400_000_000_000n;
/** ISO-8601 offsets are within ±18 hours. */
const offsetSecondsMax = 18 * 3600;

/** Any non-primitive value → its structure. Primitives, lists and maps are not structures. */
export function valueToStructure(v: StructField, o: StructureOptions): Structure {
  if (v instanceof UnboundRelationship) {
    const fields: Value[] = [BigInt(v.id), v.type, v.properties];
    if (o.elementIds) fields.push(v.elementId);
    return new Structure(structTag.unboundRelationship, fields);
  }
  if (v instanceof NodeValue) {
    const fields: Value[] = [BigInt(v.id), v.labels, v.properties];
    if (o.elementIds) fields.push(v.elementId);
    return new Structure(structTag.node, fields);
  }
  if (v instanceof RelationshipValue) {
    const fields: Value[] = [BigInt(v.id), BigInt(v.startId), BigInt(v.endId), v.type, v.properties];
    if (o.elementIds) fields.push(v.elementId, String(v.startId), String(v.endId));
    return new Structure(structTag.relationship, fields);
  }
  if (v instanceof PathValue) return pathStructure(v);
  // Not v.epochDays(): it goes through Date.UTC, which misreads years 0..99.
  if (v instanceof QDate) return new Structure(structTag.date, [BigInt(epochDaysFromCivil(v.year, v.month, v.day))]);
  if (v instanceof QTime) return new Structure(structTag.time, [v.nanoOfDay, BigInt(v.offsetSeconds)]);
  if (v instanceof QLocalTime) return new Structure(structTag.localTime, [v.nanoOfDay]);
  if (v instanceof QLocalDateTime) return new Structure(structTag.localDateTime, [v.epochSeconds, BigInt(v.nanos)]);
  if (v instanceof QDateTime) {
    // Legacy structures carry local wall-clock seconds instead of UTC seconds.
    const seconds = o.utcDateTime ? v.epochSeconds : v.epochSeconds + BigInt(v.offsetSeconds);
    if (v.zoneId !== null) {
      return new Structure(o.utcDateTime ? structTag.dateTimeZoneId : structTag.legacyDateTimeZoneId, [seconds, BigInt(v.nanos), v.zoneId]);
    }
    return new Structure(o.utcDateTime ? structTag.dateTime : structTag.legacyDateTime, [seconds, BigInt(v.nanos), BigInt(v.offsetSeconds)]);
  }
  if (v instanceof QDuration) return new Structure(structTag.duration, [v.months, v.days, v.seconds, BigInt(v.nanos)]);
  throw new QuiverError('Internal', `cannot encode a value of type ${describe(v)} for Bolt`);
}

/**
 * Path: distinct nodes, distinct unbound relationships, then indices as (relationship, node) pairs.
 * Relationship indices are 1-based and negative when traversed against their direction.
 */
function pathStructure(p: PathValue): Structure {
  if (p.nodes.length !== p.relationships.length + 1) {
    throw new QuiverError('Internal', `path has ${p.nodes.length} nodes and ${p.relationships.length} relationships`);
  }
  const nodes: NodeValue[] = [];
  const nodeIndex = new Map<number, number>();
  const rels: UnboundRelationship[] = [];
  const relIndex = new Map<number, number>();
  const indexOf = <T extends { id: number }>(list: T[], index: Map<number, number>, item: T): number => {
    let i = index.get(item.id);
    if (i === undefined) {
      i = list.length;
      list.push(item);
      index.set(item.id, i);
    }
    return i;
  };
  indexOf(nodes, nodeIndex, p.nodes[0] as NodeValue);
  const indices: bigint[] = [];
  p.relationships.forEach((r, i) => {
    const prev = p.nodes[i] as NodeValue;
    const next = p.nodes[i + 1] as NodeValue;
    const ri = indexOf(rels, relIndex, new UnboundRelationship(r.id, r.type, r.properties)) + 1;
    indices.push(BigInt(r.startId === prev.id ? ri : -ri), BigInt(indexOf(nodes, nodeIndex, next)));
  });
  return new Structure(structTag.path, [nodes, rels, indices]);
}

/** A decoded structure → our value. Unknown or unsupported tags throw `TypeError`. */
export function structureToValue(s: Structure): Value | UnboundRelationship {
  const f = new Fields(s);
  switch (s.tag) {
    case structTag.node: {
      f.count(3, 4); // 4.x without element id, 5.x with; we derive element ids from ids.
      return new NodeValue(f.id(0), f.stringList(1), f.properties(2));
    }
    case structTag.relationship: {
      f.count(5, 8);
      return new RelationshipValue(f.id(0), f.string(3), f.id(1), f.id(2), f.properties(4));
    }
    case structTag.unboundRelationship: {
      f.count(3, 4);
      return new UnboundRelationship(f.id(0), f.string(1), f.properties(2));
    }
    case structTag.path:
      f.count(3, 3);
      return decodePath(f);
    case structTag.date: {
      f.count(1, 1);
      const days = f.int(0);
      if (days < -epochDaysMax || days > epochDaysMax) throw unsupported(`date ${days} days from the epoch is out of range`);
      const { year, month, day } = civilFromEpochDays(Number(days));
      return new QDate(year, month, day);
    }
    case structTag.time: {
      f.count(2, 2);
      return new QTime(f.nanoOfDay(0), f.offset(1));
    }
    case structTag.localTime:
      f.count(1, 1);
      return new QLocalTime(f.nanoOfDay(0));
    case structTag.localDateTime:
      f.count(2, 2);
      return new QLocalDateTime(f.int(0), f.nanos(1));
    case structTag.dateTime: {
      f.count(3, 3);
      return new QDateTime(f.int(0), f.nanos(1), f.offset(2));
    }
    case structTag.legacyDateTime: {
      f.count(3, 3);
      const offset = f.offset(2);
      return new QDateTime(f.int(0) - BigInt(offset), f.nanos(1), offset);
    }
    case structTag.dateTimeZoneId: {
      f.count(3, 3);
      const utc = f.int(0);
      const zone = f.string(2);
      return new QDateTime(utc, f.nanos(1), zoneOffset(zone, utc), zone);
    }
    case structTag.legacyDateTimeZoneId: {
      f.count(3, 3);
      const local = f.int(0);
      const zone = f.string(2);
      // Local wall-clock seconds: guess the offset at local-as-UTC, then correct once with the offset in
      // force at the resulting instant. Ambiguous local times (DST fold) resolve to one of the two.
      const guess = local - BigInt(zoneOffset(zone, local));
      const offset = zoneOffset(zone, guess);
      return new QDateTime(local - BigInt(offset), f.nanos(1), offset, zone);
    }
    case structTag.duration: {
      f.count(4, 4);
      const nanos = f.int(3);
      if (nanos <= -1_000_000_000n || nanos >= 1_000_000_000n) throw unsupported(`duration nanoseconds ${nanos} out of range`);
      return new QDuration(f.int(0), f.int(1), f.int(2), Number(nanos));
    }
    case structTag.point2d:
    case structTag.point3d:
      throw unsupported('spatial points are not supported by this server');
  }
  throw unsupported(`unknown PackStream structure tag 0x${s.tag.toString(16)}`);
}

function decodePath(f: Fields): PathValue {
  const nodes = f.list(0).map((n) => {
    if (!(n instanceof NodeValue)) throw unsupported('path nodes must be Node structures');
    return n;
  });
  const rels = f.list(1).map((r) => {
    if (!(r instanceof UnboundRelationship)) throw unsupported('path relationships must be UnboundRelationship structures');
    return r;
  });
  const indices = f.list(2);
  if (nodes.length === 0 || indices.length % 2 !== 0) throw unsupported('path indices must come in (relationship, node) pairs after at least one node');
  const seqNodes: NodeValue[] = [nodes[0] as NodeValue];
  const seqRels: RelationshipValue[] = [];
  for (let i = 0; i < indices.length; i += 2) {
    const ri = indices[i];
    const ni = indices[i + 1];
    if (typeof ri !== 'bigint' || typeof ni !== 'bigint') throw unsupported('path indices must be integers');
    const rel = ri === 0n ? undefined : rels[Number(ri > 0n ? ri : -ri) - 1];
    const next = ni < 0n ? undefined : nodes[Number(ni)];
    if (rel === undefined || next === undefined) throw unsupported(`path index (${ri}, ${ni}) out of range`);
    const prev = seqNodes[seqNodes.length - 1] as NodeValue;
    const [start, end] = ri > 0n ? [prev, next] : [next, prev];
    seqRels.push(new RelationshipValue(rel.id, rel.type, start.id, end.id, rel.properties));
    seqNodes.push(next);
  }
  return new PathValue(seqNodes, seqRels);
}

/** Typed access to structure fields with errors that name the structure. */
class Fields {
  constructor(private readonly s: Structure) {}

  count(min: number, max: number): void {
    const n = this.s.fields.length;
    if (n < min || n > max) throw unsupported(`structure 0x${this.s.tag.toString(16)} has ${n} fields, expected ${min === max ? min : `${min}-${max}`}`);
  }
  int(i: number): bigint {
    const v = this.s.fields[i];
    if (typeof v !== 'bigint') throw this.wrong(i, 'an integer');
    return v;
  }
  id(i: number): number {
    const v = this.int(i);
    if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.wrong(i, 'an id within ±2^53');
    return Number(v);
  }
  nanos(i: number): number {
    const v = this.int(i);
    if (v < 0n || v >= 1_000_000_000n) throw this.wrong(i, 'nanoseconds in 0..999999999');
    return Number(v);
  }
  nanoOfDay(i: number): bigint {
    const v = this.int(i);
    if (v < 0n || v >= nanosPerDay) throw this.wrong(i, 'nanoseconds of a day');
    return v;
  }
  offset(i: number): number {
    const v = this.int(i);
    if (v < BigInt(-offsetSecondsMax) || v > BigInt(offsetSecondsMax)) throw this.wrong(i, 'an offset within ±18 hours');
    return Number(v);
  }
  string(i: number): string {
    const v = this.s.fields[i];
    if (typeof v !== 'string') throw this.wrong(i, 'a string');
    return v;
  }
  list(i: number): readonly StructField[] {
    const v = this.s.fields[i];
    if (!Array.isArray(v)) throw this.wrong(i, 'a list');
    return v as readonly StructField[];
  }
  stringList(i: number): string[] {
    return this.list(i).map((e) => {
      if (typeof e !== 'string') throw this.wrong(i, 'a list of strings');
      return e;
    });
  }
  properties(i: number): Properties {
    const v = this.s.fields[i];
    if (!(v instanceof Map)) throw this.wrong(i, 'a map');
    // Entities decoded from parameters are never stored as-is; Cypher validates property values.
    return v as Properties;
  }
  private wrong(i: number, expected: string): QuiverError {
    return unsupported(`field ${i} of structure 0x${this.s.tag.toString(16)} must be ${expected}`);
  }
}

function zoneOffset(zone: string, epochSeconds: bigint): number {
  const offset = zoneOffsetSeconds(zone, epochSeconds);
  if (offset === undefined) throw unsupported(`unknown time zone "${zone}" or instant out of range`);
  return offset;
}

function unsupported(detail: string): QuiverError {
  return new QuiverError('TypeError', `cannot accept Bolt value: ${detail}`);
}

function describe(v: unknown): string {
  return v === null ? 'null' : typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v;
}
