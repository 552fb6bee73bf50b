import { describe, expect, it } from 'vitest';
import { authenticating } from '../../../src/registry/authenticating.js';
import { BearerTokens } from '../../../src/registry/bearer-tokens.js';
import type { Credentials } from '../../../src/registry/credentials.js';
import { Ping } from '../../../src/registry/ping.js';
import { Redactor } from '../../../src/registry/redactor.js';
import type { RegistryResponse } from '../../../src/registry/round-trip.js';
import { answer, request, scripted } from '../../helpers/fake-round-trip.js';

const BEARER = 'Bearer realm="https://auth.example/token",service="reg"';

/** The layer over a registry whose ping says `pingAnswer` and whose requests get `answers` in turn. */
function stack(pingAnswer: () => RegistryResponse, answers: Array<() => RegistryResponse>, credentials?: Credentials) {
  const redactor = new Redactor();
  const registry = scripted(answers);
  const ping = new Ping(
    scripted([pingAnswer]).next,
    { origin: 'https://registry.example', server: 'r', configKey: 'source.url' },
    redactor,
  );
  let issued = 0;
  const tokenServer = scripted([() => answer(200, {}, JSON.stringify({ token: `t${++issued}` }))]);
  const tokens = new BearerTokens(
    tokenServer.next,
    { origin: 'https://registry.example', credentials, configKey: 'source.url' },
    redactor,
  );
  const send = authenticating(registry.next, {
    origin: 'https://registry.example',
    credentials,
    ping,
    tokens,
    redactor,
  });
  return { send, registry, tokenServer };
}

describe('authenticating', () => {
  it('sends a Bearer token for the scope the ping asked for', async () => {
    const { send, registry } = stack(() => answer(401, { 'www-authenticate': BEARER }), [() => answer(200)]);
    expect((await send(request({ scope: 'repository:stable/app:pull' }))).status).toBe(200);
    expect(registry.seen[0]!.headers).toEqual({ authorization: 'Bearer t1' });
  });

  it('sends Basic when the registry asks for it and credentials are set', async () => {
    const { send, registry } = stack(
      () => answer(401, { 'www-authenticate': 'Basic realm="r"' }),
      [() => answer(200)],
      { username: 'u', password: 'p' },
    );
    await send(request({ scope: 's' }));
    expect(registry.seen[0]!.headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
  });

  it('answers a 401 once with the new challenge and a fresh token', async () => {
    const { send, registry, tokenServer } = stack(
      () => answer(401, { 'www-authenticate': BEARER }),
      [() => answer(401, { 'www-authenticate': BEARER }), () => answer(200)],
    );
    expect((await send(request({ scope: 's' }))).status).toBe(200);
    expect(registry.seen.map((r) => r.headers.authorization)).toEqual(['Bearer t1', 'Bearer t2']);
    expect(tokenServer.seen).toHaveLength(2);
  });

  it('a second 401 is AUTH_FAILED, naming whose access was refused', async () => {
    const { send } = stack(() => answer(200), [() => answer(401, { 'www-authenticate': BEARER })]);
    await expect(send(request({ scope: 's' }))).rejects.toMatchObject({
      code: 'AUTH_FAILED',
      message: 'registry https://registry.example refused anonymous access for GET /v2/stable/app/tags/list',
    });
  });

  it('Basic without credentials, or a 401 without a challenge: AUTH_FAILED at once', async () => {
    const basic = stack(() => answer(200), [() => answer(401, { 'www-authenticate': 'Basic realm="r"' })]);
    await expect(basic.send(request({ scope: 's' }))).rejects.toMatchObject({
      code: 'AUTH_FAILED',
      message: expect.stringMatching(/requires credentials for GET \/v2\/stable\/app\/tags\/list; set source.auth/),
    });
    expect(basic.registry.seen).toHaveLength(1);
    const bare = stack(() => answer(200), [() => answer(401)]);
    await expect(bare.send(request({ scope: 's' }))).rejects.toMatchObject({
      code: 'AUTH_FAILED',
      message: expect.stringMatching(/without a usable WWW-Authenticate challenge$/),
    });
  });
});
