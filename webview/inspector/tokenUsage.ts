// This image's codebook usage: how many distinct codes its grid uses, the
// perplexity of its token histogram, and its most used tokens (click one to
// outline its cells).

import { perplexity } from '../../src/core/codebookStats';
import { formatCount, formatPercent, formatPerplexity } from '../../src/core/format';
import { el, replaceChildren } from '../shared/dom';
import { swatch } from './retrievedList';

const SHOWN = 10;

export class TokenUsage {
  readonly element: HTMLElement;

  constructor(private readonly onToken: (token: number) => void) {
    this.element = el('div', { class: 'usage', 'data-testid': 'token-usage' });
  }

  clear(): void {
    replaceChildren(this.element);
  }

  render(tokens: Int32Array, codebookSize: number | undefined, highlighted: number | null): void {
    const counts = new Map<number, number>();
    for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
    const n = tokens.length;
    const sorted = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    const max = sorted[0]?.[1] ?? 1;
    this.element.dataset.distinct = String(counts.size);
    const of = codebookSize ? ` of ${formatCount(codebookSize)} codes (${formatPercent(counts.size / codebookSize)})` : ' codes';
    const rows = sorted.slice(0, SHOWN).map(([token, c]) => {
      const fill = el('div', { class: 'bar-fill' });
      fill.style.width = `${(c / max) * 100}%`;
      const row = el(
        'div',
        {
          class: `usage-row${token === highlighted ? ' highlighted' : ''}`,
          role: 'button',
          tabindex: '0',
          'data-token': token,
          title: `Token ${token}: ${formatCount(c)} of ${formatCount(n)} patches. Click to outline them.`,
        },
        el('span', { class: 'bar-token' }, swatch(token), String(token)),
        el('div', { class: 'bar-track' }, fill),
        el('span', { class: 'bar-p' }, formatCount(c)),
      );
      row.addEventListener('click', () => this.onToken(token));
      row.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          this.onToken(token);
        }
      });
      return row;
    });
    replaceChildren(
      this.element,
      el(
        'div',
        { class: 'usage-summary' },
        `${formatCount(counts.size)} distinct${of} in ${formatCount(n)} patches · perplexity ${formatPerplexity(perplexity([...counts.values()]))}`,
      ),
      ...rows,
    );
  }
}
