/**
 * The Bolt handshake: parse the client's 20 bytes (magic + four version proposals with ranges) and
 * choose the version to speak. Pure functions; the socket shell sends `encodeVersion(choice)`.
 *
 * Policy (docs/bolt.md): 5.8 down to 5.0 except 5.5, and 4.4. The manifest-v1 proposal (`00 00 01 FF`)
 * is skipped: it is only needed to reach Bolt 6.x, and its reply must arrive in one TCP read, which the
 * plain 4-byte answer does not depend on.
 */
import { QuiverError } from '../util/errors.js';

export const boltMagic = 0x6060b017;
export const handshakeBytes = 20;

export interface BoltVersion {
  readonly major: number;
  readonly minor: number;
}

/** Preference order. 5.5 was a flawed release no server negotiates; drivers skip it too. */
export const supportedVersions: readonly BoltVersion[] = [
  { major: 5, minor: 8 },
  { major: 5, minor: 7 },
  { major: 5, minor: 6 },
  { major: 5, minor: 4 },
  { major: 5, minor: 3 },
  { major: 5, minor: 2 },
  { major: 5, minor: 1 },
  { major: 5, minor: 0 },
  { major: 4, minor: 4 },
];

/** One client slot: `minor` down to `minor - range` of `major` are acceptable. */
export interface VersionProposal {
  major: number;
  minor: number;
  range: number;
}

/** The major version a manifest-handshake proposal carries in its last byte. */
const manifestMajor = 0xff;

/** Parses the 20 handshake bytes. Throws BoltMessageMalformed when the magic is wrong. */
export function parseHandshake(bytes: Uint8Array): VersionProposal[] {
  if (bytes.length < handshakeBytes) throw new QuiverError('Internal', `handshake needs ${handshakeBytes} bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, handshakeBytes);
  const magic = view.getUint32(0);
  if (magic !== boltMagic) {
    const looksHttp = /^(GET|POST|PUT|HEAD|OPTI)/.test(String.fromCharCode(...bytes.subarray(0, 4)));
    throw new QuiverError('BoltMessageMalformed', `not a Bolt handshake: magic 0x${magic.toString(16).padStart(8, '0')}`, {
      hint: looksHttp ? 'this is the Bolt port; HTTP (and WebSocket) clients are not supported here' : 'connect with a Bolt client (neo4j drivers)',
    });
  }
  const proposals: VersionProposal[] = [];
  for (let slot = 0; slot < 4; slot++) {
    const at = 4 + slot * 4;
    // Slot layout: [reserved, range, minor, major].
    proposals.push({ range: bytes[at + 1] as number, minor: bytes[at + 2] as number, major: bytes[at + 3] as number });
  }
  return proposals;
}

/** The first proposal we can satisfy, at the highest minor within its range; null when none fits. */
export function chooseVersion(proposals: readonly VersionProposal[], supported: readonly BoltVersion[] = supportedVersions): BoltVersion | null {
  for (const p of proposals) {
    if (p.major === 0 || p.major === manifestMajor) continue; // empty slot, or manifest (not offered)
    const lowest = Math.max(0, p.minor - p.range);
    for (let minor = p.minor; minor >= lowest; minor--) {
      const match = supported.find((v) => v.major === p.major && v.minor === minor);
      if (match) return match;
    }
  }
  return null;
}

/** The 4-byte reply: `00 00 minor major`, or all zeros for "no common version" (then close). */
export function encodeVersion(v: BoltVersion | null): Uint8Array {
  return Uint8Array.of(0, 0, v?.minor ?? 0, v?.major ?? 0);
}

export function versionAtLeast(v: BoltVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

export function formatVersion(v: BoltVersion): string {
  return `${v.major}.${v.minor}`;
}
