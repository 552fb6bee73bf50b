import { describe, expect, it } from 'vitest';
import { MAX_LISTED, failureFields } from '../../../src/report/sync-summary.js';

describe('failureFields', () => {
  it(`keeps the first ${MAX_LISTED} failures, the exact count and the count of each code`, () => {
    const failures = [
      ...Array.from({ length: 80_037 }, (_, i) => ({
        repository: 'big/repo',
        tag: `t${i}`,
        code: 'EMFILE',
        message: 'x',
      })),
      { repository: 'other', code: 'TIMEOUT', message: 'stalled' },
    ];
    const fields = failureFields(failures);
    expect(fields.failures).toEqual(failures.slice(0, MAX_LISTED));
    expect(fields.failureCount).toBe(80_038);
    expect(fields.failureCodes).toEqual({ EMFILE: 80_037, TIMEOUT: 1 });
    // What --json prints stays small whatever the count.
    expect(JSON.stringify(fields).length).toBeLessThan(10_000);
  });

  it('no failures: empty list, zero, no codes', () => {
    expect(failureFields([])).toEqual({ failures: [], failureCount: 0, failureCodes: {} });
  });
});
