/** Payload format of DIFF artifacts: transaction log records as the log stores them (docs/backup-format.md). */
export const txlogPayloadFormat = 'txlog-v1';
