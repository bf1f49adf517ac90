/** Messages between the compression pool and its worker threads. */

export type CompressionRequest =
  | { id: number; op: 'compress'; bytes: Uint8Array }
  | { id: number; op: 'decompress'; bytes: Uint8Array; rawBytes: number };

export type CompressionReply =
  | { id: number; ok: true; bytes: Uint8Array; compressed: boolean }
  | { id: number; ok: false; message: string };
