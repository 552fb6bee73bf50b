import autocannon from 'autocannon';
import { MANIFEST_TYPES } from '../../src/oci/media-types.js';

// One load measurement of `blobmirror serve` with autocannon on loopback, shared by the serve
// load test and `npm run bench`.

export interface LoadResult {
  url: string;
  requestsPerSecond: number;
  p50ms: number;
  p99ms: number;
  /** Errors, timeouts and answers with another status than expected. */
  unexpected: number;
}

export async function measureServe(
  url: string,
  expectedStatus: 200 | 307,
  options: { connections: number; seconds: number },
): Promise<LoadResult> {
  const result = await autocannon({
    url,
    connections: options.connections,
    duration: options.seconds,
    // autocannon never follows redirects, so a blob URL measures serve's 307s alone.
    headers: { accept: MANIFEST_TYPES.join(', ') },
  });
  const ok = expectedStatus === 200 ? result['2xx'] : result['3xx'];
  const answered = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
  return {
    url,
    requestsPerSecond: Math.round(answered / result.duration),
    p50ms: result.latency.p50,
    p99ms: result.latency.p99,
    unexpected: result.errors + result.timeouts + answered - ok,
  };
}
