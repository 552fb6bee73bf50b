import type { Skopeo } from '../test/helpers/skopeo.js';
import { timed } from './measure.js';

export interface SkopeoRun {
  wallMs: number;
  cpuMs: number;
  /** The largest of the invocations'. */
  peakRssBytes: number;
}

/**
 * `skopeo sync` of every repository into `dest`, as a script would: one `--src docker` invocation
 * per repository (that transport takes one repository), one after another, `--all` platforms,
 * `--scoped` paths. Wall and CPU time are the invocations' sums.
 */
export async function skopeoSync(
  skopeo: Skopeo,
  registryHost: string,
  repositories: readonly string[],
  dest: string,
  scratchDir: string,
): Promise<SkopeoRun> {
  const total: SkopeoRun = { wallMs: 0, cpuMs: 0, peakRssBytes: 0 };
  for (const repository of repositories) {
    const args = [
      'sync',
      '--src',
      'docker',
      '--dest',
      'dir',
      '--all',
      '--scoped',
      '--src-tls-verify=false',
      `${registryHost}/${repository}`,
      dest,
    ];
    const run = await timed(skopeo.command(args), scratchDir);
    total.wallMs += run.wallMs;
    total.cpuMs += run.cpuMs;
    total.peakRssBytes = Math.max(total.peakRssBytes, run.peakRssBytes);
  }
  return total;
}
