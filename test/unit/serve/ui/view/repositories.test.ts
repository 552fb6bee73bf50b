import { describe, expect, it } from 'vitest';
import { generationFacts } from '../../../../../src/serve/ui/view/facts.js';
import { attachmentKind, repositoryListModel, repositoryModel } from '../../../../../src/serve/ui/view/repositories.js';
import { digestOf, served } from '../served-repository.js';

const index = digestOf('1');
const amd64 = digestOf('2');
const arm64 = digestOf('3');
const attestation = digestOf('4');
const signature = digestOf('5');
const sbom = digestOf('6');
const hex = index.slice('sha256:'.length);

const repo = served('fedora/toolbox', {
  tags: { '39': index, latest: index, [`sha256-${hex}.sig`]: signature },
  manifests: [
    {
      digest: index,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      size: 700,
      manifests: [amd64, arm64, attestation],
    },
    {
      digest: amd64,
      size: 400,
      platform: { os: 'linux', architecture: 'amd64' },
      blobs: [digestOf('a'), digestOf('c')],
    },
    {
      digest: arm64,
      size: 400,
      platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
      blobs: [digestOf('b'), digestOf('c')],
    },
    { digest: attestation, size: 100, platform: { os: 'unknown', architecture: 'unknown' }, blobs: [] },
    { digest: signature, size: 300, blobs: [digestOf('d')] },
    { digest: sbom, size: 200, blobs: [] },
  ],
  attachments: {
    [index]: [{ digest: signature, kind: 'cosign', tag: `sha256-${hex}.sig` }],
    [amd64]: [{ digest: sbom, kind: 'referrer', artifactType: 'application/spdx+json' }],
  },
  blobs: { [digestOf('a')]: 1000, [digestOf('b')]: 2000, [digestOf('c')]: 50, [digestOf('d')]: 7 },
  history: {
    latest: [
      { digest: digestOf('9'), since: '2026-11-01T00:00:00Z' },
      { digest: index, since: '2026-11-20T00:00:00Z' },
    ],
  },
});

describe('repositoryModel', () => {
  const model = repositoryModel('0000000042', repo, 'registry.example.org:5000');
  const tag = (name: string) => model.tags.find((t) => t.tag === name)!;

  it('lists every tag with its digest, sorted', () => {
    expect(model.tags.map((t) => [t.tag, t.digest])).toEqual([
      ['39', index],
      ['latest', index],
      [`sha256-${hex}.sig`, signature],
    ]);
  });

  it('gives an index its image platforms, its attestations and the size of everything it pulls', () => {
    expect(tag('latest')).toMatchObject({
      kind: 'index',
      platforms: ['linux/amd64', 'linux/arm64/v8'],
      attestations: 1,
    });
    // Manifests 700 + 400 + 400 + 100, distinct blobs 1000 + 2000 + 50.
    expect(tag('latest').bytes).toBe(4650);
    expect(tag(`sha256-${hex}.sig`)).toMatchObject({ kind: 'image', platforms: [], bytes: 307 });
  });

  it("shows the metadata's attachments of a tag's digest and of its index's manifests", () => {
    expect(tag('39').attached).toEqual([
      { digest: signature, kind: 'signature', scheme: 'cosign', tag: `sha256-${hex}.sig`, subject: index },
      { digest: sbom, kind: 'SBOM', scheme: 'referrer', artifactType: 'application/spdx+json', subject: amd64 },
    ]);
    expect(tag(`sha256-${hex}.sig`).attached).toEqual([]);
  });

  it('names an attachment by its cosign suffix, else by its artifact type', () => {
    expect(attachmentKind({ tag: `sha256-${hex}.att` })).toBe('attestation');
    expect(attachmentKind({ artifactType: 'application/vnd.cyclonedx+json' })).toBe('SBOM');
    expect(attachmentKind({ artifactType: 'application/vnd.in-toto+json' })).toBe('attestation');
    expect(attachmentKind({ artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json' })).toBe('signature');
    expect(attachmentKind({ tag: `sha256-${hex}`, artifactType: 'application/x.custom' })).toBe('application/x.custom');
    expect(attachmentKind({})).toBe('artifact');
  });

  it('has a pull line naming the serve host, and the tag history', () => {
    expect(tag('39').pull).toBe('podman pull registry.example.org:5000/fedora/toolbox:39');
    expect(tag('latest').history.map((h) => h.digest)).toEqual([digestOf('9'), index]);
    expect(tag('39').history).toEqual([]);
  });
});

describe('repositoryListModel', () => {
  const facts = generationFacts({ id: '0000000042', createdAt: 'x' }, [
    served('fedora/toolbox', {}),
    served('fedora/fedora-minimal', {}),
    served('centos/toolbox', {}),
  ]).repositoryFacts;

  it('finds repositories by every word of the query, case-insensitively', () => {
    expect(repositoryListModel('0000000042', facts, 'Toolbox').repositories.map((r) => r.name)).toEqual([
      'fedora/toolbox',
      'centos/toolbox',
    ]);
    expect(repositoryListModel('0000000042', facts, 'fedora tool').repositories.map((r) => r.name)).toEqual([
      'fedora/toolbox',
    ]);
  });

  it('an empty query lists all; sizes are given for people too', () => {
    const model = repositoryListModel('0000000042', facts, '  ');
    expect(model).toMatchObject({ total: 3, query: '  ' });
    expect(model.repositories).toHaveLength(3);
    expect(model.repositories[0]!.size).toBe('0 B');
  });
});
