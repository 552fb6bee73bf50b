import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safeUrl, socketOptions } from '../../../src/amqp/connection.js';

describe('amqp connection', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'blobmirror-amqp-unit-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('socketOptions reads the CA, client certificate and key; a missing file names its config key', async () => {
    await writeFile(path.join(dir, 'ca.pem'), 'CA');
    await writeFile(path.join(dir, 'cert.pem'), 'CERT');
    await writeFile(path.join(dir, 'key.pem'), 'KEY');
    const base = { url: 'amqps://x' };
    const options = await socketOptions(
      {
        ...base,
        tls: {
          caFile: path.join(dir, 'ca.pem'),
          certFile: path.join(dir, 'cert.pem'),
          keyFile: path.join(dir, 'key.pem'),
        },
      },
      'listen.amqp',
      'listen',
    );
    expect({ ca: String(options.ca), cert: String(options.cert), key: String(options.key) }).toEqual({
      ca: 'CA',
      cert: 'CERT',
      key: 'KEY',
    });
    expect(options.clientProperties).toEqual({ connection_name: `blobmirror listen (pid ${process.pid})` });
    expect(await socketOptions(base, 'listen.amqp', 'listen')).not.toHaveProperty('ca');
    // The announcement's connection names its own block, not listen's.
    await expect(
      socketOptions({ ...base, tls: { caFile: path.join(dir, 'nope.pem') } }, 'announce.amqp', 'announce'),
    ).rejects.toThrow(/^announce\.amqp\.tls\.caFile .*nope\.pem/);
  });

  it('safeUrl hides the broker password', () => {
    expect(safeUrl('amqps://user:pw@broker:5671/%2F')).toBe('amqps://user:***@broker:5671/%2F');
    expect(safeUrl('amqp://broker')).toBe('amqp://broker');
  });
});
