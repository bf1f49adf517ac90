/**
 * What an artifact is, read from its header and trailer only: a bounded number of bytes whatever the
 * artifact's size (the first 64 KiB, more only for a header over that, and the last 112 bytes).
 * Every check that needs no block is made here, in the order docs/backup-format.md lists.
 */
import { crc32 } from 'node:zlib';
import type { BackupTarget } from '../../targets/target.js';
import { artifactCorrupt, artifactTruncated, hex32, notAnArtifact, unsupportedVersion } from './artifact-corrupt.js';
import {
  decodePreamble,
  formatVersion,
  headerCrcBytes,
  headerJsonBytesMin,
  headerPreambleBytes,
  headerProblem,
  startMagic,
  type ArtifactHeader,
} from './artifact-header.js';
import { expectedFileBytes, sealProblem } from './artifact-invariants.js';
import { decodeTrailer, hasEndMagic, trailerBytes, trailerCrcs, trailerEndMagicOffset, type ArtifactTrailer } from './artifact-trailer.js';
import { headerJsonBytesMax, inspectPrefixBytes } from '../limits.js';

export interface ArtifactInfo {
  /** File name in its target. */
  name: string;
  uri: string;
  sizeBytes: number;
  formatVersion: number;
  header: ArtifactHeader;
  headerCrc32: number;
  trailer: ArtifactTrailer;
}

const endMagicBytes = trailerBytes - trailerEndMagicOffset;

/** The smallest well-formed artifact: preamble, `{}`, header CRC, no blocks, trailer. */
const artifactBytesMin = headerPreambleBytes + headerJsonBytesMin + headerCrcBytes + trailerBytes;

/** Reads and checks an artifact's header and trailer; `ArtifactCorrupt` says precisely what is wrong. */
export async function readArtifactInfo(target: BackupTarget, name: string): Promise<ArtifactInfo> {
  const sizeBytes = await target.size(name);
  const { prefix, trailerBuf } = await readEnds(target, name, sizeBytes);

  const magicSeen = prefix.subarray(0, startMagic.length);
  // A file shorter than the magic that matches as far as it goes was cut, not foreign.
  if (!startMagic.subarray(0, magicSeen.length).equals(magicSeen)) throw notAnArtifact(name);
  if (sizeBytes < artifactBytesMin) throw artifactTruncated(name, Math.max(0, sizeBytes - endMagicBytes));
  const preamble = decodePreamble(prefix);
  if (preamble.version !== formatVersion) throw unsupportedVersion(name, preamble.version);

  const trailerOffset = sizeBytes - trailerBytes;
  if (!hasEndMagic(trailerBuf)) throw artifactTruncated(name, trailerOffset + trailerEndMagicOffset);
  const crcs = trailerCrcs(trailerBuf);
  if (crcs.stored !== crcs.computed) {
    throw artifactCorrupt(name, `trailer checksum mismatch at offset ${trailerOffset} (stored ${hex32(crcs.stored)}, computed ${hex32(crcs.computed)})`);
  }
  const trailer = decodeTrailer(trailerBuf);
  if (typeof trailer === 'string') throw artifactCorrupt(name, trailer);

  const headerBytes = headerPreambleBytes + preamble.jsonBytes + headerCrcBytes;
  if (preamble.jsonBytes < headerJsonBytesMin || preamble.jsonBytes > headerJsonBytesMax) {
    throw artifactCorrupt(name, `header length ${preamble.jsonBytes} at offset 12 is outside ${headerJsonBytesMin}..${headerJsonBytesMax}`);
  }
  if (headerBytes !== trailer.headerBytes) {
    throw artifactCorrupt(name, `header length at offset 12 gives a ${headerBytes}-byte header but the trailer records ${trailer.headerBytes}`);
  }
  const accounted = expectedFileBytes(trailer);
  if (sizeBytes !== accounted) {
    throw artifactCorrupt(name, `file is ${sizeBytes} bytes but its header, ${trailer.blockCount} blocks and trailer account for ${accounted}`);
  }

  const headerBuf = headerBytes <= prefix.length
    ? prefix.subarray(0, headerBytes)
    : Buffer.concat([prefix, await target.readRange(name, prefix.length, headerBytes - prefix.length)]);
  if (headerBuf.length !== headerBytes) throw artifactTruncated(name, Math.max(0, headerBuf.length - endMagicBytes));
  const crcOffset = headerBytes - headerCrcBytes;
  const headerCrcStored = headerBuf.readUInt32LE(crcOffset);
  const headerCrcComputed = crc32(headerBuf.subarray(0, crcOffset));
  if (headerCrcStored !== headerCrcComputed) {
    throw artifactCorrupt(name, `header checksum mismatch (stored ${hex32(headerCrcStored)}, computed ${hex32(headerCrcComputed)})`);
  }
  if (preamble.reserved !== 0) throw artifactCorrupt(name, `header reserved field at offset 10 is ${preamble.reserved}, not 0`);
  if (trailer.headerCrc32 !== headerCrcStored) {
    throw artifactCorrupt(name, `trailer records header checksum ${hex32(trailer.headerCrc32)} but the header's is ${hex32(headerCrcStored)}: they belong to different artifacts`);
  }

  let decoded: unknown;
  try {
    decoded = JSON.parse(headerBuf.subarray(headerPreambleBytes, crcOffset).toString('utf8'));
  } catch (e) {
    throw artifactCorrupt(name, `header JSON does not parse: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  const problem = headerProblem(decoded);
  if (problem !== null) throw artifactCorrupt(name, problem);
  const header = decoded as ArtifactHeader;
  const sealed = sealProblem(header, trailer);
  if (sealed !== null) throw artifactCorrupt(name, sealed);

  return { name, uri: target.uri(name), sizeBytes, formatVersion: preamble.version, header, headerCrc32: headerCrcStored, trailer };
}

/** The first `inspectPrefixBytes` and the last `trailerBytes` of the file: one read when they overlap. */
async function readEnds(target: BackupTarget, name: string, sizeBytes: number): Promise<{ prefix: Buffer; trailerBuf: Buffer }> {
  if (sizeBytes <= inspectPrefixBytes + trailerBytes) {
    const whole = await target.readRange(name, 0, sizeBytes);
    return { prefix: whole, trailerBuf: whole.subarray(Math.max(0, whole.length - trailerBytes)) };
  }
  const [prefix, trailerBuf] = await Promise.all([
    target.readRange(name, 0, inspectPrefixBytes),
    target.readRange(name, sizeBytes - trailerBytes, trailerBytes),
  ]);
  return { prefix, trailerBuf };
}
