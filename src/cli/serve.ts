import { readFile, stat } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { ExitCode, UsageError, describeError } from '../errors.js';
import { AccessLog } from '../serve/access-log.js';
import type { ServeMode } from '../serve/handlers.js';
import { loadMirrorConfig } from '../mirror-list/mirror-config.js';
import { startServer } from '../serve/server.js';
import { outputFor, withOutputOptions, type CommonFlags } from './common-options.js';
import { printJson } from './output.js';

interface ServeFlags extends CommonFlags {
  metadata: string;
  mirrors: string;
  listen: string;
  tlsCert?: string;
  tlsKey?: string;
  mode: ServeMode;
  accessLog?: string;
  reloadInterval: string;
  state?: string;
  listenState?: string;
  statusPage: boolean;
}

const SHUTDOWN_GRACE_MS = 10_000;

export function registerServe(program: Command): void {
  const command = program
    .command('serve')
    .summary('answer registry pulls from the metadata, sending blob downloads to the mirrors')
    .description(
      'A read-only Registry V2 API (the mirror-list service): tags, catalog and manifests come ' +
        'from the metadata directory sync publishes, byte for byte; blob GETs are redirected (307) ' +
        'to a mirror that carries the repository, chosen by weight and stable per client, or to ' +
        'the master. A newly published generation is picked up without restart. See docs/serving.md.',
    )
    .requiredOption('--metadata <dir>', 'metadata directory written by sync (<storage root>/metadata)')
    .requiredOption('--mirrors <file>', 'YAML mirror list: master URL and mirrors with weight, country, repositories')
    .option('--listen <host:port>', 'address to bind ([::1]:5000 for IPv6; port 0 picks a free one)', '127.0.0.1:5000')
    .option('--tls-cert <file>', 'PEM certificate (chain) to serve HTTPS; needs --tls-key')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .addOption(
      new Option(
        '--mode <mode>',
        'redirect: 307 blob redirects; urls: also put mirror URLs in manifests (see docs/serving.md)',
      )
        .choices(['redirect', 'urls'])
        .default('redirect'),
    )
    .option(
      '--access-log <file>',
      'append a combined-format access log line per request to this file ("-": stderr); SIGHUP reopens it',
    )
    .option('--reload-interval <seconds>', 'how often to look for a newly published generation (0: every request)', '1')
    .option('--state <dir>', 'state directory sync writes (<storage root>/state): the status page shows its last runs')
    .option('--listen-state <dir>', "the listener's state directory, when not <state>/listen")
    .option('--no-status-page', 'serve only the registry API under /v2/: no status page at / and no /api/')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  blobmirror serve --metadata /srv/blobmirror/metadata --mirrors /etc/blobmirror/mirrors.yaml\n' +
        '  blobmirror serve --metadata /srv/blobmirror/metadata --mirrors mirrors.yaml \\\n' +
        '      --listen 0.0.0.0:443 --tls-cert /etc/ssl/registry.pem --tls-key /etc/ssl/registry.key \\\n' +
        '      --access-log /var/log/blobmirror/access.log\n' +
        '  skopeo copy --src-tls-verify=false docker://127.0.0.1:5000/fedora/toolbox:39 oci:toolbox:39\n' +
        '\nmirrors.yaml:\n' +
        '  version: 1\n' +
        '  master: https://dl.example.org/containers          # the tree root on the master\n' +
        '  mirrors:\n' +
        '    - url: https://mirror.example.net/pub/containers\n' +
        '      weight: 10\n' +
        '      country: DE\n' +
        '      repositories: ["fedora/**"]\n' +
        '\nStops gracefully on SIGTERM or SIGINT (requests in flight finish, up to 10 s).\n' +
        'With --json, prints {"url", "port"} on stdout once listening.',
    );
  withOutputOptions(command).action(async (flags: ServeFlags) => {
    process.exitCode = await serveAction(flags);
  });
}

/** `host:port` or `[v6]:port`. */
export function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || port > 65535)
    throw new UsageError(`--listen expects host:port or [ipv6]:port, got ${JSON.stringify(value)}`);
  return { host: match[1] ?? match[2]!, port };
}

async function readPem(file: string, option: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new UsageError(`${option} ${file}: ${describeError(error)}`, { cause: error });
  }
}

const isDirectory = (dir: string): Promise<boolean> =>
  stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );

async function serveAction(flags: ServeFlags): Promise<number> {
  const output = await outputFor(flags);
  const { log } = output;
  const { host, port } = parseListen(flags.listen);
  const recheckSeconds = Number(flags.reloadInterval);
  if (!Number.isFinite(recheckSeconds) || recheckSeconds < 0)
    throw new UsageError(`--reload-interval expects seconds, got ${JSON.stringify(flags.reloadInterval)}`);
  if (Boolean(flags.tlsCert) !== Boolean(flags.tlsKey)) throw new UsageError('--tls-cert and --tls-key go together');
  const isDir = await isDirectory(flags.metadata);
  if (!isDir) throw new UsageError(`--metadata ${flags.metadata} is not a directory`);
  for (const [option, dir] of [
    ['--state', flags.state],
    ['--listen-state', flags.listenState],
  ] as const)
    if (dir !== undefined && !(await isDirectory(dir))) throw new UsageError(`${option} ${dir} is not a directory`);
  const mirrors = await loadMirrorConfig(flags.mirrors);
  const tls =
    flags.tlsCert && flags.tlsKey
      ? { cert: await readPem(flags.tlsCert, '--tls-cert'), key: await readPem(flags.tlsKey, '--tls-key') }
      : undefined;
  let accessLog: AccessLog | undefined;
  try {
    accessLog = flags.accessLog
      ? new AccessLog(flags.accessLog, (error) => log.error({ err: describeError(error) }, 'access log write failed'))
      : undefined;
  } catch (error) {
    throw new UsageError(`--access-log ${flags.accessLog}: ${describeError(error)}`, { cause: error });
  }

  const server = await startServer({
    metadataDir: flags.metadata,
    mirrors,
    mode: flags.mode,
    host,
    port,
    tls,
    accessLog,
    log,
    recheckMs: recheckSeconds * 1000,
    statusPage: flags.statusPage && { stateDir: flags.state, listenStateDir: flags.listenState },
  }).catch((error) => {
    throw new UsageError(`cannot listen on ${flags.listen}: ${describeError(error)}`, { cause: error });
  });
  if (output.json) printJson({ url: server.url, port: server.port });
  log.info(
    { url: server.url, mode: flags.mode, mirrors: mirrors.mirrors.length, statusPage: flags.statusPage },
    `serving ${flags.metadata} on ${server.url}`,
  );

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      log.info(`${signal}: finishing requests in flight, then stopping`);
      process.off('SIGTERM', stop).off('SIGINT', stop).off('SIGHUP', reopen);
      void server.close(SHUTDOWN_GRACE_MS).then(resolve);
    };
    const reopen = () =>
      void accessLog
        ?.reopen()
        .catch((error) => log.error({ err: describeError(error) }, 'cannot reopen the access log'));
    process.on('SIGTERM', stop).on('SIGINT', stop).on('SIGHUP', reopen);
  });
  await accessLog?.close();
  log.info('stopped');
  return ExitCode.ok;
}
