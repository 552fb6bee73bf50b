import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, stopChild, waitForHttp } from './registry.js';

// A real nginx on 127.0.0.1 serving a directory, as a mirror would: its own config and prefix in
// a temp dir, in the foreground (`daemon off;`), with an access log the tests read.

const NGINX_BIN = '/usr/sbin/nginx';

export interface NginxRequest {
  method: string;
  path: string;
  status: number;
  bytes: number;
}

export interface NginxHandle {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Requests logged so far, in order (nginx writes each line when the response is done). */
  requests(): Promise<NginxRequest[]>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

const ACCESS_LINE = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) (\d+|-) /;

// Debian's nginx-light leaves some modules out; a temp path for a missing module is a config error.
function builtWithout(build: string, module: string): boolean {
  return build.includes(`--without-${module}`);
}

function config(prefix: string, root: string, port: number): string {
  const temp = (name: string) => `${name}_temp_path ${join(prefix, 'temp', name)};`;
  // `nginx -V` prints its build options on stderr.
  const { stdout, stderr } = spawnSync(NGINX_BIN, ['-V'], { encoding: 'utf8' });
  const optional = ['uwsgi', 'scgi', 'fastcgi']
    .filter((m) => !builtWithout(`${stdout}${stderr}`, `http_${m}_module`))
    .map(temp);
  return [
    'daemon off;',
    'master_process on;',
    'worker_processes 1;',
    // As root, workers would drop to nobody and not read a 0700 temp tree.
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    `pid ${join(prefix, 'nginx.pid')};`,
    `error_log ${join(prefix, 'error.log')} warn;`,
    'events { worker_connections 256; }',
    'http {',
    `  access_log ${join(prefix, 'access.log')} combined;`,
    '  default_type application/octet-stream;',
    '  sendfile on;',
    `  ${temp('client_body')}`,
    `  ${temp('proxy')}`,
    ...optional.map((line) => `  ${line}`),
    `  server { listen 127.0.0.1:${port}; root ${root}; autoindex off; }`,
    '}',
    '',
  ].join('\n');
}

/** Serve `root` at `http://127.0.0.1:<port>/`; `port` to come back where a stopped mirror was. */
export async function startNginx(root: string, options: { port?: number } = {}): Promise<NginxHandle> {
  const prefix = await mkdtemp(join(tmpdir(), 'blobmirror-nginx-'));
  await mkdir(join(prefix, 'temp'));
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    const confPath = join(prefix, 'nginx.conf');
    await writeFile(confPath, config(prefix, root, port));
    const child = spawn(NGINX_BIN, ['-p', prefix, '-c', confPath, '-e', join(prefix, 'error.log')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    running.add(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(url, child, () => stderr);
    } catch (error) {
      await stopChild(child);
      running.delete(child);
      const errorLog = await readFile(join(prefix, 'error.log'), 'utf8').catch(() => '');
      if (attempt < 3 && /Address already in use/.test(errorLog + stderr)) continue;
      await rm(prefix, { recursive: true, force: true });
      throw new Error(`nginx did not start: ${String(error)}\n${stderr}\n${errorLog}`);
    }
    return {
      url,
      port,
      requests: async () => {
        const text = await readFile(join(prefix, 'access.log'), 'utf8').catch(() => '');
        return text
          .split('\n')
          .map((line) => ACCESS_LINE.exec(line))
          .filter((m): m is RegExpExecArray => m !== null)
          .map((m) => ({ method: m[1]!, path: m[2]!, status: Number(m[3]), bytes: m[4] === '-' ? 0 : Number(m[4]) }));
      },
      stop: async () => {
        await stopChild(child);
        running.delete(child);
        await rm(prefix, { recursive: true, force: true });
      },
    };
  }
}

// A plain wait, not vi.waitFor: the benchmark starts nginx too, outside vitest.
async function waitReady(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const exited = new Promise<never>((_, reject) => {
    const fail = () => reject(new Error(`exited with ${child.exitCode}: ${stderr()}`));
    if (child.exitCode !== null) fail();
    else child.once('exit', fail);
  });
  exited.catch(() => {});
  // HEAD: tests assert on the access log, where a mirror checker's requests are HEADs.
  await Promise.race([exited, waitForHttp(url, 'nginx', 'HEAD')]);
}
