/**
 * The worker of a remote RPC: the same pipeline as a handler module (parse, dedup, DLQ, backoff),
 * where running the RPC is a Connect call to `ER_REMOTE_URL` (see functions/commons/remote.ts).
 */
import { createWorkerHandler } from '#commons/handler.ts';
import { remoteRunner } from '#commons/remote.ts';

export const handler = createWorkerHandler(remoteRunner());
