// `npm run bench:profile [-- --size small|large --runs N --cli A/dist/cli/main.js --cli B/...]`:
// where a full sync's CPU goes. Pushes the bench fixture into a fresh docker-registry, then runs
// `blobmirror sync` N times into an empty tree under `--cpu-prof`, for each build given (default:
// this checkout's; several builds run interleaved, an A/B on the same registry), and prints each
// thread's CPU seconds (from the kernel) and the main thread's self time by part and by function.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateImages } from '../src/demo/image-generator.js';
import { CLI_ARGS, writeTestConfig } from '../test/helpers/cli.js';
import { pushLayout } from '../test/helpers/push.js';
import { startRegistry } from '../test/helpers/registry.js';
import { fixture, STABLE_PATTERN, type BenchSize } from './fixture.js';
import { renderProfile, type BuildProfile } from './profile-report.js';
import type { CpuProfile } from './profile-parts.js';
import { threadCpu } from './thread-cpu.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: 'large' },
    runs: { type: 'string', default: '3' },
    cli: { type: 'string', multiple: true, default: [CLI_ARGS.at(-1)!] },
  },
});
const size = values.size as BenchSize;
if (size !== 'small' && size !== 'large') throw new Error(`--size expects small or large, got ${values.size}`);
const runs = Number(values.runs);
const flags = CLI_ARGS.slice(0, -1);

const log = (line: string) => process.stderr.write(`profile: ${line}\n`);
const work = await mkdtemp(path.join(tmpdir(), 'blobmirror-profile-'));
const registry = await startRegistry();
try {
  log(`fixture (${size}) into ${registry.url}`);
  const generated = await generateImages(fixture(size), path.join(work, 'layout'));
  await pushLayout(registry, generated.dir);
  const builds: BuildProfile[] = values.cli.map((cli) => ({ cli, runs: [], main: [], workers: [] }));
  for (let run = 1; run <= runs; run++)
    for (const [b, build] of builds.entries()) {
      const config = await writeTestConfig(
        { registryUrl: registry.url, include: [STABLE_PATTERN] },
        path.join(work, `run-${run}-${b}`),
      );
      const dir = path.join(work, `prof-${run}-${b}`);
      const args = [...flags, '--cpu-prof', '--cpu-prof-dir', dir, build.cli, 'sync', '-c', config.file, '-q'];
      const sync = await threadCpu(process.execPath, args);
      build.runs.push({ ...sync, load: loadavg()[0]! });
      log(`${build.cli} run ${run}: ${(sync.wallMs / 1000).toFixed(2)} s, main thread ${sync.mainMs} ms CPU`);
      // One profile per thread, CPU.<date>.<time>.<pid>.<thread id>.<n>.cpuprofile: 0 is the main thread.
      for (const file of await readdir(dir)) {
        const profile = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as CpuProfile;
        build[/^CPU\.[^.]+\.[^.]+\.\d+\.0\./.test(file) ? 'main' : 'workers'].push(profile);
      }
      await rm(path.dirname(config.root), { recursive: true, force: true });
    }
  process.stdout.write(renderProfile(size, builds));
} finally {
  await registry.stop();
  await rm(work, { recursive: true, force: true });
}
