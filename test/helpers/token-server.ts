import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

export type TokenAlgorithm = 'ES256' | 'RS256';
/**
 * How a token names its signing key. distribution 2.8 (registry/auth/token/token.go) takes either
 * `x5c` (the certificate chain, verified against `rootcertbundle`) or `kid` (the libtrust key ID of a
 * public key in `rootcertbundle`); both are exercised against the real registry in the tests.
 */
export type TokenKeyHeader = 'x5c' | 'kid';

export interface Scope {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenServerOptions {
  workDir: string;
  username: string;
  password: string;
  issuer: string;
  service: string;
  algorithm?: TokenAlgorithm;
  keyHeader?: TokenKeyHeader;
  /** Seconds a token is valid (default 300). */
  expiresIn?: number;
  /** Actions granted for a requested scope; default every requested action. */
  grant?: (scope: Scope, username: string) => string[];
}

export interface TokenRequest {
  scopes: string[];
  /** Whether valid Basic credentials came with it (only those get a token). */
  authenticated: boolean;
  status: number;
}

export interface TokenServer {
  /** `http://127.0.0.1:<port>/token`, the registry's `auth.token.realm`. */
  realm: string;
  /** PEM certificate of the signing key, the registry's `auth.token.rootcertbundle`. */
  certPath: string;
  requests(): TokenRequest[];
  stop(): Promise<void>;
}

const run = promisify(execFile);

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const algorithm = options.algorithm ?? 'ES256';
  const keyPath = join(options.workDir, 'token-key.pem');
  const certPath = join(options.workDir, 'token-cert.pem');
  const newKey =
    algorithm === 'ES256' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'] : ['-newkey', 'rsa:2048'];
  await run('openssl', [
    'req',
    '-x509',
    ...newKey,
    '-nodes',
    '-sha256',
    '-days',
    '2',
    '-subj',
    '/CN=blobmirror test token issuer',
    '-keyout',
    keyPath,
    '-out',
    certPath,
  ]);
  const privateKey = createPrivateKey(await readFile(keyPath));
  const cert = new X509Certificate(await readFile(certPath));
  const keyHeader =
    (options.keyHeader ?? 'x5c') === 'x5c' ? { x5c: [cert.raw.toString('base64')] } : { kid: libtrustKeyId(cert) };
  const header = base64url(JSON.stringify({ typ: 'JWT', alg: algorithm, ...keyHeader }));
  const expiresIn = options.expiresIn ?? 300;
  const log: TokenRequest[] = [];

  const issue = (username: string, scopes: string[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const access = scopes
      .map(parseScope)
      .map((scope) => ({ ...scope, actions: options.grant?.(scope, username) ?? scope.actions }));
    const claims = {
      iss: options.issuer,
      sub: username,
      aud: options.service,
      exp: now + expiresIn,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const signingInput = `${header}.${base64url(JSON.stringify(claims))}`;
    // JWS ES256 wants the raw r||s signature, not Node's default DER.
    const signature = sign('sha256', Buffer.from(signingInput), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    return `${signingInput}.${signature.toString('base64url')}`;
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const scopes = url.searchParams
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .filter(Boolean);
    const authenticated = req.headers.authorization === basicAuthorization(options.username, options.password);
    const status = url.pathname !== '/token' ? 404 : authenticated ? 200 : 401;
    log.push({ scopes, authenticated, status });
    res.setHeader('Content-Type', 'application/json');
    if (status !== 200) {
      res.writeHead(status).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
      return;
    }
    const token = issue(options.username, scopes);
    res.end(JSON.stringify({ token, access_token: token, expires_in: expiresIn, issued_at: new Date().toISOString() }));
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    certPath,
    requests: () => [...log],
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** `repository:stable/base:pull,push` or `registry:catalog:*`; names never hold `:`. */
function parseScope(scope: string): Scope {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',') };
}

/** libtrust's key ID: SHA-256 of the DER public key, first 240 bits, base32 in 12 groups of 4. */
function libtrustKeyId(cert: X509Certificate): string {
  const der = cert.publicKey.export({ type: 'spki', format: 'der' });
  const digest = createHash('sha256').update(der).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const byte of digest) bits += byte.toString(2).padStart(8, '0');
  const base32 = bits
    .match(/.{5}/g)!
    .map((chunk) => alphabet[parseInt(chunk, 2)])
    .join('');
  return base32.match(/.{4}/g)!.join(':');
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}
