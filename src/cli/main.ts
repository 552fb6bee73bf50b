#!/usr/bin/env -S node --single-threaded-gc --max-semi-space-size=2
// The flags (read by the test helpers and the benchmark too): V8's GC helper threads cost a 2.5 GB
// sync 2-3 s of CPU on 2 cores (scanning the heap each time socket buffers pile up), and a 2 MB
// young generation keeps peak RSS ~20 MB lower; see docs/benchmarks.md.
import { Command, CommanderError } from 'commander';
import { ExitCode, InterruptedError, describeError, errorCode, isBlobmirrorError } from '../errors.js';
import { VERSION } from '../version.js';
import { registerCommands } from './commands.js';

const program = new Command('blobmirror')
  .description(
    "Mirror a distribution's container images through its rsync mirror network.\n\n" +
      'sync pulls the selected repositories from a registry (or an OCI layout), verifies every ' +
      'digest, writes each distinct blob once into a hardlinked tree for `rsync -aH`, and ' +
      'publishes metadata for the mirror-list service. Start with `blobmirror demo`.',
  )
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

await registerCommands(
  program,
  process.argv.slice(2).find((arg) => !arg.startsWith('-')),
);

// `blobmirror sync --json | head` closes stdout early; that is not a failure worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = exitCodeFor(error);
  // An interrupted run has reported and released its lock; sockets or workers it abandoned on
  // purpose must not keep the process alive.
  if (error instanceof InterruptedError) process.exit();
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // --help and --version end with "errors" that are successes.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  // One line, the error's code, never a stack trace for known errors.
  process.stderr.write(`blobmirror: error ${errorCode(error)}: ${describeError(error)}\n`);
  if (!isBlobmirrorError(error) && process.env.BLOBMIRROR_DEBUG) process.stderr.write(`${(error as Error)?.stack}\n`);
  return isBlobmirrorError(error) ? error.exitCode : ExitCode.partial;
}
