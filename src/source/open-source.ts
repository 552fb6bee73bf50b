import type { Config } from '../config/load.js';
import { OciLayoutSource } from '../oci-layout/layout-source.js';
import { RegistrySource, type RegistrySourceOptions } from '../registry/registry-source.js';
import type { Source } from './source.js';

export async function openSource(
  config: Config,
  options: Pick<RegistrySourceOptions, 'onRetry'> = {},
): Promise<Source> {
  const maxManifestBytes = config.metadata.maxManifestBytes;
  if (config.source.type === 'oci-layout') return new OciLayoutSource(config.source.path, { maxManifestBytes });
  return RegistrySource.create(config.source, { maxManifestBytes, ...options });
}
