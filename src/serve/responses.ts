// What handlers return; the server writes it. Bodies are small buffers (manifests, JSON lists),
// so a response is built whole and its Content-Length is always exact.

export interface ServeResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export const API_VERSION_HEADER = { 'Docker-Distribution-API-Version': 'registry/2.0' } as const;

/** Registry error codes this server answers with (distribution spec, plus its pagination code). */
export type RegistryErrorCode =
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'MANIFEST_UNKNOWN'
  | 'BLOB_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'PAGINATION_NUMBER_INVALID'
  | 'UNSUPPORTED'
  | 'UNAVAILABLE'
  | 'UNKNOWN';

export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): ServeResponse {
  const body = Buffer.from(JSON.stringify(value));
  return { status, headers: { 'Content-Type': 'application/json', ...headers }, body };
}

/** `{"errors":[{code,message,detail}]}`, the body every registry client knows how to read. */
export function registryError(
  status: number,
  code: RegistryErrorCode,
  message: string,
  detail?: unknown,
  headers: Record<string, string> = {},
): ServeResponse {
  return jsonResponse(status, { errors: [{ code, message, detail: detail ?? null }] }, headers);
}
