/**
 * The TCK's value notation (integers, floats, 'strings', lists, maps, (:nodes {…}), [:RELS {…}],
 * <paths>) read into a small tree, and neo4j-driver values turned into the same tree, so that an
 * expected cell and a returned value compare by one canonical rendering. Temporal values from the
 * driver become strings in Neo4j's (java.time's) format, because the TCK writes them as strings.
 */
import neo4j from 'neo4j-driver';

export type TckValue =
  | { k: 'null' }
  | { k: 'bool'; v: boolean }
  | { k: 'int'; v: bigint }
  | { k: 'float'; v: number }
  | { k: 'string'; v: string }
  | { k: 'list'; v: TckValue[] }
  | { k: 'map'; v: Map<string, TckValue> }
  | { k: 'node'; labels: string[]; props: Map<string, TckValue> }
  | { k: 'rel'; type: string; props: Map<string, TckValue> }
  | { k: 'path'; nodes: TckValue[]; rels: { rel: TckValue; forward: boolean }[] };

export class TckParseError extends Error {}

/** Parses one cell of an expected-results or parameters table. */
export function parseTckValue(text: string): TckValue {
  const p = new Reader(text);
  const v = p.value();
  p.ws();
  if (!p.done()) throw new TckParseError(`trailing text at ${p.pos} in ${JSON.stringify(text)}`);
  return v;
}

class Reader {
  pos = 0;
  constructor(readonly s: string) {}
  done(): boolean {
    return this.pos >= this.s.length;
  }
  ws(): void {
    while (this.pos < this.s.length && /\s/.test(this.s[this.pos]!)) this.pos++;
  }
  peek(): string {
    return this.s[this.pos] ?? '';
  }
  eat(c: string): void {
    this.ws();
    if (!this.s.startsWith(c, this.pos)) throw new TckParseError(`expected ${JSON.stringify(c)} at ${this.pos} in ${JSON.stringify(this.s)}`);
    this.pos += c.length;
  }
  tryEat(c: string): boolean {
    this.ws();
    if (this.s.startsWith(c, this.pos)) {
      this.pos += c.length;
      return true;
    }
    return false;
  }
  name(): string {
    this.ws();
    if (this.peek() === '`') {
      const end = this.s.indexOf('`', this.pos + 1);
      const n = this.s.slice(this.pos + 1, end);
      this.pos = end + 1;
      return n;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.pos));
    if (!m) throw new TckParseError(`expected a name at ${this.pos} in ${JSON.stringify(this.s)}`);
    this.pos += m[0].length;
    return m[0];
  }
  props(): Map<string, TckValue> {
    const m = new Map<string, TckValue>();
    this.eat('{');
    if (this.tryEat('}')) return m;
    do {
      const k = this.name();
      this.eat(':');
      m.set(k, this.value());
    } while (this.tryEat(','));
    this.eat('}');
    return m;
  }
  node(): TckValue {
    this.eat('(');
    const labels: string[] = [];
    while (this.tryEat(':')) labels.push(this.name());
    this.ws();
    const props = this.peek() === '{' ? this.props() : new Map<string, TckValue>();
    this.eat(')');
    return { k: 'node', labels, props };
  }
  rel(): TckValue {
    this.eat('[');
    this.eat(':');
    const type = this.name();
    this.ws();
    const props = this.peek() === '{' ? this.props() : new Map<string, TckValue>();
    this.eat(']');
    return { k: 'rel', type, props };
  }
  value(): TckValue {
    this.ws();
    const rest = this.s.slice(this.pos);
    const c = this.peek();
    if (c === "'") {
      let out = '';
      this.pos++;
      while (this.pos < this.s.length && this.s[this.pos] !== "'") {
        if (this.s[this.pos] === '\\' && this.pos + 1 < this.s.length) {
          const e = this.s[this.pos + 1]!;
          out += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          this.pos += 2;
        } else out += this.s[this.pos++];
      }
      this.pos++;
      return { k: 'string', v: out };
    }
    if (c === '[') {
      const save = this.pos;
      this.pos++;
      this.ws();
      if (this.peek() === ':') {
        this.pos = save;
        return this.rel();
      }
      const items: TckValue[] = [];
      if (this.tryEat(']')) return { k: 'list', v: items };
      do items.push(this.value());
      while (this.tryEat(','));
      this.eat(']');
      return { k: 'list', v: items };
    }
    if (c === '{') return { k: 'map', v: this.props() };
    if (c === '(') return this.node();
    if (c === '<') {
      this.pos++;
      const nodes: TckValue[] = [this.node()];
      const rels: { rel: TckValue; forward: boolean }[] = [];
      for (;;) {
        this.ws();
        if (this.tryEat('>')) break;
        const backward = this.tryEat('<-');
        if (!backward) this.eat('-');
        const rel = this.rel();
        const forward = !backward;
        this.eat(forward ? '->' : '-');
        rels.push({ rel, forward });
        nodes.push(this.node());
      }
      return { k: 'path', nodes, rels };
    }
    let m: RegExpExecArray | null;
    if ((m = /^null\b/.exec(rest))) return this.adv(m[0], { k: 'null' });
    if ((m = /^true\b/.exec(rest))) return this.adv(m[0], { k: 'bool', v: true });
    if ((m = /^false\b/.exec(rest))) return this.adv(m[0], { k: 'bool', v: false });
    if ((m = /^NaN\b/.exec(rest))) return this.adv(m[0], { k: 'float', v: NaN });
    if ((m = /^-?Inf(inity)?\b/.exec(rest))) return this.adv(m[0], { k: 'float', v: m[0].startsWith('-') ? -Infinity : Infinity });
    if ((m = /^-?(\d+\.\d*|\.\d+|\d+(?=[eE]))([eE][+-]?\d+)?/.exec(rest))) return this.adv(m[0], { k: 'float', v: Number(m[0]) });
    if ((m = /^-?\d+/.exec(rest))) return this.adv(m[0], { k: 'int', v: BigInt(m[0]) });
    throw new TckParseError(`cannot read a value at ${this.pos} in ${JSON.stringify(this.s)}`);
  }
  adv(text: string, v: TckValue): TckValue {
    this.pos += text.length;
    return v;
  }
}

/** One canonical text per value; `sortLists` for "ignoring element order for lists". */
export function render(v: TckValue, sortLists = false): string {
  const props = (m: Map<string, TckValue>): string => {
    if (m.size === 0) return '';
    return ` {${[...m.keys()].sort().map((k) => `${k}: ${render(m.get(k)!, sortLists)}`).join(', ')}}`;
  };
  switch (v.k) {
    case 'null': return 'null';
    case 'bool': return String(v.v);
    case 'int': return v.v.toString();
    case 'float': return Number.isNaN(v.v) ? 'NaN' : v.v === Infinity ? 'Inf' : v.v === -Infinity ? '-Inf' : Number.isInteger(v.v) && Math.abs(v.v) < 1e21 ? `${v.v}.0` : String(v.v);
    case 'string': return JSON.stringify(v.v).replace(/^"|"$/g, "'");
    case 'list': {
      const items = v.v.map((x) => render(x, sortLists));
      if (sortLists) items.sort();
      return `[${items.join(', ')}]`;
    }
    case 'map': return `{${[...v.v.keys()].sort().map((k) => `${k}: ${render(v.v.get(k)!, sortLists)}`).join(', ')}}`;
    case 'node': return `(${[...v.labels].sort().map((l) => ':' + l).join('')}${props(v.props)})`;
    case 'rel': return `[:${v.type}${props(v.props)}]`;
    case 'path': {
      let s = '<' + render(v.nodes[0]!, sortLists);
      v.rels.forEach((r, i) => {
        s += (r.forward ? '-' : '<-') + render(r.rel, sortLists) + (r.forward ? '->' : '-') + render(v.nodes[i + 1]!, sortLists);
      });
      return s + '>';
    }
  }
}

// ---- driver values ---------------------------------------------------------------------------

function pad(n: number, w: number): string {
  const s = String(Math.abs(n)).padStart(w, '0');
  return n < 0 ? '-' + s : s;
}

/** java.time fraction: 3, 6 or 9 digits. */
function fraction(nanos: number): string {
  if (nanos === 0) return '';
  if (nanos % 1_000_000 === 0) return '.' + pad(nanos / 1_000_000, 3);
  if (nanos % 1000 === 0) return '.' + pad(nanos / 1000, 6);
  return '.' + pad(nanos, 9);
}

/** java.time LocalTime.toString: HH:mm, then :ss only when seconds or nanos are set. */
function timeText(h: number, m: number, s: number, nanos: number): string {
  let t = `${pad(h, 2)}:${pad(m, 2)}`;
  if (s !== 0 || nanos !== 0) t += `:${pad(s, 2)}${fraction(nanos)}`;
  return t;
}

function yearText(y: number): string {
  if (y > 9999) return '+' + String(y);
  if (y < 0) return '-' + String(-y).padStart(4, '0');
  return String(y).padStart(4, '0');
}

/** ZoneOffset.toString: Z, +HH:MM, or +HH:MM:SS. */
function offsetText(seconds: number): string {
  if (seconds === 0) return 'Z';
  const a = Math.abs(seconds);
  const s = a % 60;
  return `${seconds < 0 ? '-' : '+'}${pad(Math.floor(a / 3600), 2)}:${pad(Math.floor((a % 3600) / 60), 2)}${s ? ':' + pad(s, 2) : ''}`;
}

/** Neo4j DurationValue.toString. */
export function durationText(monthsIn: bigint, daysIn: bigint, secondsIn: bigint, nanosIn: number): string {
  if (monthsIn === 0n && daysIn === 0n && secondsIn === 0n && nanosIn === 0) return 'PT0S';
  let str = 'P';
  const years = monthsIn / 12n;
  const months = monthsIn % 12n;
  if (years !== 0n) str += `${years}Y`;
  if (months !== 0n) str += `${months}M`;
  if (daysIn !== 0n) str += `${daysIn}D`;
  if (secondsIn !== 0n || nanosIn !== 0) {
    let s = secondsIn;
    let n = nanosIn;
    if (s < 0n && n > 0) {
      s += 1n;
      n -= 1_000_000_000;
    }
    str += 'T';
    const h = s / 3600n;
    s %= 3600n;
    const m = s / 60n;
    s %= 60n;
    if (h !== 0n) str += `${h}H`;
    if (m !== 0n) str += `${m}M`;
    if (s !== 0n || n !== 0) {
      const neg = s < 0n || n < 0;
      const abs = (s < 0n ? -s : s).toString();
      const frac = n === 0 ? '' : '.' + String(Math.abs(n)).padStart(9, '0').replace(/0+$/, '');
      str += `${neg ? '-' : ''}${abs}${frac}S`;
    }
  }
  return str;
}

type DriverInt = { toString(): string };

function int(v: unknown): number {
  return neo4j.isInt(v) ? (v as { toNumber(): number }).toNumber() : Number(v);
}

function bigOf(v: unknown): bigint {
  return BigInt((v as DriverInt).toString());
}

export function fromDriver(v: unknown): TckValue {
  if (v === null || v === undefined) return { k: 'null' };
  if (typeof v === 'boolean') return { k: 'bool', v };
  if (typeof v === 'number') return { k: 'float', v };
  if (typeof v === 'bigint') return { k: 'int', v };
  if (neo4j.isInt(v)) return { k: 'int', v: bigOf(v) };
  if (typeof v === 'string') return { k: 'string', v };
  if (Array.isArray(v)) return { k: 'list', v: v.map(fromDriver) };
  if (neo4j.isNode(v)) return { k: 'node', labels: [...v.labels], props: propsOf(v.properties) };
  if (neo4j.isRelationship(v)) return { k: 'rel', type: v.type, props: propsOf(v.properties) };
  if (neo4j.isPath(v)) {
    const nodes: TckValue[] = [fromDriver(v.start)];
    const rels = v.segments.map((seg) => {
      nodes.push(fromDriver(seg.end));
      return { rel: fromDriver(seg.relationship), forward: seg.relationship.startNodeElementId === seg.start.elementId };
    });
    return { k: 'path', nodes, rels };
  }
  if (neo4j.isDuration(v)) return { k: 'string', v: durationText(bigOf(v.months), bigOf(v.days), bigOf(v.seconds), int(v.nanoseconds)) };
  if (neo4j.isDate(v)) return { k: 'string', v: `${yearText(int(v.year))}-${pad(int(v.month), 2)}-${pad(int(v.day), 2)}` };
  if (neo4j.isLocalTime(v)) return { k: 'string', v: timeText(int(v.hour), int(v.minute), int(v.second), int(v.nanosecond)) };
  if (neo4j.isTime(v)) return { k: 'string', v: timeText(int(v.hour), int(v.minute), int(v.second), int(v.nanosecond)) + offsetText(int(v.timeZoneOffsetSeconds)) };
  if (neo4j.isLocalDateTime(v)) return { k: 'string', v: `${yearText(int(v.year))}-${pad(int(v.month), 2)}-${pad(int(v.day), 2)}T${timeText(int(v.hour), int(v.minute), int(v.second), int(v.nanosecond))}` };
  if (neo4j.isDateTime(v)) {
    const base = `${yearText(int(v.year))}-${pad(int(v.month), 2)}-${pad(int(v.day), 2)}T${timeText(int(v.hour), int(v.minute), int(v.second), int(v.nanosecond))}`;
    const off = v.timeZoneOffsetSeconds === undefined || v.timeZoneOffsetSeconds === null ? '' : offsetText(int(v.timeZoneOffsetSeconds));
    return { k: 'string', v: base + off + (v.timeZoneId ? `[${v.timeZoneId}]` : '') };
  }
  if (v instanceof Uint8Array) return { k: 'list', v: [...v].map((b) => ({ k: 'int', v: BigInt(b) })) };
  if (typeof v === 'object') return { k: 'map', v: propsOf(v as Record<string, unknown>) };
  throw new Error(`unexpected driver value ${String(v)}`);
}

function propsOf(o: Record<string, unknown>): Map<string, TckValue> {
  return new Map(Object.entries(o).map(([k, x]) => [k, fromDriver(x)]));
}

/** A TCK parameter value as the driver should send it (integers as Integer, floats as numbers). */
export function toDriver(v: TckValue): unknown {
  switch (v.k) {
    case 'null': return null;
    case 'bool': return v.v;
    case 'int': return neo4j.int(v.v.toString());
    case 'float': return v.v;
    case 'string': return v.v;
    case 'list': return v.v.map(toDriver);
    case 'map': return Object.fromEntries([...v.v].map(([k, x]) => [k, toDriver(x)]));
    default: throw new Error(`graph elements cannot be parameters: ${render(v)}`);
  }
}
