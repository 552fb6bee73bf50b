// One error hierarchy with stable codes. The CLI's single top-level catch maps `exitCode`;
// messages are one line, name the thing that is wrong, and never carry credentials.

export const ExitCode = {
  ok: 0,
  partial: 1,
  usage: 2,
  locked: 3,
} as const;

export type ErrorCode =
  | 'USAGE'
  | 'CONFIG_INVALID'
  | 'LOCKED'
  | 'AUTH_FAILED'
  | 'REGISTRY_ERROR'
  | 'NOT_FOUND'
  | 'NETWORK'
  | 'DIGEST_MISMATCH'
  | 'SIZE_MISMATCH'
  | 'MANIFEST_INVALID'
  | 'MEDIA_TYPE_UNSUPPORTED'
  | 'NAME_INVALID'
  | 'TAG_INVALID'
  | 'DIGEST_INVALID'
  | 'TOO_LARGE'
  | 'CROSS_DEVICE'
  | 'NO_HARDLINKS'
  | 'DISK_FULL'
  | 'STORE_ERROR'
  | 'METADATA_INVALID'
  | 'SYNC_FAILED';

export interface ErrorOptions {
  cause?: unknown;
  /** Process exit status when this error ends the run. */
  exitCode?: number;
}

export class BlobmirrorError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options.exitCode ?? ExitCode.partial;
  }
}

/** Bad command line or configuration: exit 2. */
export class UsageError extends BlobmirrorError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('USAGE', message, { exitCode: ExitCode.usage, ...options });
  }
}

export class ConfigError extends BlobmirrorError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('CONFIG_INVALID', message, { exitCode: ExitCode.usage, ...options });
  }
}

export class LockedError extends BlobmirrorError {
  constructor(message: string) {
    super('LOCKED', message, { exitCode: ExitCode.locked });
  }
}

/** Input from the network or from disk that breaks a rule (names, digests, manifests). */
export class InvalidInputError extends BlobmirrorError {}

/** Bytes that do not match what a descriptor promised. */
export class IntegrityError extends BlobmirrorError {}

export class RegistryError extends BlobmirrorError {
  readonly status: number | undefined;
  /** Transient failures (network, 5xx, 429) are retried; the rest are not. */
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: ErrorOptions & { status?: number; retryable?: boolean; retryAfterMs?: number } = {},
  ) {
    super(code, message, options);
    this.status = options.status;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export class StoreError extends BlobmirrorError {}

export function isBlobmirrorError(error: unknown): error is BlobmirrorError {
  return error instanceof BlobmirrorError;
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
