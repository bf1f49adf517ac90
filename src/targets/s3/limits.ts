/**
 * Every limit of the S3 target, each with its reason. Settings an operator tunes (part size, upload
 * concurrency, timeouts) are in the settings table instead; these are the fixed ones.
 */

const mebibyte = 1024 * 1024;

/**
 * Bytes per ranged GET when streaming a whole artifact: large enough that per-request latency is
 * small, small enough to keep a few in flight cheaply. 8 MiB measured the same restore time but
 * 70 MiB more peak RSS than a folder restore (docs/performance.md, S3 run 1).
 */
export const s3ReadChunkBytes = 4 * mebibyte;

/** Ranged GETs in flight while streaming one artifact (restore, verify): hides per-request latency; bounds memory at 4 × 4 MiB per stream. */
export const s3ReadAheadChunks = 4;

/** Keys per LIST page we ask for: S3's own maximum. */
export const s3ListPageKeys = 1000;

/** Multipart uploads one removeAbandoned pass reads, so a prefix with a runaway number of them is still scanned in bounded time. */
export const s3AbandonedUploadsMax = 10_000;

/**
 * Age after which a multipart upload under the prefix is abandoned even when its writer cannot be
 * checked (another host, or no writer record): no artifact upload runs this long on any link we
 * support (a 1 TiB artifact at 20 MB/s takes 15 h).
 */
export const s3AbandonedUploadAgeMs = 24 * 60 * 60 * 1000;

/** Milliseconds to wait for a TCP connection to the endpoint before the attempt fails (and is retried). */
export const s3ConnectTimeoutMs = 10_000;

/** S3's part-count limit: an artifact larger than part size × this cannot be uploaded. */
export const s3PartsMax = 10_000;

/** Sockets per endpoint: upload concurrency (≤ 16) plus read-ahead plus catalog reads (8) fit. */
export const s3SocketsMax = 32;
