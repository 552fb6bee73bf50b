import { describe, expect, it } from 'vitest';
import { overviewPage } from '../../../../../src/serve/ui/render/overview.js';
import { repositoryPage } from '../../../../../src/serve/ui/render/repositories.js';
import { generationFacts } from '../../../../../src/serve/ui/view/facts.js';
import { overviewModel } from '../../../../../src/serve/ui/view/overview.js';
import { repositoryModel } from '../../../../../src/serve/ui/view/repositories.js';
import { digestOf, served } from '../served-repository.js';

const MARKUP = '<img src=x onerror="alert(1)">';

describe('pages escape what comes from registries and runs', () => {
  it('a failed sync error carrying markup is shown as text, in the alert', () => {
    const page = overviewPage(
      overviewModel({
        now: new Date('2026-11-22T17:00:00Z'),
        facts: generationFacts({ id: '0000000042', createdAt: '2026-11-22T16:00:00Z' }, []),
        runs: {
          sync: {
            formatVersion: 2,
            command: 'sync',
            startedAt: '2026-11-22T16:59:00Z',
            finishedAt: '2026-11-22T16:59:01Z',
            durationMs: 1000,
            result: 'failed',
            error: { code: 'NETWORK', message: MARKUP },
            detail: null,
            failureCount: 1,
            failures: [{ repository: 'a', code: 'X', message: MARKUP }],
            facts: {},
          },
          gc: null,
          verify: null,
          'check-mirror': null,
          crawl: null,
          listen: null,
        },
        listener: null,
      }),
    ).text;
    expect(page).not.toContain('<img');
    expect(page).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;');
    expect(page).toMatch(/<section class="alert" role="alert" data-run="sync">/);
  });

  it('a repository name is escaped everywhere it appears (unit level: names are restricted upstream)', () => {
    const repo = served('fedora/toolbox', { tags: { '1': digestOf('1') }, manifests: [{ digest: digestOf('1') }] });
    const hostile = { ...repo, name: `</title><script>x</script>` };
    const page = repositoryPage(repositoryModel('0000000001', hostile, 'h:1')).text;
    expect(page).not.toContain('<script>x');
    expect(page).toContain('&lt;/title&gt;&lt;script&gt;x&lt;/script&gt;');
  });
});
