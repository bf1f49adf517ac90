/**
 * Every limit of the backup artifact layer, each with the reason for its value.
 * Loops over outside input (artifact bytes, target listings) take their bound from here.
 */

const kibibyte = 1024;
const mebibyte = 1024 * kibibyte;

/**
 * Raw payload bytes per block. zstd level 1 reaches its ratio at this size (26.3% on store pages,
 * deps.md §3); one block costs about 3 ms of worker time; a corrupt block loses at most this much.
 */
export const blockRawBytesDefault = mebibyte;

/** Upper bound on a block's raw size, so a reader never allocates more than this per block from outside input. */
export const blockRawBytesMax = 16 * mebibyte;

/**
 * Upper bound on the header JSON. It holds the users/roles metadata commands of large deployments,
 * and stays bounded so that inspect remains constant-time in the artifact size.
 */
export const headerJsonBytesMax = 16 * mebibyte;

/** First read of an artifact when inspecting: holds a typical header, metadata included, in one request. */
export const inspectPrefixBytes = 64 * kibibyte;

/** Suffixes `_001` … `_999` for artifacts of one database taken within the same second; three digits keep byte order. */
export const artifactNameCollisionsMax = 999;

/** zstd level: level 1 measured fastest with a good ratio (276 MB/s, 26.3%; level 3 gives 23.3% at 231 MB/s). */
export const zstdLevelDefault = 1;

/** Compression workers: two keep both cores of our reference machine busy without starving the server's own thread. */
export const compressionWorkersMax = 2;

/**
 * Blocks queued or being (de)compressed per stream. Two per worker keeps every worker busy while the
 * previous result is written, and bounds memory to a few MiB per stream.
 */
export const blocksInFlightMax = 4;

/** Entries a target listing may return; a folder with more is refused rather than read without bound. */
export const targetListEntriesMax = 1_000_000;

/** Longest file name ext4, xfs and S3 keys (1024) all accept. */
export const targetNameBytesMax = 255;

/** Largest transaction id or byte count we read from a u64 field: JavaScript numbers are exact up to here. */
export const u64ExactMax = Number.MAX_SAFE_INTEGER;

/** Chunk size of whole-file reads from a folder target: one block per read keeps syscalls few and memory flat. */
export const fileReadChunkBytes = mebibyte;

/** Artifacts whose header and trailer inspect reads at once: enough to hide S3 latency, few enough to stay polite to a folder or bucket. */
export const inspectReadsInFlightMax = 8;

/**
 * Age after which a backup lock whose holder cannot be checked (it ran on another host, or its file
 * cannot be read) counts as left behind and is broken. A holder on this host is judged by its pid
 * instead, so a long backup run here never loses its lock. A day is longer than any backup we expect:
 * a 1 TiB store at `server.backup.max_rate_under_load`'s 20 MiB/s takes about 15 hours.
 */
export const backupLockAgeMaxMs = 24 * 60 * 60 * 1000;

/** Tries to take a backup lock: the first finds it free, or breaks a stale one and tries once more; a third try means another run races for it. */
export const backupLockAttemptsMax = 3;

/** Bytes read of a lock file: its JSON is a few hundred bytes; anything longer is not a lock we wrote. */
export const backupLockBytesMax = 64 * kibibyte;

/**
 * Default of `backup.client.connect_timeout`: from dialling a backup service to its HTTP/2 SETTINGS.
 * A live server on a LAN answers in milliseconds; 10 s covers a loaded server and a slow WAN link,
 * and is what Neo4j operators expect (docs/backup.md, "Timeouts").
 */
export const clientConnectTimeoutMsDefault = 10_000;

/**
 * Default of `backup.client.idle_timeout`: longest silence of the server on a request. The service
 * sends a block at least every few seconds even when paced by `server.backup.max_rate` (1 MiB blocks
 * at 64 KiB/s take 16 s); a minute of silence means it is gone or stuck.
 */
export const clientIdleTimeoutMsDefault = 60_000;

/** Bytes of a JSON answer (listing, metadata, error): a listing of 10 000 databases is about 3 MB. */
export const jsonResponseBytesMax = 64 * mebibyte;

/**
 * Default of `server.backup.stall_timeout`: a backup stream whose client reads nothing for this long
 * is dropped. It holds an LMDB read transaction (a snapshot) that keeps the store file from reusing
 * pages; a client that reads at all (the slowest paced one takes a 1 MiB block in 16 s) never waits
 * this long, one that has stopped is gone.
 */
export const serviceStallTimeoutMsDefault = 60_000;

/**
 * Default of `server.backup.handshake_timeout`: a connection must complete the HTTP/2 handshake and
 * send its first request within this time. A backup client sends both at once; a scanner or a
 * wrong client (HTTP/1, a partial preface, silence) otherwise keeps a socket for ever.
 */
export const serviceHandshakeTimeoutMsDefault = 10_000;

/**
 * Default of `server.backup.idle_timeout`: a connection with no open request for this long is closed.
 * A backup client keeps its connections while it backs up other databases from other servers; it
 * reconnects when it finds its connection closed, so this only bounds the sockets idle clients hold.
 */
export const serviceIdleTimeoutMsDefault = 5 * 60_000;

/**
 * Default of `server.backup.max_concurrent`: snapshot and transaction streams served at once. Each
 * snapshot holds a read transaction and keeps the two compression workers (compressionWorkersMax)
 * busy; eight share them fairly and bound what clients can make the server hold.
 */
export const serviceConcurrentStreamsMaxDefault = 8;
