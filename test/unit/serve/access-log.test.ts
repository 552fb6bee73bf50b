import { mkdtemp, readFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AccessLog, combinedLogLine, type AccessEntry } from '../../../src/serve/access-log.js';

const entry: AccessEntry = {
  remote: '127.0.0.1',
  time: new Date(Date.UTC(2026, 10, 2, 3, 4, 5)),
  method: 'GET',
  target: '/v2/a/manifests/1',
  httpVersion: '1.1',
  status: 200,
  bytes: 512,
  referer: undefined,
  userAgent: 'skopeo/1.9.3',
};

describe('access log', () => {
  it('writes the combined format', () => {
    expect(combinedLogLine(entry)).toBe(
      '127.0.0.1 - - [02/Nov/2026:03:04:05 +0000] "GET /v2/a/manifests/1 HTTP/1.1" 200 512 "-" "skopeo/1.9.3"\n',
    );
    expect(combinedLogLine({ ...entry, bytes: 0, status: 307 })).toContain('" 307 - "');
  });

  it('escapes what could forge fields or lines', () => {
    const line = combinedLogLine({ ...entry, userAgent: 'x" 200 1 "\nforged', target: '/v2/\u00ff' });
    expect(line.split('\n')).toHaveLength(2);
    expect(line).toContain('"x\\x22 200 1 \\x22\\x0aforged"');
  });

  it('appends to a file and starts a new one on reopen', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'blobmirror-log-'));
    const file = path.join(dir, 'access.log');
    const log = new AccessLog(file);
    log.write(entry);
    await log.reopen();
    await rename(file, `${file}.1`);
    await log.reopen();
    log.write({ ...entry, status: 404 });
    await log.close();
    expect((await readFile(`${file}.1`, 'utf8')).split('\n')).toHaveLength(2);
    expect(await readFile(file, 'utf8')).toContain('" 404 512 "');
  });

  it('fails at once on a file it cannot open', () => {
    expect(() => new AccessLog('/nonexistent-dir/access.log')).toThrow(/ENOENT/);
  });
});
