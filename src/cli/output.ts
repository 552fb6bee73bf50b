import pino, { type Logger } from 'pino';

export interface OutputOptions {
  /** Print the final summary as JSON on stdout. */
  json: boolean;
  /** JSON log lines on stderr (the default when stderr is not a terminal, i.e. cron). */
  jsonLogs: boolean;
  level: 'debug' | 'info' | 'warn' | 'error';
  interactive: boolean;
  /** -q (cron): errors only, on stderr; no summary on stdout. */
  quiet: boolean;
}

export interface Output extends OutputOptions {
  log: Logger;
}

// Credentials can reach a log line only through a mistake; redact the usual fields anyway.
const REDACT = [
  'password',
  'token',
  'authorization',
  '*.password',
  '*.token',
  '*.authorization',
  'headers.authorization',
];

export async function createOutput(options: {
  json?: boolean;
  logFormat?: string;
  verbose?: boolean;
  quiet?: boolean;
}): Promise<Output> {
  const interactive = Boolean(process.stderr.isTTY);
  const jsonLogs = options.logFormat ? options.logFormat === 'json' : !interactive;
  const quiet = Boolean(options.quiet) && !options.verbose;
  const level = options.verbose ? 'debug' : quiet ? 'error' : 'info';
  const base = { level, redact: { paths: REDACT, censor: '[redacted]' } };
  // pino-pretty only for people: cron's JSON lines do not load it.
  const log = jsonLogs
    ? pino(
        { ...base, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
        pino.destination({ fd: 2, sync: true }),
      )
    : pino(
        base,
        (await import('pino-pretty')).default({
          destination: 2,
          sync: true,
          colorize: interactive,
          ignore: 'pid,hostname',
          translateTime: 'HH:MM:ss',
          hideObject: level !== 'debug',
        }),
      );
  return { json: Boolean(options.json), jsonLogs, level, interactive: interactive && !jsonLogs, quiet, log };
}

/** Write a machine-readable result on stdout, one JSON document. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A run's result on stdout: JSON with --json (asked for, so even with -q), text unless -q. */
export function printResult(output: Output, value: unknown, text: () => string): void {
  if (output.json) printJson(value);
  else if (!output.quiet) process.stdout.write(text());
}
