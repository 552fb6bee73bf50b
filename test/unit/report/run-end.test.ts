import { describe, expect, it } from 'vitest';
import { InterruptedError, NetworkError } from '../../../src/errors.js';
import { runJson, runMetrics, runResult, type CommandReport, type RunEnd } from '../../../src/report/run-end.js';

const startedAt = new Date('2026-11-22T16:00:00Z');
const finishedAt = new Date('2026-11-22T16:00:02.5Z');
const partial: CommandReport = {
  result: 'partial',
  json: { result: 'partial', repositories: { failed: 1 } },
  text: 'text',
  detail: 'detail',
  failures: [{ repository: 'a/b', code: 'NETWORK', message: 'reset' }],
  facts: {},
  metrics: { repositoriesFailed: 1 },
};

describe('how a run ended', () => {
  it('a finished run keeps its own result and document, with no error', () => {
    const end: RunEnd = { command: 'sync', startedAt, finishedAt, report: partial };
    expect(runResult(end)).toBe('partial');
    expect(runJson(end)).toEqual({ result: 'partial', repositories: { failed: 1 }, error: null });
    expect(runMetrics(end)).toEqual({ repositoriesFailed: 1, success: false, durationSeconds: 2.5, finishedAt });
  });

  it('a run-level error is failed: the document says what is known, the metrics say 0', () => {
    const error = new NetworkError('GET /v2/ at 127.0.0.1:9 (source.url): connection refused');
    const end: RunEnd = { command: 'gc', startedAt, finishedAt, error };
    expect(runResult(end)).toBe('failed');
    expect(runJson(end)).toEqual({
      command: 'gc',
      result: 'failed',
      error: { code: 'NETWORK', message: error.message },
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: 2500,
    });
    expect(runMetrics(end)).toEqual({ success: false, durationSeconds: 2.5, finishedAt });
  });

  it('a signal makes it interrupted, even when the run got as far as its summary', () => {
    const error = new InterruptedError('SIGTERM');
    const end: RunEnd = { command: 'sync', startedAt, finishedAt, report: { ...partial, result: 'ok' }, error };
    expect(runResult(end)).toBe('interrupted');
    expect(runJson(end)).toMatchObject({ result: 'interrupted', error: { code: 'INTERRUPTED' } });
    expect(runMetrics(end).success).toBe(false);
    expect([error.exitCode, new InterruptedError('SIGINT').exitCode]).toEqual([143, 130]);
  });

  it('an ok run succeeds', () => {
    expect(runMetrics({ command: 'verify', startedAt, finishedAt, report: { ...partial, result: 'ok' } }).success).toBe(
      true,
    );
  });
});
