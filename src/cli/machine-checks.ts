import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/load.js';
import { describeError } from '../errors.js';
import { resolveCredentials } from '../registry/credentials.js';

// What sync would trip on before its first request, checked on this machine without contacting
// the registry and without writing anything: secrets it reads, storage it writes, hardlinks.

export interface MachineCheck {
  /** What was checked, naming the config key and the path. */
  what: string;
  ok: boolean;
  /** Why it fails, or what was found; never a secret. */
  detail: string;
}

const ok = (what: string, detail: string): MachineCheck => ({ what, ok: true, detail });
const failed = (what: string, detail: string): MachineCheck => ({ what, ok: false, detail });
const codeOf = (error: unknown) => (error as NodeJS.ErrnoException).code ?? describeError(error);

async function readable(what: string, file: string): Promise<MachineCheck> {
  try {
    await access(file, constants.R_OK);
    return ok(what, 'readable');
  } catch (error) {
    return failed(what, `cannot read it (${codeOf(error)})`);
  }
}

/** The directory itself, or the nearest existing one above it that mkdir would create it in. */
async function nearestExisting(dir: string): Promise<{ dir: string; dev: number; isDirectory: boolean }> {
  for (let at = dir; ; at = path.dirname(at)) {
    try {
      const info = await stat(at);
      return { dir: at, dev: info.dev, isDirectory: info.isDirectory() };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || at === path.dirname(at)) throw error;
    }
  }
}

async function writableDir(key: string, dir: string): Promise<MachineCheck> {
  const what = `${key} ${dir}`;
  try {
    const found = await nearestExisting(dir);
    if (!found.isDirectory) return failed(what, `${found.dir} is not a directory`);
    await access(found.dir, constants.W_OK | constants.X_OK);
    return ok(what, found.dir === dir ? 'writable' : `will be created in ${found.dir} (writable)`);
  } catch (error) {
    return failed(what, `not writable (${codeOf(error)})`);
  }
}

async function sameFilesystem(tree: string, state: string): Promise<MachineCheck> {
  const what = 'storage.tree and storage.state on one filesystem (hardlinks)';
  try {
    const [a, b] = await Promise.all([nearestExisting(tree), nearestExisting(state)]);
    return a.dev === b.dev
      ? ok(what, 'one filesystem')
      : failed(what, `${a.dir} and ${b.dir} are on different filesystems: the store cannot hardlink into the tree`);
  } catch (error) {
    return failed(what, `cannot tell (${codeOf(error)})`);
  }
}

async function sourceChecks(config: Config): Promise<MachineCheck[]> {
  const source = config.source;
  if (source.type === 'oci-layout')
    return [await readable(`source.path ${source.path}/oci-layout`, path.join(source.path, 'oci-layout'))];
  const checks: MachineCheck[] = [];
  const auth = source.auth;
  // Resolving them reads what sync reads: the password file, the environment, a docker config.
  const what = auth?.passwordFile
    ? `source.auth.passwordFile ${auth.passwordFile}`
    : auth?.dockerConfig
      ? `source.auth.dockerConfig ${auth.dockerConfig}`
      : 'source.auth';
  try {
    const credentials = await resolveCredentials(source);
    checks.push(ok(what, credentials ? `credentials for ${credentials.username}` : 'none (anonymous pulls)'));
  } catch (error) {
    // The error names the file again; the key is what the operator edits.
    checks.push(failed(what, describeError(error).replace(/^cannot read .* (\S+)$/, 'cannot read it: $1')));
  }
  for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
    const file = source.tls?.[key];
    if (file) checks.push(await readable(`source.tls.${key} ${file}`, file));
  }
  return checks;
}

export async function checkMachine(config: Config): Promise<MachineCheck[]> {
  const { tree, metadata, state } = config.storage;
  return [
    ...(await sourceChecks(config)),
    await writableDir('storage.tree', tree),
    await writableDir('storage.metadata', metadata),
    await writableDir('storage.state', state),
    await sameFilesystem(tree, state),
  ];
}
