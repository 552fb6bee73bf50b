import { execFile } from 'node:child_process';
import { cpus, release, totalmem } from 'node:os';
import { promisify } from 'node:util';
import type { Machine } from './results.js';

const run = promisify(execFile);

const firstLine = async (file: string, args: string[]) => {
  const { stdout, stderr } = await run(file, args).catch((error: { stdout?: string; stderr?: string }) => ({
    stdout: error.stdout ?? '',
    stderr: error.stderr ?? '',
  }));
  return (stdout || stderr).split('\n')[0]!.replace(/\s+/g, ' ').trim();
};

/** What the figures depend on: hardware, kernel, filesystem, tool versions, and how busy it was. */
export async function describeMachine(workDir: string, load: Record<string, number>): Promise<Machine> {
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    memoryBytes: totalmem(),
    kernel: release(),
    node: process.version,
    filesystem: await firstLine('findmnt', ['-n', '-o', 'FSTYPE', '--target', workDir]),
    tools: {
      'docker-registry': await firstLine('docker-registry', ['--version']),
      skopeo: await firstLine('skopeo', ['--version']),
      rsync: await firstLine('rsync', ['--version']),
      openssl: await firstLine('openssl', ['version']),
    },
    load,
  };
}
