import { describe, expect, it } from 'vitest';
import * as errors from '../../src/errors.js';
import {
  BlobmirrorError,
  ConfigError,
  DiskFullError,
  NetworkError,
  RegistryError,
  StoreError,
  TimeoutError,
  fsError,
  hostOf,
  isRetryable,
  networkError,
} from '../../src/errors.js';

const systemError = (code: string, message = `${code}: something`) => Object.assign(new Error(message), { code });
const context = { url: 'https://mirror:hunter2@registry.example:5000/v2/', configKey: 'source.url', what: 'GET /v2/' };

describe('the error vocabulary', () => {
  it('each class is one code, and no two classes share one', () => {
    type ErrorClass = new (message: string) => BlobmirrorError;
    const classes = (Object.values(errors) as unknown[]).filter(
      (value): value is ErrorClass =>
        typeof value === 'function' && value.prototype instanceof BlobmirrorError && !Object.is(value, BlobmirrorError),
    );
    // The abstract families (InvalidInputError, IntegrityError) have no code of their own.
    const codes = classes
      .map((Class) => [Class.name, new Class('m').code] as const)
      .filter(([, code]) => code !== undefined);
    expect(codes.length).toBeGreaterThan(20);
    expect(new Set(codes.map(([, code]) => code)).size).toBe(codes.length);
    expect(Object.fromEntries(codes)).toMatchObject({
      NetworkError: 'NETWORK',
      TimeoutError: 'TIMEOUT',
      TlsError: 'TLS',
      ConfigError: 'CONFIG_INVALID',
    });
  });

  it('the class decides the exit status', () => {
    expect(new ConfigError('x').exitCode).toBe(2);
    expect(new errors.LockedError('x').exitCode).toBe(3);
    expect(new errors.CrossDeviceError('x').exitCode).toBe(2);
    expect(new RegistryError('x').exitCode).toBe(1);
  });

  it('isRetryable: only errors of the vocabulary that say so', () => {
    expect(isRetryable(new NetworkError('reset'))).toBe(true);
    expect(isRetryable(new RegistryError('503', { retryable: true }))).toBe(true);
    expect(isRetryable(new RegistryError('404'))).toBe(false);
    expect(isRetryable(new TimeoutError('deadline'))).toBe(false);
    expect(isRetryable(systemError('ECONNRESET'))).toBe(false);
    expect(isRetryable(undefined)).toBe(false);
  });
});

describe('networkError', () => {
  it.each([
    ['ECONNREFUSED', 'NETWORK', 'connection refused'],
    ['ECONNRESET', 'NETWORK', 'connection reset'],
    ['ENOTFOUND', 'NETWORK', 'host name not found (DNS)'],
    ['EAI_AGAIN', 'NETWORK', 'host name lookup failed for now (DNS)'],
    ['EHOSTUNREACH', 'NETWORK', 'host unreachable'],
    ['ERR_GOT_REQUEST_ERROR', 'NETWORK', 'something'],
    ['ETIMEDOUT', 'TIMEOUT', 'timed out'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'TLS', 'TLS failed: something'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'TLS', 'TLS failed: something'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'TLS', 'TLS failed: something'],
  ])('%s becomes %s naming the host and the config key, never the raw code', (code, expected, words) => {
    const error = networkError(systemError(code), context);
    expect(error).toMatchObject({ code: expected });
    expect(error.message).toBe(`GET /v2/ at registry.example:5000 (source.url): ${words}`);
    expect(error.message).not.toContain(code);
    expect(error.message).not.toContain('hunter2');
  });

  it("got's timeouts say which phase and how long", () => {
    const got = Object.assign(new Error("Timeout awaiting 'socket' for 30000ms"), {
      name: 'TimeoutError',
      code: 'ETIMEDOUT',
      event: 'socket',
    });
    expect(networkError(got, context).message).toBe(
      'GET /v2/ at registry.example:5000 (source.url): timed out after 30 s with no bytes',
    );
  });

  it('passes errors of the vocabulary through, also when got wrapped them', () => {
    const deadline = new TimeoutError('run deadline');
    expect(networkError(deadline, context)).toBe(deadline);
    expect(
      networkError(
        Object.assign(new Error('wrapped', { cause: deadline }), { code: 'ERR_GOT_REQUEST_ERROR' }),
        context,
      ),
    ).toBe(deadline);
  });

  it('hostOf never gives userinfo', () => {
    expect(hostOf('https://user:secret@r.example:443/x')).toBe('r.example');
    expect(hostOf('not a url')).toBe('(invalid URL)');
  });
});

describe('fsError', () => {
  it.each([
    ['EROFS', 'read-only file system while writing /srv/state/lock.1'],
    ['EACCES', 'permission denied while writing /srv/state/lock.1'],
    ['ENOENT', 'no such file or directory while writing /srv/state/lock.1'],
    ['EMFILE', 'too many open files while writing /srv/state/lock.1'],
  ])('%s is said in words with the operation and the path', (code, message) => {
    const error = fsError('writing', '/srv/state/lock.1', systemError(code));
    expect(error).toBeInstanceOf(StoreError);
    expect(error.message).toBe(message);
  });

  it('ENOSPC and EDQUOT are DISK_FULL', () => {
    expect(fsError('writing', '/x', systemError('ENOSPC'))).toBeInstanceOf(DiskFullError);
    expect(fsError('writing', '/x', systemError('EDQUOT')).message).toBe('disk quota exceeded while writing /x');
  });

  it('an unknown code keeps its message; errors that are no file-system errors pass through', () => {
    expect(fsError('linking', '/a', systemError('EXYZ', 'EXYZ: odd thing')).message).toBe('linking /a: odd thing');
    const bug = new TypeError('undefined is not a function');
    expect(fsError('writing', '/x', bug)).toBe(bug);
    const named = new NetworkError('reset');
    expect(fsError('writing', '/x', named)).toBe(named);
  });
});
