import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import { OciLayoutSource } from '../oci-layout/layout-source.js';
import { RegistrySource, type RegistrySourceOptions } from '../registry/registry-source.js';
import type { Source } from '../source/source.js';

// The one place that picks a backend for the config's `source:`; everything below the CLI gets
// a `Source` (or a way to open one) and never knows which.

export type SourceOptions = Pick<RegistrySourceOptions, 'onRetry' | 'signal'>;

export async function openSource(
  config: Pick<Config, 'source' | 'metadata'>,
  options: SourceOptions = {},
): Promise<Source> {
  const maxManifestBytes = config.metadata.maxManifestBytes;
  if (config.source.type === 'oci-layout') return new OciLayoutSource(config.source.path, { maxManifestBytes });
  return RegistrySource.create(config.source, { maxManifestBytes, ...options });
}

/** Retries of registry requests, logged as warnings (they say why a run is slow). */
export function logRetries(log: Logger): SourceOptions {
  return {
    onRetry: (what, error, delayMs, attempt) =>
      log.warn({ attempt, delayMs }, `retrying ${what} in ${delayMs} ms: ${(error as Error).message}`),
  };
}
