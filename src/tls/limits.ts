/**
 * Every bound the TLS layer puts on outside input or on its own logging, with its reason.
 */

/** trusted_dir and revoked_dir hold a handful of CA certificates and CRLs; thousands is a wrong folder (e.g. /etc). */
export const trustedFilesMax = 1_000;

/** A peer that opens a connection and sends nothing is dropped after this long (a port scanner, a stuck client). */
export const firstByteTimeoutMs = 30_000;

/** Refused handshakes are logged once per (peer host, reason) in this window: a misconfigured client retrying in a loop must not flood the log. */
export const refusalLogWindowMs = 60_000;

/** Distinct (peer host, reason) pairs remembered for rate-limiting; beyond this the oldest are forgotten. */
export const refusalLogKeysMax = 1_000;

/**
 * How long `quiver-admin server reload-certificates` waits for the server's answer to its SIGHUP. A reload
 * reads a handful of small files in milliseconds; a server silent this long is stuck or not a Quiver.
 */
export const reloadReplyWaitMs = 30_000;

/** How often the admin tool looks for that answer (run/tls-reload.json). */
export const reloadReplyPollMs = 50;
