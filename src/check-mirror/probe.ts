import { stat } from 'node:fs/promises';
import path from 'node:path';
import got from 'got';
import { describeError, networkError } from '../errors.js';
import { GENERATOR } from '../version.js';

// How a mirror answers for one file, the way MirrorManager's crawler asks: an HTTP HEAD and its
// Content-Length, or (a mirror on this machine or a mounted one) `stat`.

export type Probe =
  | { kind: 'present'; size: number }
  | { kind: 'missing' }
  | { kind: 'error'; detail: string }
  /** No answer at all (refused, DNS, TLS, timeout): the mirror, not the file, is the problem. */
  | { kind: 'unreachable'; detail: string };

export type Prober = (relativePath: string) => Promise<Probe>;

export function isUrl(base: string): boolean {
  return /^https?:\/\//i.test(base);
}

/** `base` is the mirror's copy of the tree root: a URL or a directory. */
export function proberFor(base: string, timeoutMs: number): Prober {
  return isUrl(base) ? httpProber(base, timeoutMs) : localProber(base);
}

function localProber(base: string): Prober {
  return async (rel) => {
    try {
      const info = await stat(path.join(base, ...rel.split('/')));
      return info.isFile() ? { kind: 'present', size: info.size } : { kind: 'error', detail: 'not a regular file' };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return code === 'ENOENT' || code === 'ENOTDIR'
        ? { kind: 'missing' }
        : { kind: 'error', detail: describeError(error) };
    }
  };
}

function httpProber(base: string, timeoutMs: number): Prober {
  const root = base.endsWith('/') ? base : `${base}/`;
  const client = got.extend({
    method: 'HEAD',
    throwHttpErrors: false,
    // One retry for a dropped connection; a slow mirror is reported, not waited for.
    retry: { limit: 1, methods: ['HEAD'] },
    timeout: { request: timeoutMs },
    headers: { 'user-agent': `${GENERATOR} check-mirror` },
  });
  return async (rel) => {
    const url = new URL(rel.split('/').map(encodeURIComponent).join('/'), root);
    try {
      const response = await client(url);
      if (response.statusCode === 404 || response.statusCode === 410) return { kind: 'missing' };
      if (response.statusCode !== 200) return { kind: 'error', detail: `HTTP ${response.statusCode}` };
      const length = Number(response.headers['content-length']);
      return Number.isInteger(length)
        ? { kind: 'present', size: length }
        : { kind: 'error', detail: 'no Content-Length' };
    } catch (error) {
      // got answers every HTTP status above: what lands here never reached an HTTP answer.
      const named = networkError(error, { url: url.href, configKey: 'the <mirror> argument', what: 'HEAD' });
      return { kind: 'unreachable', detail: named.message };
    }
  };
}
