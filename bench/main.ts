// `npm run bench [-- --size small|large|scale] [--runs N] [--out DIR]`, with `--size scale` also
// `[--repositories N] [--tags N]`: see docs/benchmarks.md.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CLI_ARGS, CLI_NODE_FLAGS, PACKAGE_ROOT } from '../test/helpers/cli.js';
import type { BenchSize } from './fixture.js';
import { renderTable, writeResult } from './report.js';
import { runBench } from './run.js';
import { renderScaleTable } from './scale-report.js';
import { runScaleBench } from './scale.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: 'large' },
    runs: { type: 'string', default: '3' },
    out: { type: 'string', default: path.join(PACKAGE_ROOT, 'bench/results') },
    repositories: { type: 'string', default: '10000' },
    tags: { type: 'string', default: '10' },
  },
});
const size = values.size as BenchSize | 'scale';
const whole = (name: string, value: string | undefined) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} expects a whole number, got ${JSON.stringify(value)}`);
  return n;
};
const runs = whole('runs', values.runs);
if (size !== 'small' && size !== 'large' && size !== 'scale')
  throw new Error(`--size expects small, large or scale, got ${JSON.stringify(values.size)}`);

const started = Date.now();
const log = (line: string) =>
  process.stderr.write(`bench [${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
const harness = { cli: CLI_ARGS, nodeFlags: CLI_NODE_FLAGS, log };
if (size === 'scale') {
  const result = await runScaleBench({
    repositories: whole('repositories', values.repositories),
    tagsPerRepository: whole('tags', values.tags),
    runs,
    ...harness,
  });
  process.stdout.write(renderScaleTable(result));
  log(`wrote ${await writeResult(result, values.out!)}`);
} else {
  const result = await runBench({ size, runs, ...harness });
  process.stdout.write(renderTable(result));
  log(`wrote ${await writeResult(result, values.out!)}`);
}
