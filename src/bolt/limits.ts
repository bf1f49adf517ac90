/**
 * Every bound the Bolt layer puts on outside input or on its own buffering, each with its reason.
 * Loops over client-supplied data take their bound from here.
 */

/** Bolt chunk length is a u16 on the wire. */
export const boltChunkBytesMax = 0xffff;

/**
 * Largest request message we reassemble. Requests are queries plus parameters; 64 MiB is far above
 * any sane parameter set yet caps the memory one connection can pin before we decode anything.
 */
export const boltMessageBytesMax = 64 * 1024 * 1024;

/**
 * Deepest PackStream nesting we decode (lists, maps, structures). The decoder recurses, so this
 * bounds stack use; real parameters rarely nest beyond a handful of levels. Also applied when
 * encoding, where exceeding it means a cyclic value (our bug).
 */
export const packstreamDepthMax = 64;

/**
 * Records fetched from the backend per step when a PULL asks for many (or all, n = -1). Bounds what
 * one step holds in memory and lets socket back-pressure act between steps.
 */
export const pullStepRecordsMax = 1000;

/**
 * Bytes queued in a socket's write buffer above which a connection stops producing records (and
 * stops reading requests) until the client drains it. A slow client thus cannot make us buffer a
 * whole result.
 */
export const socketWriteBytesHighWater = 1024 * 1024;

/** Response bytes coalesced into one socket write: fewer syscalls for pipelined batches and RECORD runs. */
export const writeCoalesceBytesMax = 64 * 1024;

/** A client that connects but never completes the 20-byte handshake is dropped after this long. */
export const handshakeTimeoutMs = 30_000;

/** After we end a connection (GOODBYE, failed authentication, protocol violation), how long the client gets to close its side. */
export const closeLingerMs = 5_000;

/**
 * Requests decoded but not yet processed, per connection. Reading pauses while a connection is busy,
 * so only one socket read can pile up; this is the bound on what that read may contain.
 */
export const requestQueueMessagesMax = 10_000;
