/**
 * Worker thread of --parallel-recovery: runs a ReplayDecoder over the payload chunks the main thread
 * sends, and answers each with the records it completed and validated, packed into one transferred
 * buffer, in order. Decoding and applying them stays on the main thread (see restore-replay.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { QuiverError } from '../../util/errors.js';
import { type DecodeReply, type DecodeRequest, packRecords, ReplayDecoder, type ReplayDecoderInit } from './restore-replay.js';

const port = parentPort;
if (!port) throw new Error('restore-replay-worker must run in a worker thread');
const decoder = new ReplayDecoder(workerData as ReplayDecoderInit);

port.on('message', (request: DecodeRequest) => {
  let reply: DecodeReply;
  let transfer: ArrayBuffer[] = [];
  try {
    if (request.type === 'chunk') {
      const chunk = decoder.push(Buffer.from(request.data));
      const { packed, transfer: buffers } = packRecords(chunk.records);
      reply = { type: 'validated', seq: request.seq, records: packed, reachedLimit: chunk.reachedLimit };
      transfer = buffers;
    } else {
      decoder.end();
      reply = { type: 'ended', seq: request.seq };
    }
  } catch (e) {
    const q = e instanceof QuiverError ? e : null;
    reply = { type: 'failed', seq: request.seq, code: q?.code ?? null, message: e instanceof Error ? e.message : String(e), hint: q?.hint ?? null };
  }
  port.postMessage(reply, transfer);
});
