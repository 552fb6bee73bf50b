import { Counter, Gauge, Registry } from 'prom-client';
import type { BlobChoice } from './mirrors.js';

// serve's Prometheus metrics (docs/serving.md, "Metrics"), in a registry of its own so tests and
// several servers in one process never share counters.

export class ServeMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'blobmirror_serve_requests_total',
    help: 'Requests answered, by route (base, catalog, tags, manifest, blob, invalid, metrics, health, ui) and status',
    labelNames: ['route', 'status'],
    registers: [this.registry],
  });
  private readonly redirects = new Counter({
    name: 'blobmirror_serve_blob_redirects_total',
    help: 'Blob requests sent to each mirror',
    labelNames: ['mirror'],
    registers: [this.registry],
  });
  private readonly fallbacks = new Counter({
    name: 'blobmirror_serve_master_fallbacks_total',
    help: 'Blob requests sent to the master because no mirror carrying the blob was verified to hold it',
    registers: [this.registry],
  });
  private readonly keptOff = new Counter({
    name: 'blobmirror_serve_stale_mirror_skips_total',
    help: 'Blob requests kept off a mirror that ranked higher but was not verified at the blob\u2019s generation',
    labelNames: ['mirror'],
    registers: [this.registry],
  });
  readonly stateAge = new Gauge({
    name: 'blobmirror_serve_mirror_state_age_seconds',
    help: 'Age of the mirror state file serve routes by (absent without freshness routing or before the checker wrote it)',
    registers: [this.registry],
  });

  request(route: string, status: number): void {
    this.requests.inc({ route, status: String(status) });
  }

  blobChosen(choice: BlobChoice): void {
    if (choice.mirror) this.redirects.inc({ mirror: choice.mirror.url });
    else this.fallbacks.inc();
    for (const mirror of choice.keptOffStale) this.keptOff.inc({ mirror: mirror.url });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
