import { describe, expect, it } from 'vitest';
import {
  bodhiRepository,
  decide,
  parseNvr,
  type BusMessage,
  type MessageContext,
} from '../../../src/listen/messages.js';
import { taggedPushes } from '../../../src/listen/registry-events.js';
import { isRepositorySelected } from '../../../src/sync/select.js';

const context: MessageContext = {
  isSelected: (name) =>
    isRepositorySelected({ include: ['fedora/**', 'toolbox'], exclude: ['fedora/*-candidate'] }, name),
  bodhi: { repositories: { 'fedora-toolbox': 'toolbox' }, template: 'fedora/{name}' },
};

const message = (routingKey: string, body: unknown, schema?: string): BusMessage => ({
  routingKey,
  schema,
  body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
});

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

describe('fedora_image_uploader.published.v1.container', () => {
  const body = {
    repository: 'fedora/fedora',
    tags: ['41', 'latest'],
    architectures: ['amd64'],
    registries: ['quay.io'],
    release: 41,
    compose_id: 'x',
  };

  it('triggers the named repository with its tags, prefix and suffixes in the topic allowed', () => {
    for (const key of [
      'org.fedoraproject.prod.fedora_image_uploader.published.v1.container',
      'org.fedoraproject.stg.fedora_image_uploader.published.v1.container.fedora.41',
      'fedora_image_uploader.published.v1.container',
    ]) {
      expect(decide(message(key, body), context)).toEqual({
        kind: 'trigger',
        handler: 'image-uploader',
        targets: [{ repository: 'fedora/fedora', tags: ['41', 'latest'] }],
        ignored: [],
      });
    }
  });

  it('is recognised by its schema header on any routing key', () => {
    expect(
      decide(message('some.bridge.key', body, 'fedora_image_uploader.published.v1.container'), context),
    ).toMatchObject({ kind: 'trigger', handler: 'image-uploader' });
  });

  it('an unselected repository is ignored, with the reason', () => {
    expect(
      decide(
        message('org.fedoraproject.prod.fedora_image_uploader.published.v1.container', {
          ...body,
          repository: 'fedora/x-candidate',
        }),
        context,
      ),
    ).toEqual({
      kind: 'ignored',
      handler: 'image-uploader',
      reason: 'fedora/x-candidate: not selected by repositories.include/exclude',
    });
  });

  it('a missing or invalid repository or tag is invalid', () => {
    const key = 'org.fedoraproject.prod.fedora_image_uploader.published.v1.container';
    expect(decide(message(key, { tags: [] }), context)).toMatchObject({
      kind: 'invalid',
      reason: expect.stringContaining('repository'),
    });
    expect(decide(message(key, { repository: 'Fedora/UPPER', tags: [] }), context)).toMatchObject({
      kind: 'invalid',
      reason: expect.stringContaining('not a repository name'),
    });
    expect(decide(message(key, { repository: 'fedora/fedora', tags: ['bad tag'] }), context)).toMatchObject({
      kind: 'invalid',
      reason: expect.stringContaining('not a tag'),
    });
    expect(decide(message(key, { repository: 'fedora/fedora', tags: 'latest' }), context)).toMatchObject({
      kind: 'invalid',
    });
  });
});

describe('bodhi.update.complete.stable', () => {
  const key = 'org.fedoraproject.prod.bodhi.update.complete.stable';
  const update = (content_type: string, nvrs: string[]) => ({
    update: {
      content_type,
      alias: 'FEDORA-2026-1',
      status: 'stable',
      builds: nvrs.map((nvr) => ({ nvr, type: content_type, signed: true })),
      release: { name: 'F41' },
    },
    agent: 'bodhi',
  });

  it('maps container builds to repositories (mapping first, then template) with the tags Bodhi pushes', () => {
    expect(decide(message(key, update('container', ['fedora-toolbox-41-3', 'httpd-2.4.62-1.fc41'])), context)).toEqual({
      kind: 'trigger',
      handler: 'bodhi',
      targets: [
        { repository: 'toolbox', tags: ['41-3', '41', 'latest'] },
        { repository: 'fedora/httpd', tags: ['2.4.62-1.fc41', '2.4.62', 'latest'] },
      ],
      ignored: [],
    });
  });

  it('non-container updates are ignored', () => {
    expect(decide(message(key, update('rpm', ['bash-5.2-1.fc41'])), context)).toEqual({
      kind: 'ignored',
      handler: 'bodhi',
      reason: 'update content_type "rpm" is not container',
    });
  });

  it('builds without a repository are noted; all unmapped means ignored', () => {
    const noTemplate = { ...context, bodhi: { repositories: { 'fedora-toolbox': 'toolbox' } } };
    expect(decide(message(key, update('container', ['fedora-toolbox-41-3', 'other-1-1'])), noTemplate)).toEqual({
      kind: 'trigger',
      handler: 'bodhi',
      targets: [{ repository: 'toolbox', tags: ['41-3', '41', 'latest'] }],
      ignored: ['build other-1-1: no repository for NVR name "other"'],
    });
    expect(decide(message(key, update('container', ['other-1-1'])), noTemplate)).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('no repository'),
    });
  });

  it('a malformed NVR or update is invalid', () => {
    expect(decide(message(key, update('container', ['nodashes'])), context)).toMatchObject({
      kind: 'invalid',
      reason: expect.stringContaining('name-version-release'),
    });
    expect(decide(message(key, { agent: 'x' }), context)).toMatchObject({
      kind: 'invalid',
      reason: expect.stringContaining('update'),
    });
  });

  it('parseNvr keeps dashes in the name; bodhiRepository refuses names that are not repositories', () => {
    expect(parseNvr('fedora-toolbox-41-3')).toEqual({ name: 'fedora-toolbox', version: '41', release: '3' });
    expect(bodhiRepository('Upper', { repositories: {}, template: 'fedora/{name}' })).toBeUndefined();
    expect(bodhiRepository('constructor', { repositories: {} })).toBeUndefined();
  });
});

describe('registry notifications', () => {
  const envelope = {
    events: [
      {
        id: '1',
        action: 'push',
        target: { mediaType: 'application/octet-stream', digest: 'sha256:a', repository: 'fedora/a' },
      },
      {
        id: '2',
        action: 'push',
        target: { mediaType: OCI_INDEX, digest: 'sha256:b', repository: 'fedora/a', tag: '1.0' },
      },
      {
        id: '3',
        action: 'push',
        target: { mediaType: OCI_INDEX, digest: 'sha256:b', repository: 'fedora/a', tag: '1.0' },
      },
      { id: '4', action: 'pull', target: { mediaType: OCI_INDEX, repository: 'fedora/b', tag: 'x' } },
      { id: '5', action: 'delete', target: { digest: 'sha256:c', repository: 'fedora/c' } },
      {
        id: '6',
        action: 'push',
        target: {
          mediaType: 'application/vnd.docker.distribution.manifest.v2+json; charset=utf-8',
          repository: 'other/z',
          tag: 'latest',
        },
      },
    ],
  };

  it('taggedPushes keeps tagged manifest pushes, deduplicated', () => {
    expect(taggedPushes(envelope)).toEqual({
      ok: true,
      pushes: [
        { repository: 'fedora/a', tag: '1.0' },
        { repository: 'other/z', tag: 'latest' },
      ],
      skipped: 3,
    });
    expect(taggedPushes({ events: 'no' })).toMatchObject({ ok: false });
    expect(
      taggedPushes({ events: [{ action: 'push', target: { mediaType: OCI_INDEX, repository: '../x', tag: '1' } }] }),
    ).toMatchObject({ ok: false });
  });

  it('an envelope forwarded over the bus triggers its selected repositories', () => {
    expect(decide(message('org.fedoraproject.prod.registry.notification', envelope), context)).toEqual({
      kind: 'trigger',
      handler: 'registry-notification',
      targets: [{ repository: 'fedora/a', tags: ['1.0'] }],
      ignored: ['other/z: not selected by repositories.include/exclude'],
    });
    expect(decide(message('x', { events: [envelope.events[3]] }), context)).toEqual({
      kind: 'ignored',
      handler: 'registry-notification',
      reason: 'no tagged manifest push among 1 events',
    });
  });
});

describe('generic bodies, malformed and unknown messages', () => {
  it('repository or repositories, merged per repository', () => {
    expect(
      decide(
        message('org.fedoraproject.prod.blobmirror.sync', {
          repositories: ['fedora/a', 'fedora/b'],
          repository: 'fedora/a',
          tags: ['1'],
        }),
        context,
      ),
    ).toEqual({
      kind: 'trigger',
      handler: 'generic',
      targets: [
        { repository: 'fedora/a', tags: ['1'] },
        { repository: 'fedora/b', tags: ['1'] },
      ],
      ignored: [],
    });
  });

  it('not JSON, not an object, unknown schema: invalid with a reason, never a throw', () => {
    expect(decide(message('k', '{nope'), context)).toEqual({ kind: 'invalid', reason: 'body is not JSON' });
    expect(decide(message('k', [1, 2]), context)).toEqual({ kind: 'invalid', reason: 'body is not a JSON object' });
    expect(decide(message('k', 'null'), context)).toEqual({ kind: 'invalid', reason: 'body is not a JSON object' });
    expect(
      decide(message('org.fedoraproject.prod.koji.build.tag', { build_id: 1 }, 'koji.build.tag.v1'), context),
    ).toEqual({
      kind: 'invalid',
      reason: 'unknown schema (routing key org.fedoraproject.prod.koji.build.tag, schema koji.build.tag.v1)',
    });
    expect(decide({ routingKey: 'k', body: Buffer.from([0xff, 0xfe, 0x00]) }, context)).toMatchObject({
      kind: 'invalid',
    });
    expect(decide(message('k', { repositories: 'fedora/a' }), context)).toMatchObject({ kind: 'invalid' });
  });
});
