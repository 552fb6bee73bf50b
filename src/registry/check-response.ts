import { AuthError, NotFoundError, RegistryError, type BlobmirrorError } from '../errors.js';
import { readBounded, registryErrorText } from './http-body.js';
import type { Redactor } from './redactor.js';
import { parseRetryAfter } from './retry.js';
import { header, requestLine, type RegistryRequest, type RegistryResponse } from './round-trip.js';

const MAX_ERROR_BODY = 64 * 1024;

/** THE retryable-status rule: 429 and 5xx are the server's transient trouble; the rest is an answer. */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * Resolve for an expected status; otherwise read the error body and throw the status's error:
 * 401/403 AUTH_FAILED, 404 NOT_FOUND, anything else REGISTRY_ERROR (retryable when transient).
 * A token endpoint's failures are all AUTH_FAILED.
 */
export async function checkResponse(
  response: RegistryResponse,
  request: RegistryRequest,
  redactor: Redactor,
  ok: readonly number[] = [200],
): Promise<void> {
  if (ok.includes(response.status)) return;
  throw await responseError(response, request, redactor);
}

export async function responseError(
  response: RegistryResponse,
  request: RegistryRequest,
  redactor: Redactor,
): Promise<BlobmirrorError> {
  const authService = request.authService ?? false;
  const status = response.status;
  const text = await errorText(response, redactor);
  const about = request.subject ? `${request.subject}: ` : '';
  const forWhat = authService ? '' : ` for ${requestLine(request)}`;
  const message = `${about}${request.server} answered ${status}${forWhat}${text}`;
  const options = {
    status,
    retryable: isTransientStatus(status),
    retryAfterMs: parseRetryAfter(header(response.headers['retry-after'])),
  };
  if (authService || status === 401 || status === 403) return new AuthError(message, options);
  if (status === 404) return new NotFoundError(message, options);
  return new RegistryError(message, options);
}

/**
 * ` (CODE: message)` from an error body, or '' (never throws: it only decorates a message).
 * Secrets are cut out before the message is shortened (a cut token would escape a later match)
 * and after JSON unescaping.
 */
export async function errorText(response: RegistryResponse, redactor: Redactor): Promise<string> {
  let body: Buffer;
  try {
    body = await readBounded(response.body, MAX_ERROR_BODY, 'error body');
  } catch {
    return '';
  }
  const text = registryErrorText(Buffer.from(redactor.redact(body.toString('utf8'))));
  return text ? ` (${redactor.redact(text)})` : '';
}
