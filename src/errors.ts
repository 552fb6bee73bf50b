// One error vocabulary: each class is one stable code (class and code never vary apart), and the
// class decides the exit status the CLI's single top-level catch uses. Messages are one line,
// name the thing that is wrong, and never carry credentials.

export const ExitCode = {
  ok: 0,
  partial: 1,
  usage: 2,
  locked: 3,
  /** 128 + the signal's number, as a shell reports a process the signal killed. */
  sigint: 130,
  sigterm: 143,
} as const;

export interface ErrorOptions {
  cause?: unknown;
  /** An HTTP status the error came from, when it did. */
  status?: number;
  /** Transient (the network, 5xx, 429): worth another attempt. */
  retryable?: boolean;
  /** What the server asked us to wait before that attempt (Retry-After). */
  retryAfterMs?: number;
}

export abstract class BlobmirrorError extends Error {
  abstract readonly code: string;
  /** Process exit status when this error ends the run. */
  readonly exitCode: number = ExitCode.partial;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = options.status;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}

// Command line, configuration, lock: the run cannot start.

export class UsageError extends BlobmirrorError {
  readonly code = 'USAGE';
  override readonly exitCode = ExitCode.usage;
}
export class ConfigError extends BlobmirrorError {
  readonly code = 'CONFIG_INVALID';
  override readonly exitCode = ExitCode.usage;
}
export class LockedError extends BlobmirrorError {
  readonly code = 'LOCKED';
  override readonly exitCode = ExitCode.locked;
}

/** SIGINT or SIGTERM ended the run: no new work was started after it (see cli/run-report.ts). */
export class InterruptedError extends BlobmirrorError {
  readonly code = 'INTERRUPTED';
  override readonly exitCode: number;
  constructor(readonly signal: 'SIGINT' | 'SIGTERM') {
    super(
      `${signal} received: stopped before starting new work; downloads in flight are kept to resume, the next run completes`,
    );
    this.exitCode = signal === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm;
  }
}

// The registry answered, but not with what we asked for.

export class RegistryError extends BlobmirrorError {
  readonly code = 'REGISTRY_ERROR';
}
export class NotFoundError extends BlobmirrorError {
  readonly code = 'NOT_FOUND';
}
export class AuthError extends BlobmirrorError {
  readonly code = 'AUTH_FAILED';
}
/**
 * A paginated listing (the catalog, a tags list) that broke after its first page: `listed` is what
 * the pages before the failure held, so the caller can go on with those and keep the rest as it was.
 */
export class ListingIncompleteError extends BlobmirrorError {
  readonly code = 'LISTING_INCOMPLETE';
  readonly listed: readonly string[];
  constructor(message: string, options: ErrorOptions & { listed?: readonly string[] } = {}) {
    super(message, options);
    this.listed = options.listed ?? [];
  }
}

// The exchange itself failed; always named with the host and the config key that chose it.

/** Refused, reset, unreachable, DNS: retried. */
export class NetworkError extends BlobmirrorError {
  readonly code = 'NETWORK';
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { retryable: true, ...options });
  }
}
/** No answer, or no bytes, for too long; a deadline's passing is not retried. */
export class TimeoutError extends BlobmirrorError {
  readonly code = 'TIMEOUT';
}
/** The TLS handshake failed (certificate, protocol): retrying will not help. */
export class TlsError extends BlobmirrorError {
  readonly code = 'TLS';
}

/** Input from the network or from disk that breaks a rule (names, digests, manifests, metadata). */
export abstract class InvalidInputError extends BlobmirrorError {}

export class NameInvalidError extends InvalidInputError {
  readonly code = 'NAME_INVALID';
}
export class TagInvalidError extends InvalidInputError {
  readonly code = 'TAG_INVALID';
}
export class DigestInvalidError extends InvalidInputError {
  readonly code = 'DIGEST_INVALID';
}
export class ManifestInvalidError extends InvalidInputError {
  readonly code = 'MANIFEST_INVALID';
}
export class MediaTypeUnsupportedError extends InvalidInputError {
  readonly code = 'MEDIA_TYPE_UNSUPPORTED';
}
export class TooLargeError extends InvalidInputError {
  readonly code = 'TOO_LARGE';
}
export class MetadataInvalidError extends InvalidInputError {
  readonly code = 'METADATA_INVALID';
}

/** Bytes that do not match what a descriptor promised. */
export abstract class IntegrityError extends BlobmirrorError {}

export class DigestMismatchError extends IntegrityError {
  readonly code = 'DIGEST_MISMATCH';
}
export class SizeMismatchError extends IntegrityError {
  readonly code = 'SIZE_MISMATCH';
}

// The local file system.

export class StoreError extends BlobmirrorError {
  readonly code = 'STORE_ERROR';
}
export class DiskFullError extends BlobmirrorError {
  readonly code = 'DISK_FULL';
}
/** A storage layout that cannot hardlink is a configuration problem: exit 2. */
export class CrossDeviceError extends BlobmirrorError {
  readonly code = 'CROSS_DEVICE';
  override readonly exitCode = ExitCode.usage;
}
export class NoHardlinksError extends BlobmirrorError {
  readonly code = 'NO_HARDLINKS';
  override readonly exitCode = ExitCode.usage;
}

export type ErrorCode = (
  | UsageError
  | ConfigError
  | LockedError
  | InterruptedError
  | RegistryError
  | NotFoundError
  | AuthError
  | ListingIncompleteError
  | NetworkError
  | TimeoutError
  | TlsError
  | NameInvalidError
  | TagInvalidError
  | DigestInvalidError
  | ManifestInvalidError
  | MediaTypeUnsupportedError
  | TooLargeError
  | MetadataInvalidError
  | DigestMismatchError
  | SizeMismatchError
  | StoreError
  | DiskFullError
  | CrossDeviceError
  | NoHardlinksError
)['code'];

export function isBlobmirrorError(error: unknown): error is BlobmirrorError {
  return error instanceof BlobmirrorError;
}

/** Only errors of the vocabulary that say so are retried: raw errors were never classified. */
export function isRetryable(error: unknown): boolean {
  return error instanceof BlobmirrorError && error.retryable;
}

/** A one-line description of any thrown value, for logs and summaries. */
export function describeError(error: unknown): string {
  if (error instanceof BlobmirrorError) return error.message;
  if (error instanceof Error) {
    // Node's system errors already start with their code ("ENOENT: no such file…").
    const code = (error as NodeJS.ErrnoException).code;
    return code && error.message.startsWith(`${code}: `) ? error.message.slice(code.length + 2) : error.message;
  }
  return String(error);
}

export function errorCode(error: unknown): string {
  if (error instanceof BlobmirrorError) return error.code;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'INTERNAL';
}

/** What a network exchange was for: the URL (its host is named, never its userinfo) and the config key that chose it. */
export interface NetworkContext {
  url: string;
  /** e.g. `source.url`. */
  configKey: string;
  /** e.g. `GET /v2/_catalog`. */
  what: string;
}

const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ECONNABORTED: 'connection aborted',
  EPIPE: 'connection closed while sending',
  ERR_STREAM_PREMATURE_CLOSE: 'connection closed before the body ended',
  ENOTFOUND: 'host name not found (DNS)',
  EAI_AGAIN: 'host name lookup failed for now (DNS)',
  ENETUNREACH: 'network unreachable',
  EHOSTUNREACH: 'host unreachable',
  EHOSTDOWN: 'host down',
};

// OpenSSL's verification codes as Node reports them, plus Node's own TLS codes (ERR_TLS_*, ERR_SSL_*).
const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'HOSTNAME_MISMATCH',
  'EPROTO',
]);

/**
 * A failed exchange in the vocabulary: NETWORK, TIMEOUT or TLS, naming what it was for, the
 * host and the config key. Errors already in the vocabulary pass through unchanged.
 */
export function networkError(cause: unknown, context: NetworkContext): Error {
  if (cause instanceof BlobmirrorError) return cause;
  // got wraps whatever destroyed its stream (a deadline's TimeoutError, say) in a RequestError.
  if ((cause as Error | undefined)?.cause instanceof BlobmirrorError) return (cause as Error).cause as BlobmirrorError;
  const error = cause as (NodeJS.ErrnoException & { event?: string }) | undefined;
  const code = typeof error?.code === 'string' ? error.code : '';
  const where = `${context.what} at ${hostOf(context.url)} (${context.configKey})`;
  if (code === 'ETIMEDOUT' || error?.name === 'TimeoutError') {
    // got says "Timeout awaiting 'socket' for 30000ms"; its `event` names the phase.
    const ms = /(\d+)\s*ms/.exec(error?.message ?? '')?.[1];
    const after = ms ? ` after ${Number(ms) / 1000} s` : '';
    const phase = error?.event === 'socket' ? ' with no bytes' : error?.event ? ` waiting for the ${error.event}` : '';
    return new TimeoutError(`${where}: timed out${after}${phase}`, { cause, retryable: true });
  }
  if (TLS_CODES.has(code) || /^ERR_(TLS|SSL)_/.test(code)) {
    return new TlsError(`${where}: TLS failed: ${oneLine(describeError(cause))}`, { cause });
  }
  const words = NETWORK_WORDS[code];
  if (words) return new NetworkError(`${where}: ${words}`, { cause });
  // got's "socket hang up" and "aborted" are resets too; anything else is still the network's.
  return new NetworkError(`${where}: ${oneLine(describeError(cause))}`, { cause });
}

/** `host[:port]` of a URL, never its userinfo or path. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid URL)';
  }
}

const FS_WORDS: Record<string, string> = {
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a path component is not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EIO: 'input/output error',
};

/**
 * A failed file-system operation in the vocabulary, naming the operation and the path
 * ("read-only file system while writing /srv/state/lock.1"). ENOSPC/EDQUOT are DISK_FULL.
 */
export function fsError(op: string, path: string, cause: unknown): Error {
  if (cause instanceof BlobmirrorError) return cause;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC') return new DiskFullError(`no space left on device while ${op} ${path}`, { cause });
  if (code === 'EDQUOT') return new DiskFullError(`disk quota exceeded while ${op} ${path}`, { cause });
  const words = code ? FS_WORDS[code] : undefined;
  if (words) return new StoreError(`${words} while ${op} ${path}`, { cause });
  // Without a system error code it is no file-system error (a bug stays visible as itself).
  if (!code && cause instanceof Error) return cause;
  return new StoreError(`${op} ${path}: ${oneLine(describeError(cause))}`, { cause });
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
