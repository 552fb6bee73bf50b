// `node scale-floor.js <registry url> <tags per repository> <noop|full>`: the registry's floor for
// the scale fixture in a process of its own (measured by `timed` for its RSS too): the catalog,
// every repository's tag list and a HEAD of every tag, as a no-op sync needs; with `full`, a GET
// of every manifest by digest as well, as a full sync needs. Prints the wall time in ms.
import pLimit from 'p-limit';
import { ACCEPT_ALL_MANIFESTS } from '../test/helpers/registry-client.js';
import { FLOOR_CONCURRENCY } from './floor.js';
import { expectStatus, keepAliveAgent } from './scale-http.js';

const [registryUrl, tagsArg, mode] = process.argv.slice(2);
const tagsPerRepository = Number(tagsArg);
const agent = keepAliveAgent(FLOOR_CONCURRENCY);
const limit = pLimit(FLOOR_CONCURRENCY);
const accept = { accept: ACCEPT_ALL_MANIFESTS };
const started = performance.now();

const repositories: string[] = [];
let requests = 0;
for (let next: string | undefined = '/v2/_catalog?n=1000'; next;) {
  const page = await expectStatus(200, agent, 'GET', new URL(next, registryUrl).href);
  requests++;
  repositories.push(...(JSON.parse(page.body.toString('utf8')) as { repositories: string[] }).repositories);
  next = /<([^>]+)>;\s*rel="next"/.exec(String(page.headers.link ?? ''))?.[1];
}
await Promise.all(
  repositories.map(async (repository) => {
    const list = await limit(() => expectStatus(200, agent, 'GET', `${registryUrl}/v2/${repository}/tags/list`));
    requests++;
    const { tags } = JSON.parse(list.body.toString('utf8')) as { tags: string[] };
    if (tags.length !== tagsPerRepository) throw new Error(`${repository} has ${tags.length} tags`);
    await Promise.all(
      tags.map(async (tag) => {
        const head = await limit(() =>
          expectStatus(200, agent, 'HEAD', `${registryUrl}/v2/${repository}/manifests/${tag}`, { headers: accept }),
        );
        requests++;
        if (mode !== 'full') return;
        const digest = String(head.headers['docker-content-digest']);
        await limit(() =>
          expectStatus(200, agent, 'GET', `${registryUrl}/v2/${repository}/manifests/${digest}`, { headers: accept }),
        );
        requests++;
      }),
    );
  }),
);
agent.destroy();
process.stderr.write(`${repositories.length} repositories, ${requests} requests\n`);
process.stdout.write(`${performance.now() - started}\n`);
