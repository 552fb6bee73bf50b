import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { secretMatches } from '../../../src/listen/webhook.js';

const BASE = `version: 1
source: { type: oci-layout, path: layout }
repositories: { include: ["fedora/**"] }
storage: { root: mirror }
`;

const parse = (listen: string) => parseConfig(`${BASE}listen:\n${listen}`, '/etc/blobmirror/config.yaml');

describe('listen: config', () => {
  it('defaults, relative paths resolved against the config file, state dir under storage.state', () => {
    const config = parse(`  amqp:
    url: amqps://broker.example.org/%2Fpubsub
    tls: { caFile: ca.pem, certFile: cert.pem, keyFile: key.pem }
    queue: blobmirror
    routingKeys: ["org.fedoraproject.prod.bodhi.update.complete.stable"]
  webhook: { port: 8088, secretFile: secret }
`);
    expect(config.listen).toEqual({
      amqp: {
        url: 'amqps://broker.example.org/%2Fpubsub',
        tls: {
          caFile: '/etc/blobmirror/ca.pem',
          certFile: '/etc/blobmirror/cert.pem',
          keyFile: '/etc/blobmirror/key.pem',
        },
        exchange: 'amq.topic',
        queue: 'blobmirror',
        routingKeys: ['org.fedoraproject.prod.bodhi.update.complete.stable'],
        prefetch: 10,
      },
      webhook: { address: '127.0.0.1', port: 8088, header: 'Authorization', secretFile: '/etc/blobmirror/secret' },
      coalesceSeconds: 3,
      bodhi: { repositories: {} },
      retry: { initialSeconds: 5, maxSeconds: 300 },
      lockWaitSeconds: 3600,
      shutdownGraceSeconds: 60,
      stateDir: path.join('/etc/blobmirror/mirror/state', 'listen'),
    });
  });

  it('configs without listen: are unchanged', () => {
    expect(parseConfig(BASE, '/x/config.yaml').listen).toBeUndefined();
  });

  it.each([
    ['  coalesceSeconds: 3\n', 'listen', 'configure amqp, webhook, or both'],
    ['  webhook: { port: 8088 }\n', 'listen.webhook', 'give exactly one of secretFile or secretEnv'],
    [
      '  webhook: { port: 8088, secretFile: a, secretEnv: B }\n',
      'listen.webhook',
      'give exactly one of secretFile or secretEnv',
    ],
    ['  amqp: { url: "http://x", queue: q, routingKeys: ["#"] }\n', 'listen.amqp.url', 'expected amqp://'],
    [
      '  amqp: { url: "amqp://x", queue: q, routingKeys: [] }\n',
      'listen.amqp.routingKeys',
      'bind at least one routing key',
    ],
    ['  amqp: { url: "amqp://x", queue: amq.mine, routingKeys: ["#"] }\n', 'listen.amqp.queue', 'reserved'],
    [
      '  amqp: { url: "amqp://x", queue: q, routingKeys: ["#"], tls: { caFile: ca } }\n',
      'listen.amqp.tls',
      'tls needs an amqps:// url',
    ],
    ['  amqp: { url: "amqp://x", queue: q, routingKeys: ["#"], prefetch: 0 }\n', 'listen.amqp.prefetch', ''],
    [
      '  amqp: { url: "amqp://x", queue: q, routingKeys: ["#"], queueName: q }\n',
      'listen.amqp',
      'unknown key "queueName"',
    ],
    [
      '  webhook: { port: 8088, secretEnv: S }\n  bodhi: { repositories: { toolbox: "Not/A/Repo" } }\n',
      'listen.bodhi.repositories.toolbox',
      'not a repository name',
    ],
    [
      '  webhook: { port: 8088, secretEnv: S }\n  bodhi: { template: "fedora/x" }\n',
      'listen.bodhi.template',
      'must contain {name}',
    ],
    [
      '  webhook: { port: 8088, secretEnv: S }\n  retry: { initialSeconds: 10, maxSeconds: 5 }\n',
      'listen.retry',
      'maxSeconds must be at least initialSeconds',
    ],
  ])('rejects %j at %s', (listen, keyPath, message) => {
    expect(() => parse(listen)).toThrow(
      new RegExp(`${keyPath.replace(/[.()]/g, '\\$&')}.*${message.replace(/[.(){}/]/g, '\\$&')}`),
    );
  });
});

describe('listen helpers', () => {
  it('secretMatches: bare or Bearer, nothing else', () => {
    expect(secretMatches('s3cret', 's3cret')).toBe(true);
    expect(secretMatches('Bearer s3cret', 's3cret')).toBe(true);
    expect(secretMatches('bearer  s3cret', 's3cret')).toBe(true);
    expect(secretMatches('Bearer s3cre', 's3cret')).toBe(false);
    expect(secretMatches('', 's3cret')).toBe(false);
    expect(secretMatches(undefined, 's3cret')).toBe(false);
  });
});
