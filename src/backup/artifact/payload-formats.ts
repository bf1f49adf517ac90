/**
 * The payload formats an artifact header names (docs/backup-format.md): what the blocks of a FULL
 * and of a DIFF hold. Writers stamp them, readers refuse what they cannot read.
 */

/** FULL artifacts: the LMDB store file's pages at one transaction (service/store-image.ts). */
export const storeImagePayloadFormat = 'lmdb-pages-v1';

/** DIFF artifacts: transaction log records as the log stores them. */
export const txlogPayloadFormat = 'txlog-v1';
