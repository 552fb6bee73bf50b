import { Gauge, Registry } from 'prom-client';
import { writeFileAtomic } from '../store/fs-durable.js';
import type { RoundResult } from './checker.js';
import { mirrorLag } from './lag.js';

// The checker's view per mirror and module, in Prometheus' text format (docs/serving.md,
// "Metrics"): for node_exporter's textfile collector, rewritten after every round.

export async function checkerMetricsText(round: RoundResult, now = Date.now()): Promise<string> {
  const registry = new Registry();
  const labelNames = ['mirror', 'module'] as const;
  const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames, registers: [registry] });
  const verified = gauge(
    'blobmirror_mirror_verified_generation',
    'Generation the mirror was last verified at (-1: never)',
  );
  const lagGenerations = gauge(
    'blobmirror_mirror_lag_generations',
    'Generations the master is ahead of the verified one',
  );
  const lagSeconds = gauge(
    'blobmirror_mirror_lag_seconds',
    'Since the master published the first generation the mirror is not verified at (0: up to date)',
  );
  const lastCheck = gauge('blobmirror_mirror_last_check_timestamp_seconds', 'When the mirror was last checked');
  const failures = gauge('blobmirror_mirror_consecutive_failures', 'Failed checks in a row');
  const inRotation = gauge('blobmirror_mirror_in_rotation', '1 when serve may send clients to the mirror');
  const roundSeconds = new Gauge({
    name: 'blobmirror_crawl_round_seconds',
    help: 'Duration of the last check round',
    registers: [registry],
  });
  const roundRequests = new Gauge({
    name: 'blobmirror_crawl_round_requests',
    help: 'HTTP requests of the last check round',
    registers: [registry],
  });
  roundSeconds.set(round.durationMs / 1000);
  roundRequests.set(round.requests);
  const created = round.master?.createdAt ?? new Map<string, number>();
  for (const [mirror, { modules }] of Object.entries(round.state.mirrors))
    for (const [module, m] of Object.entries(modules)) {
      const labels = { mirror, module };
      verified.set(labels, m.verifiedGeneration === null ? -1 : Number(m.verifiedGeneration));
      const lag = mirrorLag(round.state.currentGeneration, m.verifiedGeneration, created, now);
      lagGenerations.set(labels, lag.generations);
      lagSeconds.set(labels, lag.seconds);
      if (m.lastCheckAt) lastCheck.set(labels, Date.parse(m.lastCheckAt) / 1000);
      failures.set(labels, m.consecutiveFailures);
      inRotation.set(labels, m.inRotation ? 1 : 0);
    }
  return registry.metrics();
}

export async function writeCheckerMetrics(file: string, round: RoundResult): Promise<void> {
  await writeFileAtomic(file, await checkerMetricsText(round));
}
