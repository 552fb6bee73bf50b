import type { Readable } from 'node:stream';
import { RegistryError, TooLargeError } from '../errors.js';

/** Read a whole response body, refusing more than `maxBytes` (lying or absent Content-Length). */
export async function readBounded(stream: Readable, maxBytes: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) {
      stream.destroy();
      throw new TooLargeError(`${what}: response body is over the ${maxBytes}-byte limit`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}

/** Discard a body we do not need so the connection can be reused. */
export function drain(stream: Readable): void {
  stream.on('error', () => {});
  stream.resume();
}

/** The first `errors[].code: message` of a registry JSON error body, if there is one. */
export function registryErrorText(body: Buffer): string | undefined {
  try {
    const errors = (JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: unknown; message?: unknown }> })
      .errors;
    const first = errors?.[0];
    if (!first) return undefined;
    const code = typeof first.code === 'string' ? first.code.slice(0, 40) : 'UNKNOWN';
    const message = typeof first.message === 'string' ? first.message.slice(0, 200).replace(/[\r\n]+/g, ' ') : '';
    return message ? `${code}: ${message}` : code;
  } catch {
    return undefined;
  }
}

/** Parse JSON that must be an object, with a precise error naming the request. */
export function parseJsonObject(body: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new RegistryError(
      `${what}: response is not JSON (${JSON.stringify(body.subarray(0, 40).toString('utf8'))}…)`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RegistryError(`${what}: response is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
