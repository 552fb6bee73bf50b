import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { html } from '../../../../src/serve/ui/html.js';

describe('html', () => {
  it('escapes every interpolated string, including inside attributes', () => {
    const name = `<script>alert("x")</script>&'`;
    expect(html`<a title="${name}">${name}</a>`.text).toBe(
      '<a title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</a>',
    );
  });

  it('keeps nested html as markup and escapes strings in arrays', () => {
    const items = ['<b>', 'ok'].map((s) => html`<li>${s}</li>`);
    // prettier-ignore
    expect(html`<ul>${items}${['<i>']}</ul>`.text).toBe('<ul><li>&lt;b&gt;</li><li>ok</li>&lt;i&gt;</ul>');
  });

  it('renders numbers, and nothing for null, undefined and false', () => {
    expect(html`${0}|${null}|${undefined}|${false}|${true}`.text).toBe('0||||true');
  });

  it('no string can open a tag or end an attribute', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        const escaped = html`${value}`.text;
        expect(escaped).not.toMatch(/[<>"']/);
        expect(html`<p title="${value}">${value}</p>`.text).toBe(`<p title="${escaped}">${escaped}</p>`);
      }),
    );
  });
});
