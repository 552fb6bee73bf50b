import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import type { RegistrySourceConfig } from '../config/schema.js';

export interface Credentials {
  username: string;
  password: string;
}

interface DockerAuthEntry {
  auth?: string;
  username?: string;
  password?: string;
}

function fromDockerConfig(text: string, file: string, host: string): Credentials | undefined {
  let auths: Record<string, DockerAuthEntry>;
  try {
    auths = (JSON.parse(text) as { auths?: Record<string, DockerAuthEntry> }).auths ?? {};
  } catch {
    throw new ConfigError(`docker config ${file} is not valid JSON`);
  }
  // Docker writes keys as `host`, `https://host` or `https://host/v1/`.
  const entry = Object.entries(auths).find(
    ([key]) => key.replace(/^https?:\/\//, '').replace(/\/.*$/, '') === host,
  )?.[1];
  if (!entry) return undefined;
  if (entry.username && entry.password !== undefined) return { username: entry.username, password: entry.password };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  throw new ConfigError(`docker config ${file}: the auths entry for ${host} has neither auth nor username/password`);
}

async function readSecretFile(file: string, what: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
  } catch (error) {
    throw new ConfigError(`cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/**
 * Credentials for the source registry, from (in order) the config's username + password /
 * passwordEnv / passwordFile, the BLOBMIRROR_USERNAME / BLOBMIRROR_PASSWORD environment, or a
 * docker `config.json` auths entry for the registry's host.
 */
export async function resolveCredentials(
  source: RegistrySourceConfig,
  env = process.env,
): Promise<Credentials | undefined> {
  const auth = source.auth;
  const host = new URL(source.url).host;
  if (auth?.username) {
    if (auth.password !== undefined) return { username: auth.username, password: auth.password };
    if (auth.passwordEnv) {
      const password = env[auth.passwordEnv];
      if (password === undefined)
        throw new ConfigError(`source.auth.passwordEnv: environment variable ${auth.passwordEnv} is not set`);
      return { username: auth.username, password };
    }
    if (auth.passwordFile)
      return { username: auth.username, password: await readSecretFile(auth.passwordFile, 'password file') };
    throw new ConfigError('source.auth.username is set without password, passwordEnv or passwordFile');
  }
  if (env.BLOBMIRROR_USERNAME && env.BLOBMIRROR_PASSWORD !== undefined) {
    return { username: env.BLOBMIRROR_USERNAME, password: env.BLOBMIRROR_PASSWORD };
  }
  if (auth?.dockerConfig) {
    return fromDockerConfig(await readSecretFile(auth.dockerConfig, 'docker config'), auth.dockerConfig, host);
  }
  return undefined;
}

export function basicAuthorization(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}
