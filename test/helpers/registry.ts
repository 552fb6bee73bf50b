import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import bcrypt from 'bcryptjs';
import { stringify } from 'yaml';
import {
  startTokenServer,
  type Scope,
  type TokenAlgorithm,
  type TokenKeyHeader,
  type TokenServer,
} from './token-server.js';

const REGISTRY_BIN = '/usr/bin/docker-registry';
const SERVICE = 'blobmirror-test-registry';
const ISSUER = 'blobmirror-test-issuer';

export type AuthMode = 'none' | 'htpasswd' | 'token';

export interface NotificationEndpoint {
  url: string;
  /** Header -> values, sent with every delivery (e.g. an Authorization secret). */
  headers?: Record<string, string[]>;
  /** Go durations; short defaults so a failing receiver is retried quickly in tests. */
  timeout?: string;
  backoff?: string;
  threshold?: number;
}

export interface RegistryOptions {
  auth?: AuthMode;
  token?: {
    algorithm?: TokenAlgorithm;
    keyHeader?: TokenKeyHeader;
    expiresIn?: number;
    grant?: (scope: Scope, username: string) => string[];
  };
  notifications?: NotificationEndpoint[];
  /** Accept pushes of signed schema1 manifests (`compatibility.schema1.enabled`). */
  schema1?: boolean;
}

/** One request the registry served, from its access log. */
export interface RegistryRequest {
  method: string;
  /** Path and query, e.g. `/v2/stable/base/manifests/39`. */
  path: string;
  status: number;
}

export interface RequestFilter {
  method?: string;
  pathPattern?: RegExp;
  status?: number;
}

export interface RegistryHandle {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `127.0.0.1:<port>` */
  host: string;
  port: number;
  /** Of the docker-registry process. */
  pid: number;
  /** Root of the filesystem storage driver. */
  dataDir: string;
  /** Credentials accepted by htpasswd and token modes. */
  auth?: { username: string; password: string };
  tokenServer?: TokenServer;
  options: RegistryOptions;
  /** Requests served since the last `mark()` (or start), in order; waits for the log to catch up. */
  requests(filter?: RequestFilter): Promise<RegistryRequest[]>;
  countRequests(filter?: RequestFilter): Promise<number>;
  /** Forget the requests logged so far. */
  mark(): Promise<void>;
  /** The registry's own JSON log lines (stderr), for debugging a failing test. */
  logLines(): string[];
  stop(): Promise<void>;
}

// Combined Log Format, which distribution's access log writes to stdout: one line per request.
const ACCESS_LINE = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) /;
const MARKER = '/v2/?blobmirror-test-marker=';
const running = new Set<ChildProcess>();
// A test that forgets stop() must not leave a registry behind when its worker exits.
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

export async function startRegistry(options: RegistryOptions = {}): Promise<RegistryHandle> {
  const workDir = await mkdtemp(join(tmpdir(), 'blobmirror-registry-'));
  const dataDir = join(workDir, 'data');
  await mkdir(dataDir);
  const mode = options.auth ?? 'none';
  const auth = mode === 'none' ? undefined : { username: 'tester', password: randomBytes(9).toString('base64url') };
  let tokenServer: TokenServer | undefined;
  const authConfig: Record<string, unknown> = {};
  if (mode === 'htpasswd') {
    const path = join(workDir, 'htpasswd');
    // Cost 4 (the minimum): the registry checks the hash on every request.
    await writeFile(path, `${auth!.username}:${bcrypt.hashSync(auth!.password, 4)}\n`);
    authConfig.htpasswd = { realm: 'blobmirror-test', path };
  } else if (mode === 'token') {
    tokenServer = await startTokenServer({ workDir, ...auth!, issuer: ISSUER, service: SERVICE, ...options.token });
    authConfig.token = {
      realm: tokenServer.realm,
      service: SERVICE,
      issuer: ISSUER,
      rootcertbundle: tokenServer.certPath,
    };
  }

  try {
    const { child, port, access, stderr } = await spawnWithFreePort(workDir, (port) => ({
      version: 0.1,
      log: { level: 'info', formatter: 'json', accesslog: { disabled: false } },
      storage: {
        filesystem: { rootdirectory: dataDir },
        delete: { enabled: true },
        maintenance: { uploadpurging: { enabled: false } },
      },
      http: { addr: `127.0.0.1:${port}`, secret: randomBytes(16).toString('hex') },
      ...(mode === 'none' ? {} : { auth: authConfig }),
      ...(options.notifications?.length ? { notifications: notificationsConfig(options.notifications) } : {}),
      ...(options.schema1 ? { compatibility: { schema1: { enabled: true } } } : {}),
    }));
    const url = `http://127.0.0.1:${port}`;
    let markAt = 0;

    /** Requests the registry is known to have finished: a marker request's log line flushes them. */
    const settled = async (): Promise<RegistryRequest[]> => {
      const marker = `${MARKER}${randomUUID()}`;
      await fetch(`${url}${marker}`);
      for (let waited = 0; !access.some((r) => r.path === marker); waited += 10) {
        if (waited > 5000) throw new Error(`registry access log did not show ${marker}`);
        await sleep(10);
      }
      return access.filter((r) => !r.path.startsWith(MARKER));
    };
    const requests = async (filter: RequestFilter = {}) =>
      (await settled()).slice(markAt).filter((r) => matches(r, filter));

    return {
      url,
      host: `127.0.0.1:${port}`,
      port,
      pid: child.pid!,
      dataDir,
      ...(auth ? { auth } : {}),
      ...(tokenServer ? { tokenServer } : {}),
      options,
      requests,
      countRequests: async (filter) => (await requests(filter)).length,
      mark: async () => {
        markAt = (await settled()).length;
      },
      logLines: () => [...stderr],
      stop: async () => {
        await stopChild(child);
        await tokenServer?.stop();
        await rm(workDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await tokenServer?.stop();
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
}

function matches(request: RegistryRequest, filter: RequestFilter): boolean {
  return (
    (filter.method === undefined || request.method === filter.method) &&
    (filter.pathPattern === undefined || filter.pathPattern.test(request.path)) &&
    (filter.status === undefined || request.status === filter.status)
  );
}

function notificationsConfig(endpoints: NotificationEndpoint[]) {
  return {
    events: { includereferences: true },
    endpoints: endpoints.map((endpoint, i) => ({
      name: `test-${i}`,
      url: endpoint.url,
      headers: endpoint.headers ?? {},
      timeout: endpoint.timeout ?? '2s',
      threshold: endpoint.threshold ?? 5,
      backoff: endpoint.backoff ?? '1s',
    })),
  };
}

interface Spawned {
  child: ChildProcess;
  port: number;
  access: RegistryRequest[];
  stderr: string[];
}

/** The port is picked free then handed to the registry; another process may grab it in between, so retry. */
async function spawnWithFreePort(workDir: string, config: (port: number) => object): Promise<Spawned> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const configPath = join(workDir, 'config.yml');
    await writeFile(configPath, stringify(config(port)));
    try {
      return await spawnRegistry(configPath, port);
    } catch (error) {
      if (attempt >= 3 || !/address already in use/.test(String(error))) throw error;
    }
  }
}

async function spawnRegistry(configPath: string, port: number): Promise<Spawned> {
  // Without REGISTRY_* variables from the environment, which would override the config file.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('REGISTRY_')));
  const child = spawn(REGISTRY_BIN, ['serve', configPath], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const access: RegistryRequest[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const match = ACCESS_LINE.exec(line);
    if (match) access.push({ method: match[1]!, path: match[2]!, status: Number(match[3]) });
  });
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) =>
      reject(new Error(`docker-registry exited (${signal ?? code}): ${stderr.slice(-3).join(' | ')}`)),
    ),
  );
  exited.catch(() => running.delete(child));
  try {
    await Promise.race([exited, waitForHttp(`http://127.0.0.1:${port}/v2/`)]);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return { child, port, access, stderr };
}

/** Until `url` answers at all (any status): a server started in a child process is up. */
export async function waitForHttp(url: string, what = 'registry', method = 'GET'): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await fetch(url, { method });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what} did not answer at ${url}`, { cause: error });
      await sleep(25);
    }
  }
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(killer);
  running.delete(child);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
