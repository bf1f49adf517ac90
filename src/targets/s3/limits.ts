/**
 * Every limit of the S3 target, each with its reason. Settings an operator tunes (part size, upload
 * concurrency, timeouts) are in the settings table instead; these are the fixed ones.
 */

const mebibyte = 1024 * 1024;

/**
 * Bytes per ranged GET when streaming a whole artifact (restore, verify, check). Memory does not grow
 * with it (bodies are streamed, see s3ReadAheadChunks); request count does: 1 MiB GETs cost about
 * 0.4 s more client CPU and 0.8 s more S3 server CPU than 4 MiB ones per 434 MiB artifact
 * (signing, SDK middleware, the store's per-request work; docs/performance.md, runs S3-F/G).
 */
export const s3ReadChunkBytes = 4 * mebibyte;

/**
 * Ranged GETs started ahead while streaming one artifact: hides the per-request latency. Their
 * bodies are not gathered into buffers: each waits in its socket (in the kernel's receive buffer,
 * outside the process) until its turn, then is passed on in the pieces the socket delivers. Gathered
 * (the SDK's transformToByteArray: every piece, then a 4 MiB copy of them), the restore of a 434 MiB
 * artifact peaked at 290–335 MiB RSS against 261–277 MiB for a folder restore; streamed, 265–283 MiB,
 * with less CPU (docs/performance.md, runs S3-F/G).
 */
export const s3ReadAheadChunks = 4;

/**
 * Bytes of a part handed to a TLS socket at a time. A part written whole is encrypted whole into
 * buffers that wait for the socket to drain, a second copy of every part in flight (about 40 MiB more
 * peak RSS for 16 MiB × 4 parts; docs/performance.md, run S3-H); 1 MiB slices keep that copy small.
 */
export const s3TlsWriteBytes = 1024 * 1024;

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
