import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { generateImages, type GeneratedImages, type ImageSetSpec } from '../../src/demo/image-generator.js';
import { runCli, writeTestConfig, type TestConfig } from './cli.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { pushLayout, type PushOptions } from './push.js';
import { startRegistry, type RegistryHandle, type RegistryOptions } from './registry.js';

export interface WorldOptions {
  /** Names the temp directory (`blobmirror-<name>-…`). */
  name: string;
  /** Generated into `<work>/layout` and pushed to the registry. */
  spec: ImageSetSpec;
  registry?: RegistryOptions;
  push?: PushOptions;
  /** A fault proxy in front of the registry, with this seed. */
  proxySeed?: string;
  /** Write a config selecting `stable/**` (plus `config`) under `<work>/<dir>` and sync it once. */
  synced?: { dir: string; config?: Partial<TestConfig> };
}

/** A started world: a real registry holding the generated images, and a temp directory for the test. */
export interface TestWorld {
  readonly registry: RegistryHandle;
  /** Only with `proxySeed`. */
  readonly proxy: FaultProxy;
  readonly work: string;
  /** Also says where they are (`<work>/layout`). */
  readonly images: GeneratedImages;
  /** Only with `synced`: the config that was synced and its storage root. */
  readonly config: { file: string; root: string };
  /** A config for the registry selecting `stable/**` (unless `config` says otherwise) under `<work>/<dir>`. */
  writeConfig(dir: string, config?: Partial<TestConfig>): Promise<{ file: string; root: string }>;
}

interface Parts {
  registry?: RegistryHandle;
  proxy?: FaultProxy;
  work?: string;
  images?: GeneratedImages;
  config?: { file: string; root: string };
}

/**
 * Starts the world before the tests of the enclosing `describe` (or file) and removes it after
 * them: registry, proxy and temp directory, whatever the tests did. Hooks run in stack order, so
 * the file's own `afterAll` (stopping what it started on top) runs before this one.
 */
export function useTestWorld(options: WorldOptions): TestWorld {
  const parts: Parts = {};
  const get = <K extends keyof Parts>(key: K): NonNullable<Parts[K]> => {
    const value = parts[key];
    if (value === undefined) throw new Error(`test world ${options.name}: no ${key} (not started, or not asked for)`);
    return value!;
  };
  const writeConfig = (dir: string, config: Partial<TestConfig> = {}) =>
    writeTestConfig(
      { registryUrl: get('registry').url, include: ['stable/**'], ...config },
      path.join(get('work'), dir),
    );

  beforeAll(async () => {
    parts.registry = await startRegistry(options.registry);
    if (options.proxySeed !== undefined)
      parts.proxy = await startFaultProxy({ upstream: parts.registry.url, seed: options.proxySeed });
    parts.work = await mkdtemp(path.join(tmpdir(), `blobmirror-${options.name}-`));
    const layout = path.join(parts.work, 'layout');
    parts.images = await generateImages(options.spec, layout);
    await pushLayout(parts.registry, layout, options.push);
    if (options.synced) {
      parts.config = await writeConfig(options.synced.dir, options.synced.config);
      const result = await runCli(['sync', '-c', parts.config.file]);
      if (result.code !== 0)
        throw new Error(`test world ${options.name}: sync exited ${result.code}: ${result.stderr}`);
    }
  });
  afterAll(async () => {
    await parts.proxy?.close();
    await parts.registry?.stop();
    if (parts.work) await rm(parts.work, { recursive: true, force: true });
  });

  return {
    get registry() {
      return get('registry');
    },
    get proxy() {
      return get('proxy');
    },
    get work() {
      return get('work');
    },
    get images() {
      return get('images');
    },
    get config() {
      return get('config');
    },
    writeConfig,
  };
}
