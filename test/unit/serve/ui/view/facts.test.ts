import { describe, expect, it } from 'vitest';
import { generationFacts } from '../../../../../src/serve/ui/view/facts.js';
import { digestOf, served } from '../served-repository.js';

describe('generationFacts', () => {
  it('counts a blob shared by two repositories once on disk and twice referenced', () => {
    const shared = digestOf('a');
    const facts = generationFacts({ id: '0000000003', createdAt: '2026-11-22T16:30:00.000Z' }, [
      served('one', { tags: { '1': digestOf('1') }, blobs: { [shared]: 1000, [digestOf('b')]: 10 } }),
      served('two', { tags: { '1': digestOf('2'), '2': digestOf('3') }, blobs: { [shared]: 1000 } }),
    ]);
    expect(facts).toMatchObject({ repositories: 2, tags: 3, blobs: 2 });
    expect(facts.bytes).toEqual({ unique: 1010, referenced: 2010, saved: 1000, ratio: 1.99 });
    expect(facts.repositoryFacts.map((r) => [r.name, r.tags, r.bytes])).toEqual([
      ['one', 1, 1010],
      ['two', 2, 1000],
    ]);
  });

  it('an empty generation has ratio 1', () => {
    expect(generationFacts({ id: '0000000001', createdAt: 'x' }, []).bytes).toEqual({
      unique: 0,
      referenced: 0,
      saved: 0,
      ratio: 1,
    });
  });
});
