/**
 * Transaction commands: the after-images a write transaction produces. They are the body of a
 * transaction-log record and are applied to the store on commit, recovery and restore. Because each
 * command carries the complete new state of one entity (or its deletion), applying a command twice
 * gives the same store as applying it once.
 */
import { ByteReader, ByteWriter } from '../values/codec.js';
import type { Properties, PropertyValue } from '../values/value.js';

export type Command =
  | { op: 'node.put'; id: number; labels: string[]; properties: Properties }
  | { op: 'node.delete'; id: number }
  | { op: 'rel.put'; id: number; type: string; startId: number; endId: number; properties: Properties }
  | { op: 'rel.delete'; id: number }
  | { op: 'index.create'; name: string; label: string; property: string; unique: boolean; constraintName: string | null }
  | { op: 'index.drop'; name: string }
  | { op: 'constraint.create'; name: string; label: string; property: string; indexName: string }
  | { op: 'constraint.drop'; name: string };

const opCodes = {
  'node.put': 1,
  'node.delete': 2,
  'rel.put': 3,
  'rel.delete': 4,
  'index.create': 5,
  'index.drop': 6,
  'constraint.create': 7,
  'constraint.drop': 8,
} as const satisfies Record<Command['op'], number>;

function writeProps(w: ByteWriter, props: Properties): void {
  w.u32(props.size);
  for (const [k, v] of props) {
    w.string(k);
    w.value(v);
  }
}

function readProps(r: ByteReader): Properties {
  const n = r.u32();
  const props: Properties = new Map();
  for (let i = 0; i < n; i++) props.set(r.string(), r.value() as PropertyValue);
  return props;
}

export function encodeCommands(commands: readonly Command[]): Buffer {
  const w = new ByteWriter(64 + commands.length * 64);
  w.u32(commands.length);
  for (const c of commands) encodeCommand(w, c);
  return w.finish();
}

/** Commands encoded between two clock reads of `encodeCommandsSliced` (one takes about 0.5-2 µs). */
const encodeClockEveryCommands = 256;

/**
 * `encodeCommands` for a transaction of any size: awaits `pause` whenever `sliceMs` of encoding has
 * passed, so that a million-command record does not hold the thread in one piece. Same bytes.
 */
export async function encodeCommandsSliced(commands: readonly Command[], sliceMs: number, pause: () => Promise<void>): Promise<Buffer> {
  const w = new ByteWriter(64 + commands.length * 64);
  w.u32(commands.length);
  let deadline = performance.now() + sliceMs;
  for (let i = 0; i < commands.length; i++) {
    encodeCommand(w, commands[i]!);
    if (i % encodeClockEveryCommands === encodeClockEveryCommands - 1 && performance.now() >= deadline) {
      await pause();
      deadline = performance.now() + sliceMs;
    }
  }
  return w.finish();
}

function encodeCommand(w: ByteWriter, c: Command): void {
  w.u8(opCodes[c.op]);
  switch (c.op) {
    case 'node.put':
      w.id(c.id);
      w.u32(c.labels.length);
      for (const l of c.labels) w.string(l);
      writeProps(w, c.properties);
      break;
    case 'node.delete':
    case 'rel.delete':
      w.id(c.id);
      break;
    case 'rel.put':
      w.id(c.id);
      w.string(c.type);
      w.id(c.startId);
      w.id(c.endId);
      writeProps(w, c.properties);
      break;
    case 'index.create':
      w.string(c.name);
      w.string(c.label);
      w.string(c.property);
      w.u8(c.unique ? 1 : 0);
      w.string(c.constraintName ?? '');
      break;
    case 'index.drop':
    case 'constraint.drop':
      w.string(c.name);
      break;
    case 'constraint.create':
      w.string(c.name);
      w.string(c.label);
      w.string(c.property);
      w.string(c.indexName);
      break;
  }
}

export function decodeCommands(body: Buffer): Command[] {
  const r = new ByteReader(body);
  const n = r.u32();
  if (n > body.length) throw new RangeError(`command count ${n} exceeds record size`);
  const out: Command[] = [];
  for (let i = 0; i < n; i++) {
    const op = r.u8();
    switch (op) {
      case 1: {
        const id = r.id();
        const nl = r.u32();
        if (nl > body.length) throw new RangeError('label count exceeds record size');
        const labels: string[] = [];
        for (let j = 0; j < nl; j++) labels.push(r.string());
        out.push({ op: 'node.put', id, labels, properties: readProps(r) });
        break;
      }
      case 2:
        out.push({ op: 'node.delete', id: r.id() });
        break;
      case 3: {
        const id = r.id();
        const type = r.string();
        const startId = r.id();
        const endId = r.id();
        out.push({ op: 'rel.put', id, type, startId, endId, properties: readProps(r) });
        break;
      }
      case 4:
        out.push({ op: 'rel.delete', id: r.id() });
        break;
      case 5: {
        const name = r.string();
        const label = r.string();
        const property = r.string();
        const unique = r.u8() === 1;
        const cn = r.string();
        out.push({ op: 'index.create', name, label, property, unique, constraintName: cn === '' ? null : cn });
        break;
      }
      case 6:
        out.push({ op: 'index.drop', name: r.string() });
        break;
      case 7:
        out.push({ op: 'constraint.create', name: r.string(), label: r.string(), property: r.string(), indexName: r.string() });
        break;
      case 8:
        out.push({ op: 'constraint.drop', name: r.string() });
        break;
      default:
        throw new RangeError(`unknown command op ${op} at byte ${r.pos - 1}`);
    }
  }
  if (!r.done) throw new RangeError(`trailing bytes after commands at ${r.pos}`);
  return out;
}
