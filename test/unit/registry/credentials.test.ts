import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RegistrySourceConfig } from '../../../src/config/schema.js';
import { resolveCredentials } from '../../../src/registry/credentials.js';

const source = (auth?: RegistrySourceConfig['auth']): RegistrySourceConfig => ({
  type: 'registry',
  url: 'https://registry.example.org:5000',
  insecure: false,
  concurrency: 8,
  timeoutSeconds: 60,
  idleTimeoutSeconds: 30,
  blobDeadlineSeconds: 21_600,
  retries: 5,
  catalogPageSize: 1000,
  ...(auth ? { auth } : {}),
});

async function file(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'blobmirror-cred-'));
  await writeFile(path.join(dir, name), text);
  return path.join(dir, name);
}

describe('resolveCredentials', () => {
  it('takes the password from the config, an environment variable or a file (trailing newline dropped)', async () => {
    expect(await resolveCredentials(source({ username: 'u', password: 'p' }), {})).toEqual({
      username: 'u',
      password: 'p',
    });
    expect(await resolveCredentials(source({ username: 'u', passwordEnv: 'PW' }), { PW: 'from-env' })).toEqual({
      username: 'u',
      password: 'from-env',
    });
    const secret = await file('pw', 's3cret\n');
    expect(await resolveCredentials(source({ username: 'u', passwordFile: secret }), {})).toEqual({
      username: 'u',
      password: 's3cret',
    });
  });

  it('says which variable or file is missing, without echoing any secret', async () => {
    await expect(resolveCredentials(source({ username: 'u', passwordEnv: 'NOPE' }), {})).rejects.toThrow(
      /environment variable NOPE is not set/,
    );
    await expect(resolveCredentials(source({ username: 'u', passwordFile: '/nonexistent/pw' }), {})).rejects.toThrow(
      /cannot read password file \/nonexistent\/pw: ENOENT/,
    );
  });

  it('falls back to BLOBMIRROR_USERNAME / BLOBMIRROR_PASSWORD, then nothing', async () => {
    expect(await resolveCredentials(source(), { BLOBMIRROR_USERNAME: 'e', BLOBMIRROR_PASSWORD: 'x' })).toEqual({
      username: 'e',
      password: 'x',
    });
    expect(await resolveCredentials(source(), {})).toBeUndefined();
  });

  it("reads a docker config.json auths entry for the registry host, in any of docker's key spellings", async () => {
    const auth = Buffer.from('robot:t0ken:with:colons').toString('base64');
    for (const key of [
      'registry.example.org:5000',
      'https://registry.example.org:5000',
      'https://registry.example.org:5000/v1/',
    ]) {
      const config = await file(
        'config.json',
        JSON.stringify({ auths: { 'other.example': { auth: 'eDp5' }, [key]: { auth } } }),
      );
      expect(await resolveCredentials(source({ dockerConfig: config }), {})).toEqual({
        username: 'robot',
        password: 't0ken:with:colons',
      });
    }
    const plain = await file(
      'config.json',
      JSON.stringify({ auths: { 'registry.example.org:5000': { username: 'a', password: 'b' } } }),
    );
    expect(await resolveCredentials(source({ dockerConfig: plain }), {})).toEqual({ username: 'a', password: 'b' });
    const none = await file('config.json', JSON.stringify({ auths: { 'other.example': { auth } } }));
    expect(await resolveCredentials(source({ dockerConfig: none }), {})).toBeUndefined();
  });

  it('rejects a docker config that is not JSON or whose entry has no credentials', async () => {
    await expect(resolveCredentials(source({ dockerConfig: await file('c.json', '{nope') }), {})).rejects.toThrow(
      /is not valid JSON/,
    );
    const empty = await file('c.json', JSON.stringify({ auths: { 'registry.example.org:5000': {} } }));
    await expect(resolveCredentials(source({ dockerConfig: empty }), {})).rejects.toThrow(
      /has neither auth nor username\/password/,
    );
  });
});
