/**
 * What Quiver needs to know about LMDB's data file to copy a store page by page (the "store image"
 * that FULL backups carry, docs/backup-format.md): where the two meta pages keep the page size,
 * the last used page and the transaction id, and how to turn the head of a live file into the head
 * of a consistent copy.
 *
 * Why a page image and not LMDB's own copy: lmdb-js can only copy to a local path (a staging copy
 * on the server's disk) and its plain mode blocks writers; a record-by-record walk costs CPU for
 * every entry. Copying pages costs a pread per block. The layout below is that of the LMDB built
 * into lmdb-js 3.5.6 (data version 2, 24-byte page header, 64-bit page numbers); `parseMetaPage`
 * refuses anything else, so a different build fails loudly instead of producing a bad copy.
 */

/** LMDB's magic number at the start of every meta. */
const lmdbMagic = 0xbeefc0de;
/** The data file version of the LMDB inside lmdb-js 3.x. */
export const lmdbDataVersion = 2;
/** Page header: page number (8), snapshot txn id (8), pad (2), flags (2), lower/upper (4). */
const pageHeaderBytes = 24;
/** Where a meta page's content starts: after the page number (8) and transaction id (8) of its header. */
const metaBodyAt = 16;
/** Flag of a meta page in the page header. */
const pageFlagMeta = 0x08;
/** Offsets inside a meta page (page header, then MDB_meta). */
const offset = {
  flags: 18,
  magic: pageHeaderBytes + 0,
  version: pageHeaderBytes + 4,
  /** mm_psize is the pad field of the free-space database record (mm_dbs[0].md_pad). */
  pageSize: pageHeaderBytes + 24,
  lastPage: pageHeaderBytes + 120,
  txnId: pageHeaderBytes + 128,
};
/** Meta pages at the start of the file. */
export const metaPageCount = 2;
/** LMDB page sizes are powers of two in this range. */
const pageSizeMin = 512;
const pageSizeMax = 65536;
/** Enough to hold both meta pages at the largest page size. */
export const headReadBytes = metaPageCount * pageSizeMax;

export interface LmdbMeta {
  pageSize: number;
  /** Last page in use: the file's used part is pages 0..lastPage. */
  lastPage: number;
  /** LMDB's own transaction id (not a Quiver transaction id). */
  lmdbTxnId: number;
}

/** The meta in the page starting at `at`, or a description of why it is not one. */
export function parseMetaPage(head: Buffer, at: number): LmdbMeta | string {
  if (head.length < at + offset.txnId + 8) return `meta page at byte ${at} is cut short (${head.length} bytes read)`;
  if (!(head.readUInt16LE(at + offset.flags) & pageFlagMeta)) return `page at byte ${at} is not a meta page`;
  const magic = head.readUInt32LE(at + offset.magic);
  if (magic !== lmdbMagic) return `meta page at byte ${at} has magic 0x${magic.toString(16)}, not an LMDB file`;
  const version = head.readUInt32LE(at + offset.version) & 0xffff;
  if (version !== lmdbDataVersion) return `meta page at byte ${at} has LMDB data version ${version}, this build reads version ${lmdbDataVersion}`;
  const pageSize = head.readUInt32LE(at + offset.pageSize);
  if (pageSize < pageSizeMin || pageSize > pageSizeMax || (pageSize & (pageSize - 1)) !== 0) return `meta page at byte ${at} has page size ${pageSize}`;
  const lastPage = Number(head.readBigUInt64LE(at + offset.lastPage));
  const lmdbTxnId = Number(head.readBigUInt64LE(at + offset.txnId));
  if (!Number.isSafeInteger(lastPage) || lastPage < metaPageCount - 1) return `meta page at byte ${at} has last page ${lastPage}`;
  return { pageSize, lastPage, lmdbTxnId };
}

export interface ImageHead {
  pageSize: number;
  /** Pages in the image: 0..pageCount-1. */
  pageCount: number;
  /** The two meta pages as the copy must hold them. */
  metaPages: Buffer;
  lmdbTxnId: number;
}

/**
 * Turns the first bytes of a data file (at least both meta pages) and its size into the head of a
 * copy that LMDB opens at the newest meta's transaction. The caller must read `head` while no write
 * transaction is running and hold a read transaction from then until the copy is done: LMDB never
 * reuses a page that a reader may still see, so the pages the newest meta reaches stay unchanged.
 * Throws with a description when the head is not an LMDB file this build can copy.
 */
export function imageHead(head: Buffer, fileBytes: number): ImageHead {
  const first = parseMetaPage(head, 0);
  if (typeof first === 'string') throw new Error(`store data file: ${first}`);
  const { pageSize } = first;
  const second = parseMetaPage(head, pageSize);
  if (typeof second === 'string') throw new Error(`store data file: ${second}`);
  if (second.pageSize !== pageSize) throw new Error(`store data file: its meta pages disagree on the page size (${pageSize}, ${second.pageSize})`);
  const newest = second.lmdbTxnId > first.lmdbTxnId ? second : first;
  // LMDB may leave the file shorter than the last page when the last pages are free; it copies
  // only what the file holds, and so do we.
  const pageCount = Math.min(newest.lastPage + 1, Math.floor(fileBytes / pageSize));
  if (pageCount < metaPageCount) throw new Error(`store data file holds ${fileBytes} bytes, less than its two meta pages`);
  const metaPages = Buffer.from(head.subarray(0, metaPageCount * pageSize));
  // The older meta describes the transaction before, whose tree may reach pages the newest one
  // freed, and the image sends free pages as zeros (lmdb-pages.ts). LMDB opens the newest meta,
  // but lmdb-js can be asked for the previous snapshot: both slots get the newest meta (after the
  // page header, which holds each slot's page number), so every way of opening the copy lands on
  // the captured transaction. LMDB's next commit writes the slot its transaction id selects.
  const newestAt = newest === second ? pageSize : 0;
  const olderAt = pageSize - newestAt;
  metaPages.copy(metaPages, olderAt + metaBodyAt, newestAt + metaBodyAt, newestAt + (pageSize >> 1));
  // lmdb-js keeps a third meta in the second half of page 0 (written by its background sync). A
  // copy must not depend on it: blank it, so LMDB opening the copy picks between the two real metas.
  metaPages.fill(0, pageSize >> 1, pageSize);
  return { pageSize, pageCount, metaPages, lmdbTxnId: newest.lmdbTxnId };
}

/**
 * Checks a restored image before LMDB opens it: `head` is its first bytes (both meta pages),
 * `imageBytes` its length. Returns a description of what is wrong, or null.
 */
export function imageHeadProblem(head: Buffer, imageBytes: number): string | null {
  const first = parseMetaPage(head, 0);
  if (typeof first === 'string') return first;
  if (imageBytes % first.pageSize !== 0) return `its ${imageBytes} bytes are not a whole number of ${first.pageSize}-byte pages`;
  try {
    const parsed = imageHead(head, imageBytes);
    if (parsed.pageCount * parsed.pageSize !== imageBytes) return `its meta pages describe ${parsed.pageCount} pages, the image holds ${imageBytes / parsed.pageSize}`;
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
