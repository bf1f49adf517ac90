/**
 * The value model shared by the store, the transaction log, Cypher and Bolt.
 *
 * Integers are `bigint` and floats are `number`, so that Cypher's integer/float distinction and
 * 64-bit integers survive every layer exactly. Property values are the storable subset: no null
 * (setting null removes the property), no maps, lists of storable scalars only.
 */
import { type TemporalValue, isTemporal } from './temporal.js';

export type ScalarValue = boolean | bigint | number | string | Uint8Array | TemporalValue;
export type PropertyValue = ScalarValue | ScalarValue[];
export type Properties = Map<string, PropertyValue>;

/** Graph entities as Cypher and Bolt see them (materialised). */
export class NodeValue {
  constructor(
    readonly id: number,
    readonly labels: string[],
    readonly properties: Properties,
  ) {}
  get elementId(): string {
    return String(this.id);
  }
}

export class RelationshipValue {
  constructor(
    readonly id: number,
    readonly type: string,
    readonly startId: number,
    readonly endId: number,
    readonly properties: Properties,
  ) {}
  get elementId(): string {
    return String(this.id);
  }
}

/** Alternating nodes and relationships, starting and ending with a node. */
export class PathValue {
  constructor(
    readonly nodes: NodeValue[],
    readonly relationships: RelationshipValue[],
  ) {}
}

/** Any value a Cypher expression can produce. Maps are plain `Map<string, Value>`. */
export type Value =
  | null
  | ScalarValue
  | Value[]
  | Map<string, Value>
  | NodeValue
  | RelationshipValue
  | PathValue;

export function isPropertyValue(v: Value): v is PropertyValue {
  if (v === null) return false;
  if (Array.isArray(v)) return v.every((e) => e !== null && isScalar(e));
  return isScalar(v);
}

export function isScalar(v: Value): v is ScalarValue {
  return (
    typeof v === 'boolean' ||
    typeof v === 'bigint' ||
    typeof v === 'number' ||
    typeof v === 'string' ||
    v instanceof Uint8Array ||
    isTemporal(v)
  );
}
