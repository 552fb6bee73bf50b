import type { Command } from 'commander';
import { ExitCode, UsageError, type InterruptedError } from '../errors.js';
import type { CommandReport } from '../report/run-end.js';
import { Listener, type ListeningConfig } from '../listen/listener.js';
import { withConfigOption, withOutputOptions, type CommonFlags } from './common-options.js';
import { logRetries, openSource } from './open-source.js';
import { printJson } from './output.js';
import { reportRun, type RunContext } from './run-report.js';

const EXAMPLE_CONFIG = `
listen:                                   # in the sync config; blobmirror listen needs this section
  amqp:
    url: amqps://blobmirror@rabbitmq.fedoraproject.org/%2Fpubsub
    tls: { caFile: /etc/fedora-messaging/cacert.pem, certFile: /etc/fedora-messaging/blobmirror-cert.pem, keyFile: /etc/fedora-messaging/blobmirror-key.pem }
    exchange: amq.topic                   # the default
    queue: blobmirror-master              # durable, named: messages wait there while blobmirror is down
    routingKeys:
      - org.fedoraproject.prod.fedora_image_uploader.published.v1.container.#
      - org.fedoraproject.prod.bodhi.update.complete.stable
    prefetch: 5
    # deadLetterExchange: blobmirror-dlx  # reject malformed messages there instead of acking them
  webhook:                                # docker-distribution notifications
    address: 127.0.0.1
    port: 8088                            # POST http://127.0.0.1:8088/notifications
    header: Authorization                 # must carry the secret (bare or "Bearer <secret>")
    secretFile: /etc/blobmirror/webhook-secret   # or secretEnv: VAR
  coalesceSeconds: 3                      # triggers within this window become one sync
  bodhi:
    repositories: { toolbox: fedora/toolbox }     # Bodhi build NVR name -> repository
    template: fedora/{name}                       # for names not listed
  retry: { initialSeconds: 5, maxSeconds: 300 }   # backoff after a failed sync
  lockWaitSeconds: 3600                   # wait this long for a cron sync holding the tree lock
  shutdownGraceSeconds: 60                # on SIGTERM, time the sync in progress gets to finish
  # stateDir: <storage.state>/listen      # pending.json, status.json
`;

export function registerListen(program: Command): void {
  const command = program
    .command('listen')
    .summary('sync repositories as soon as the message bus or the registry announces new images')
    .description(
      'Stay running and turn announcements into targeted syncs: fedora-messaging messages over ' +
        'AMQP (fedora_image_uploader.published.v1.container, bodhi.update.complete.stable for ' +
        'container updates, forwarded registry notifications, or a body naming repository / ' +
        'repositories) and docker-distribution webhook notifications (tagged manifest pushes). ' +
        'Triggers within coalesceSeconds become one sync of the repositories they name; a ' +
        'repository triggered during its own sync gets one follow-up run. A message is acked only ' +
        'once the generation including its sync is published (or, if the sync failed, once the ' +
        'retry is recorded in pending.json); the webhook answers 200 only once the trigger is on ' +
        'disk. Runs share the tree lock with cron `sync` and wait for it.',
    )
    .addHelpText(
      'after',
      '\nExample:\n  blobmirror listen -c /etc/blobmirror/config.yaml      # under systemd, Restart=on-failure\n' +
        EXAMPLE_CONFIG +
        '\nA registry that notifies the webhook (its config.yml):\n' +
        '  notifications:\n    endpoints:\n      - name: blobmirror\n        url: http://127.0.0.1:8088/notifications\n' +
        '        headers: { Authorization: ["Bearer <the secret>"] }\n        timeout: 5s\n        backoff: 5s\n' +
        '\nState: <stateDir>/pending.json (accepted triggers not yet published; resumed at start),\n' +
        '<stateDir>/status.json (queue depth, last message, last trigger latency; docs/formats.md).\n' +
        'SIGTERM/SIGINT: stop consuming, let the sync in progress finish (shutdownGraceSeconds),\n' +
        'leave unacked messages to the broker. A periodic full `sync` from cron stays the backstop:\n' +
        'registries drop notifications when they restart.\n' +
        'With --json, prints {"webhook", "queue", "stateDir"} on stdout once started, and how it\n' +
        'ended ({"result", "error", ...}) when it stops or fails to start; `blobmirror status` shows that too.\n' +
        '\nExit codes: 0 stopped cleanly; 1 the sync in progress was abandoned at shutdown, or the\n' +
        'start failed (broker unreachable); 2 usage or config error; 3 another listener uses the\n' +
        'state directory.',
    );
  withOutputOptions(withConfigOption(command)).action(async (flags: CommonFlags) => {
    await reportRun('listen', flags, listenAction, { stopsOnSignal: true });
    // An abandoned sync still holds sockets and timers; what it leaves is safe to resume.
    if (process.exitCode !== ExitCode.ok) process.exit();
  });
}

/** Listen until the first SIGINT/SIGTERM, then stop: ok if the sync in progress finished, partial if it was abandoned. */
async function listenAction({ output, config, signal }: RunContext): Promise<CommandReport> {
  if (!config.listen)
    throw new UsageError(`${config.file} has no listen: section (run blobmirror listen --help for an example)`);
  const listener = new Listener(config as ListeningConfig, output.log, () =>
    openSource(config, logRetries(output.log)),
  );
  const started = await listener.start();
  if (output.json) printJson(started);
  if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  const stoppedBy = (signal.reason as InterruptedError).signal;
  const finished = await listener.stop();
  output.log.info(finished ? 'stopped' : 'stopped, abandoning the sync in progress');
  return {
    result: finished ? 'ok' : 'partial',
    json: { ...started, stoppedBy },
    text: '',
    detail: finished
      ? `stopped by ${stoppedBy}`
      : `stopped by ${stoppedBy}, abandoning the sync in progress (it resumes at the next start)`,
    failures: [],
    facts: { ...started, stoppedBy },
    metrics: {},
  };
}
