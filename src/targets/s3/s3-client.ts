/**
 * Builds the one S3Client a target uses: region and endpoint from the standard AWS variables,
 * credentials from the SDK's default provider chain, retries (standard mode: exponential back-off
 * with jitter for throttling, transient 5xx and dropped connections) and timeouts from the settings.
 * Over https, artifact bodies are sent with an unsigned payload and parts are handed to the TLS
 * socket a slice at a time (addUnsignedPayloadOverHttps, addStreamedPartsOverHttps).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';
import { s3ConnectTimeoutMs, s3SocketsMax, s3TlsWriteBytes } from './limits.js';
import { configuredEndpoint, configuredRegion, type S3TargetSettings } from './s3-settings.js';

export interface S3ClientWithEndpoint {
  client: S3Client;
  /** The endpoint from the environment, or undefined for AWS itself (named in errors). */
  endpoint: string | undefined;
}

export function createS3Client(settings: S3TargetSettings, env: NodeJS.ProcessEnv = process.env): S3ClientWithEndpoint {
  // The SDK warns on stderr at every start that releases after January 2027 need Node 22. We pin an
  // exact version (package.json), so the notice is for whoever upgrades it, not for operators.
  if (process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] === undefined) {
    process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
  }
  const endpoint = configuredEndpoint(env);
  const region = configuredRegion(env);
  const agentOptions = { keepAlive: true, maxSockets: s3SocketsMax };
  const client = new S3Client({
    ...(region !== undefined ? { region } : {}),
    ...(endpoint !== undefined ? { endpoint } : {}),
    forcePathStyle: settings.forcePathStyle,
    maxAttempts: settings.maxAttempts,
    retryMode: 'standard',
    // Artifacts carry their own CRC32 per block and a SHA-256 that every read checks; the SDK's
    // default extra checksum headers are rejected by several S3-compatible stores.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: s3ConnectTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      // Without this the handler only logs a warning when requestTimeout passes and keeps waiting:
      // a store that never answers would hang the command. The TimeoutError is retried.
      throwOnRequestTimeout: true,
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
    },
  });
  addUnsignedPayloadOverHttps(client);
  addStreamedPartsOverHttps(client);
  return { client, endpoint };
}

/**
 * Over https, a part's Buffer body is sent as a stream of s3TlsWriteBytes slices (a fresh stream
 * for every attempt, so a retry sends the whole part again). Written whole, TLS encrypts the entire
 * part at once into buffers of its own that wait for the socket to drain: a second copy of every
 * part in flight. Runs per attempt after signing (deserialize step), which has already set the
 * Content-Length; over http the Buffer goes to the socket as it is, without a copy.
 */
function addStreamedPartsOverHttps(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => (args) => {
      const request = args.request as { protocol?: unknown; body?: unknown } | undefined;
      if (request?.protocol !== 'https:' || !artifactBodyCommands.has(context.commandName ?? '') || !Buffer.isBuffer(request.body) || request.body.length <= s3TlsWriteBytes) {
        return next(args);
      }
      const part = request.body;
      const slices = function* () {
        for (let offset = 0; offset < part.length; offset += s3TlsWriteBytes) yield part.subarray(offset, offset + s3TlsWriteBytes);
      };
      // A shallow copy of this attempt's signed request that keeps its class (HttpRequest.isInstance).
      const streamed = Object.assign(Object.create(Object.getPrototypeOf(request) as object) as object, request, { body: Readable.from(slices(), { objectMode: false }) });
      return next({ ...args, request: streamed });
    },
    { step: 'deserialize', name: 'quiverStreamedPartsOverHttps' },
  );
}

/** Commands whose body is artifact bytes (a part, or a whole small artifact or record). */
const artifactBodyCommands: ReadonlySet<string> = new Set(['UploadPartCommand', 'PutObjectCommand']);

/**
 * Over https, UploadPart and PutObject carry `x-amz-content-sha256: UNSIGNED-PAYLOAD`, which the
 * SigV4 signer (finalizeRequest step, after this build step) then signs as the payload hash instead
 * of SHA-256-ing the body: that hash was the largest client-side CPU cost of an upload
 * (docs/performance.md). The header itself is still signed. TLS protects the bytes in transit, and
 * every artifact carries a CRC32 per block and a SHA-256 that every read checks. Over plain http the
 * signed payload hash is the only check of a part in transit, so it stays.
 */
function addUnsignedPayloadOverHttps(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => (args) => {
      const request = args.request as { protocol?: unknown; headers?: Record<string, string> } | undefined;
      if (request?.protocol === 'https:' && request.headers !== undefined && artifactBodyCommands.has(context.commandName ?? '')) {
        request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      }
      return next(args);
    },
    { step: 'build', name: 'quiverUnsignedPayloadOverHttps' },
  );
}
