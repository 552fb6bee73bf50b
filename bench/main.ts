// `npm run bench [-- --size small|large] [--runs N] [--out DIR]`: see docs/benchmarks.md.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CLI_ARGS, CLI_NODE_FLAGS, PACKAGE_ROOT } from '../test/helpers/cli.js';
import type { BenchSize } from './fixture.js';
import { renderTable, writeResult } from './report.js';
import { runBench } from './run.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: 'large' },
    runs: { type: 'string', default: '3' },
    out: { type: 'string', default: path.join(PACKAGE_ROOT, 'bench/results') },
  },
});
const size = values.size as BenchSize;
const runs = Number(values.runs);
if (size !== 'small' && size !== 'large')
  throw new Error(`--size expects small or large, got ${JSON.stringify(values.size)}`);
if (!Number.isInteger(runs) || runs < 1)
  throw new Error(`--runs expects a whole number of runs, got ${JSON.stringify(values.runs)}`);

const started = Date.now();
const log = (line: string) =>
  process.stderr.write(`bench [${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
const result = await runBench({ size, runs, cli: CLI_ARGS, nodeFlags: CLI_NODE_FLAGS, log });
process.stdout.write(renderTable(result));
log(`wrote ${await writeResult(result, values.out!)}`);
