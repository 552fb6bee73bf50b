import type { Command } from 'commander';
import { registerCheckConfig } from './check-config.js';
import { registerCheckMirror } from './check-mirror.js';
import { registerDemo } from './demo.js';
import { registerGc } from './gc.js';
import { registerListen } from './listen.js';
import { registerServe } from './serve.js';
import { registerStatus } from './status.js';
import { registerSync } from './sync.js';
import { registerVerify } from './verify.js';

/** Every subcommand, in the order `--help` lists them. One register function per file. */
export function registerCommands(program: Command): void {
  registerSync(program);
  registerServe(program);
  registerListen(program);
  registerGc(program);
  registerVerify(program);
  registerCheckMirror(program);
  registerStatus(program);
  registerDemo(program);
  registerCheckConfig(program);
}
