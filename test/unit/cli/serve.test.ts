import { describe, expect, it } from 'vitest';
import { parseListen } from '../../../src/cli/serve.js';
import { UsageError } from '../../../src/errors.js';

describe('serve --listen', () => {
  it('takes host:port and [ipv6]:port', () => {
    expect(parseListen('127.0.0.1:5000')).toEqual({ host: '127.0.0.1', port: 5000 });
    expect(parseListen('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(parseListen('[::1]:443')).toEqual({ host: '::1', port: 443 });
  });

  it('refuses anything else with a usage error', () => {
    for (const bad of ['5000', '::1:5000', '127.0.0.1:70000', '127.0.0.1:', 'host:port'])
      expect(() => parseListen(bad), bad).toThrow(UsageError);
  });
});
