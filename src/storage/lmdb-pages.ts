/**
 * Reads LMDB's B-tree pages straight from a data file, for the one question a store image needs
 * answered: which pages are free at the image's transaction (docs/store-format.md, "Free pages in
 * a store image").
 *
 * Why: a store image copies pages 0..lastPage. The free ones among them hold whatever they held
 * when LMDB released them: old versions of records, including records deleted since. A backup
 * should carry neither deleted data nor the bytes of pages nothing reaches (after a backup under
 * load the file may be half free pages), so the image writes zeros in their place. LMDB never
 * reads a free page before overwriting it, so a copy with zeroed free pages opens and runs the same.
 *
 * Layout (the LMDB inside lmdb-js 3.x, the same build lmdb-image.ts describes): a 24-byte page
 * header (page number 8, txn id 8, pad 2, flags 2, lower 2, upper 2; an overflow page keeps its page
 * count where lower/upper are), then 16-bit node offsets counted from the end of the header. A node
 * is lo 2, hi 2, flags 2, key size 2, key, data; in a branch page lo|hi<<16|flags<<32 is the child
 * page. The free-space database (FREE_DBI) maps a transaction id to a list of page numbers: word 0
 * is the number of words that follow, and this build writes a run of pages as a negative count
 * followed by the run's first page (a zero word is an unused slot).
 */
import { readAllSync } from '../util/file-write.js';

const pageHeaderBytes = 24;
const nodeHeaderBytes = 8;
const pageFlag = { branch: 0x01, leaf: 0x02, overflow: 0x04, leaf2: 0x20, subpage: 0x40 } as const;
const nodeFlagBigData = 0x01;
/** MDB_db inside a meta page: the free-space database first, the main database second. */
const metaDbsAt = pageHeaderBytes + 24;
const dbRecordBytes = 48;
const dbRootAt = 40;
/** A tree with no pages has this root (P_INVALID). */
const noRoot = 0xffffffffffffffffn;

/** A run of consecutive pages: `start`, `start + 1`, ..., `start + count - 1`. */
export interface PageRun {
  start: number;
  count: number;
}

/** Reads pages by number from an open data file, checking that each is inside the image. */
export class PageFile {
  constructor(
    private readonly fd: number,
    readonly pageSize: number,
    /** Pages 0..pageCount-1 exist. */
    readonly pageCount: number,
  ) {}

  read(pgno: number, pages = 1): Buffer {
    if (!Number.isSafeInteger(pgno) || pgno < 2 || pgno + pages > this.pageCount) {
      throw new Error(`page ${pgno}${pages > 1 ? ` (+${pages - 1})` : ''} is outside the ${this.pageCount} pages of the file`);
    }
    const buffer = Buffer.allocUnsafe(pages * this.pageSize);
    if (readAllSync(this.fd, buffer, 0, buffer.length, pgno * this.pageSize) < buffer.length) throw new Error(`the data file ended inside page ${pgno}`);
    return buffer;
  }
}

/** The root page of the free-space (0) or main (1) database, as the meta page at `at` in `metas` records it, or null for an empty tree. */
export function metaDbRoot(metas: Uint8Array, at: number, dbi: 0 | 1): number | null {
  const view = Buffer.from(metas.buffer, metas.byteOffset, metas.byteLength);
  const root = view.readBigUInt64LE(at + metaDbsAt + dbi * dbRecordBytes + dbRootAt);
  if (root === noRoot) return null;
  if (root > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`meta page records root page ${root}`);
  return Number(root);
}

/** One node of a branch or leaf page. */
export interface PageNode {
  flags: number;
  key: Buffer;
  /** Leaf: data size (or overflow data size). Branch: unused. */
  dataSize: number;
  /** Leaf: the inline data (for F_BIGDATA, the 8-byte first overflow page). Branch: empty. */
  data: Buffer;
  /** Branch: the child page. Leaf: -1. */
  child: number;
}

/** Page flags, with a check that the page says it is page `pgno` (a page read from the wrong place fails here). */
export function pageFlags(page: Buffer, pgno: number): number {
  const recorded = page.readBigUInt64LE(0);
  if (recorded !== BigInt(pgno)) throw new Error(`page ${pgno} records page number ${recorded}`);
  return page.readUInt16LE(18);
}

/** The nodes of a branch or leaf page. */
export function pageNodes(page: Buffer, pgno: number): PageNode[] {
  const flags = pageFlags(page, pgno);
  const branch = (flags & pageFlag.branch) !== 0;
  if (!branch && !(flags & pageFlag.leaf)) throw new Error(`page ${pgno} is neither a branch nor a leaf page (flags 0x${flags.toString(16)})`);
  if (flags & (pageFlag.leaf2 | pageFlag.subpage)) throw new Error(`page ${pgno} has flags 0x${flags.toString(16)}, which this reader does not handle`);
  const lower = page.readUInt16LE(20);
  const count = lower >> 1;
  if (pageHeaderBytes + lower > page.length) throw new Error(`page ${pgno} claims ${count} nodes, more than fit`);
  const nodes: PageNode[] = [];
  for (let i = 0; i < count; i++) {
    const at = pageHeaderBytes + page.readUInt16LE(pageHeaderBytes + 2 * i);
    if (at + nodeHeaderBytes > page.length) throw new Error(`page ${pgno} node ${i} starts past the page end`);
    const lo = page.readUInt16LE(at);
    const hi = page.readUInt16LE(at + 2);
    const nodeFlags = page.readUInt16LE(at + 4);
    const keySize = page.readUInt16LE(at + 6);
    const keyAt = at + nodeHeaderBytes;
    if (keyAt + keySize > page.length) throw new Error(`page ${pgno} node ${i} key runs past the page end`);
    const key = page.subarray(keyAt, keyAt + keySize);
    if (branch) {
      nodes.push({ flags: 0, key, dataSize: 0, data: page.subarray(0, 0), child: lo + hi * 0x10000 + nodeFlags * 0x1_0000_0000 });
      continue;
    }
    const dataSize = lo + hi * 0x10000;
    const dataAt = keyAt + keySize;
    const inline = nodeFlags & nodeFlagBigData ? 8 : dataSize;
    if (dataAt + inline > page.length) throw new Error(`page ${pgno} node ${i} data runs past the page end`);
    nodes.push({ flags: nodeFlags, key, dataSize, data: page.subarray(dataAt, dataAt + inline), child: -1 });
  }
  return nodes;
}

/** A leaf node's value, read from its overflow pages when it has them. */
export function nodeValue(file: PageFile, node: PageNode): Buffer {
  if (!(node.flags & nodeFlagBigData)) return node.data;
  const first = Number(node.data.readBigUInt64LE(0));
  const head = file.read(first);
  if (!(pageFlags(head, first) & pageFlag.overflow)) throw new Error(`page ${first} should start an overflow value and does not`);
  const pages = head.readUInt32LE(20);
  if (pageHeaderBytes + node.dataSize > pages * file.pageSize) throw new Error(`overflow value at page ${first} is longer than its ${pages} pages`);
  const all = pages === 1 ? head : file.read(first, pages);
  return all.subarray(pageHeaderBytes, pageHeaderBytes + node.dataSize);
}

/** Calls `visit` with every leaf node of the tree rooted at `root`, in key order. */
export function forEachLeafNode(file: PageFile, root: number, visit: (node: PageNode) => void): void {
  const seen = new Set<number>();
  const walk = (pgno: number, depth: number): void => {
    if (depth > 64) throw new Error(`tree under page ${root} is deeper than any LMDB tree`);
    if (seen.has(pgno)) throw new Error(`page ${pgno} is reached twice`);
    seen.add(pgno);
    const page = file.read(pgno);
    const nodes = pageNodes(page, pgno);
    if (pageFlags(page, pgno) & pageFlag.branch) for (const n of nodes) walk(n.child, depth + 1);
    else for (const n of nodes) visit(n);
  };
  walk(root, 0);
}

/**
 * Every page the free-space database lists at the meta's transaction, as sorted, merged runs within
 * pages 2..pageCount-1 (runs past the end of a shorter file are cut there). Throws with a
 * description when the tree or a list does not parse.
 */
export function freePageRuns(file: PageFile, freeRoot: number | null): PageRun[] {
  if (freeRoot === null) return [];
  const runs: PageRun[] = [];
  const add = (start: number, count: number) => {
    if (!Number.isSafeInteger(start) || start < 2 || count < 1) throw new Error(`free list names page ${start} (run of ${count})`);
    const end = Math.min(start + count, file.pageCount);
    if (end > start) runs.push({ start, count: end - start });
  };
  forEachLeafNode(file, freeRoot, (node) => {
    const list = nodeValue(file, node);
    if (list.length < 8 || list.length % 8 !== 0) throw new Error(`free list record of ${list.length} bytes`);
    const words = Number(list.readBigUInt64LE(0));
    if (words > list.length / 8 - 1) throw new Error(`free list record claims ${words} entries in ${list.length} bytes`);
    for (let i = 1; i <= words; i++) {
      const entry = list.readBigInt64LE(i * 8);
      if (entry === 0n) continue;
      if (entry > 0n) {
        add(Number(entry), 1);
        continue;
      }
      if (i === words) throw new Error('free list record ends inside a run');
      i++;
      add(Number(list.readBigInt64LE(i * 8)), Number(-entry));
    }
  });
  return mergeRuns(runs);
}

/** Sorts runs and merges the ones that touch or overlap. */
export function mergeRuns(runs: PageRun[]): PageRun[] {
  runs.sort((a, b) => a.start - b.start);
  const merged: PageRun[] = [];
  for (const r of runs) {
    const last = merged[merged.length - 1];
    if (last && r.start <= last.start + last.count) last.count = Math.max(last.count, r.start + r.count - last.start);
    else merged.push({ ...r });
  }
  return merged;
}

/** Pages in the runs. */
export function runPages(runs: readonly PageRun[]): number {
  let pages = 0;
  for (const r of runs) pages += r.count;
  return pages;
}
