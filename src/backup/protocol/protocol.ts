/**
 * The backup protocol (docs/backup-protocol.md): HTTP/2 on server.backup.listen_address.
 * Paths, headers and the JSON shapes shared by the backup service and the backup client.
 */
/** 2: the snapshot is a store image of encoded blocks (1 streamed logical records). */
export const protocolVersion = 2;

export const paths = {
  databases: '/v1/databases',
  snapshot: (db: string, blockRawBytes: number, compress: boolean) =>
    `/v1/databases/${encodeURIComponent(db)}/snapshot?block=${blockRawBytes}&compress=${compress ? 'zstd' : 'none'}`,
  transactions: (db: string, fromTxId: number) => `/v1/databases/${encodeURIComponent(db)}/transactions?from=${fromTxId}`,
  metadata: (db: string, include: string) => `/v1/databases/${encodeURIComponent(db)}/metadata?include=${encodeURIComponent(include)}`,
};

export const headers = {
  txId: 'x-quiver-tx-id',
  txChecksum: 'x-quiver-tx-checksum',
  txTimeMs: 'x-quiver-tx-time-ms',
  lastTxId: 'x-quiver-last-tx-id',
  databaseId: 'x-quiver-database-id',
  storeId: 'x-quiver-store-id',
  protocol: 'x-quiver-protocol',
  payloadFormat: 'x-quiver-payload-format',
  imageBytes: 'x-quiver-image-bytes',
  blockRawBytes: 'x-quiver-block-raw-bytes',
  /** Trailer of a snapshot: `complete`, or the error (JSON ErrorBody) that cut the image short. */
  outcome: 'x-quiver-outcome',
};

export interface RemoteDatabase {
  name: string;
  databaseId: string;
  storeId: string;
  status: 'online' | 'offline' | 'failed';
  role: 'primary';
  lastCommittedTxId: number;
  lastCommittedChecksum: number;
  lastCommitTimeMs: number;
  oldestTxIdInLog: number;
  /** Size of the store files, for progress estimates. */
  storeBytes?: number;
}

export interface DatabasesResponse {
  protocol: number;
  serverId: string;
  databases: RemoteDatabase[];
}

/** Error body of any non-2xx response. `code` is an ErrorCode of src/util/errors.ts. */
export interface ErrorBody {
  code: string;
  message: string;
  hint?: string;
}
