import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Debian's skopeo as a stock client would run it: plain HTTP registries need --*-tls-verify=false
// and every copy needs a signature policy, here one that accepts anything (test fixtures are
// unsigned). A private temp dir keeps skopeo's scratch files and auth lookups out of $HOME.

const SKOPEO_BIN = '/usr/bin/skopeo';

export interface SkopeoResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface SkopeoCommand {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export interface Skopeo {
  /** The command line and environment `run` uses, for callers that spawn it themselves (under /usr/bin/time). */
  command(args: readonly string[], global?: readonly string[]): SkopeoCommand;
  /** Run skopeo with the policy in place; `global` flags go before the subcommand. */
  run(args: readonly string[], global?: readonly string[]): Promise<SkopeoResult>;
  /** Like run, but a non-zero exit throws with skopeo's stderr. */
  ok(args: readonly string[], global?: readonly string[]): Promise<string>;
  dispose(): Promise<void>;
}

export async function createSkopeo(): Promise<Skopeo> {
  const dir = await mkdtemp(join(tmpdir(), 'blobmirror-skopeo-'));
  const policy = join(dir, 'policy.json');
  await writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  const env = { ...process.env, HOME: dir, TMPDIR: dir, XDG_RUNTIME_DIR: dir };

  const command = (args: readonly string[], global: readonly string[] = []): SkopeoCommand => ({
    file: SKOPEO_BIN,
    args: ['--policy', policy, ...global, ...args],
    env,
  });
  const run = (args: readonly string[], global: readonly string[] = []) =>
    new Promise<SkopeoResult>((resolve, reject) => {
      const { file, args: argv } = command(args, global);
      execFile(file, argv, { env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(error);
        else resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      });
    });

  return {
    command,
    run,
    ok: async (args, global) => {
      const result = await run(args, global);
      if (result.code !== 0)
        throw new Error(`skopeo ${[...(global ?? []), ...args].join(' ')} exited ${result.code}:\n${result.stderr}`);
      return result.stdout;
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
