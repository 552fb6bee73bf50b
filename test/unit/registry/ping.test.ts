import { describe, expect, it } from 'vitest';
import { NetworkError } from '../../../src/errors.js';
import { Ping } from '../../../src/registry/ping.js';
import { Redactor } from '../../../src/registry/redactor.js';
import { answer, scripted } from '../../helpers/fake-round-trip.js';

const base = {
  origin: 'https://registry.example',
  server: 'registry https://registry.example',
  configKey: 'source.url',
};

describe('Ping', () => {
  it('asks GET /v2/ once and remembers the challenge', async () => {
    const { next, seen } = scripted([
      answer(401, { 'www-authenticate': 'Bearer realm="https://auth.example/token",service="reg"' }),
    ]);
    const ping = new Ping(next, base, new Redactor());
    const [a, b] = await Promise.all([ping.challenge(), ping.challenge()]);
    expect(a).toEqual({ scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'reg' } });
    expect(b).toBe(a);
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual(['GET https://registry.example/v2/']);
  });

  it('a 200 means no authentication', async () => {
    const { next } = scripted([answer(200)]);
    await expect(new Ping(next, base, new Redactor()).challenge()).resolves.toBeUndefined();
  });

  it('anything else is not a registry', async () => {
    const { next } = scripted([answer(404, {}, '<html>')]);
    await expect(new Ping(next, base, new Redactor()).challenge()).rejects.toMatchObject({
      code: 'REGISTRY_ERROR',
      message: 'https://registry.example/v2/ answered 404: not a Docker Registry V2 API',
    });
  });

  it('a failed ping is forgotten: the next request pings again', async () => {
    const refused = new NetworkError('GET /v2/ at registry.example (source.url): connection refused');
    const { next, seen } = scripted([refused, answer(200)]);
    const ping = new Ping(next, base, new Redactor());
    await expect(ping.challenge()).rejects.toBe(refused);
    await expect(ping.challenge()).resolves.toBeUndefined();
    expect(seen).toHaveLength(2);
  });

  it("a 401's newer challenge replaces the ping's", async () => {
    const { next } = scripted([answer(200)]);
    const ping = new Ping(next, base, new Redactor());
    await ping.challenge();
    ping.update({ scheme: 'basic', params: { realm: 'r' } });
    await expect(ping.challenge()).resolves.toEqual({ scheme: 'basic', params: { realm: 'r' } });
  });
});
