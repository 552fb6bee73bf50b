import type { Command } from 'commander';

type Register = (program: Command) => void;

// Every subcommand, in the order `--help` lists them, loaded on demand: a run of one command
// does not pay the memory and start-up time of every other command's dependencies.
const COMMANDS: Record<string, () => Promise<Register>> = {
  sync: async () => (await import('./sync.js')).registerSync,
  serve: async () => (await import('./serve.js')).registerServe,
  listen: async () => (await import('./listen.js')).registerListen,
  crawl: async () => (await import('./crawl.js')).registerCrawl,
  gc: async () => (await import('./gc.js')).registerGc,
  verify: async () => (await import('./verify.js')).registerVerify,
  'check-mirror': async () => (await import('./check-mirror.js')).registerCheckMirror,
  status: async () => (await import('./status.js')).registerStatus,
  demo: async () => (await import('./demo.js')).registerDemo,
  'check-config': async () => (await import('./check-config.js')).registerCheckConfig,
};

/** Register only `invoked` when it is a known command; every command otherwise (help, typos). */
export async function registerCommands(program: Command, invoked: string | undefined): Promise<void> {
  const names = invoked !== undefined && Object.hasOwn(COMMANDS, invoked) ? [invoked] : Object.keys(COMMANDS);
  for (const name of names) (await COMMANDS[name]!())(program);
}
