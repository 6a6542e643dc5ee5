// The DAiD distribution of the last query: p_ret(v) = softmax(-d_v / T) over
// the retrieved token ids (each token's nearest hit), as bars, largest first,
// with the queried patch's true token marked and its rank stated.

import { formatPercent, formatSignificant } from '../../src/core/format';
import { el, replaceChildren } from '../shared/dom';
import { swatch } from './retrievedList';

const SHOWN = 12;

export interface DaidEvents {
  /** A token's bar was clicked: outline the cells with that token. */
  onToken(token: number): void;
}

export class DaidChart {
  readonly element: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly bars: HTMLElement;

  constructor(private readonly events: DaidEvents) {
    this.summary = el('div', { class: 'daid-summary', 'data-testid': 'daid-summary' });
    this.bars = el('div', { class: 'daid-bars' });
    this.element = el('div', { class: 'daid' }, this.summary, this.bars);
    this.clear('Select a patch to see the distribution over the tokens it retrieves.');
  }

  clear(message: string): void {
    replaceChildren(this.summary, message);
    replaceChildren(this.bars);
    delete this.element.dataset.trueRank;
  }

  /** tokens and p sorted by probability, largest first. */
  render(tokens: ArrayLike<number>, p: ArrayLike<number>, trueToken: number, temperature: number): void {
    if (tokens.length === 0) return this.clear('No tokens retrieved.');
    let rank = -1;
    for (let i = 0; i < tokens.length; i++) if (tokens[i] === trueToken) rank = i + 1;
    this.element.dataset.trueRank = String(rank);
    const trueChip = el('span', { class: 'token-chip true' }, swatch(trueToken), String(trueToken));
    replaceChildren(
      this.summary,
      rank > 0
        ? el('span', {}, 'True token ', trueChip, ` is rank ${rank} of ${tokens.length} (p ${formatPercent(p[rank - 1])}).`)
        : el('span', {}, 'True token ', trueChip, ` is not among the ${tokens.length} retrieved tokens.`),
      el('span', { class: 'daid-formula' }, ` softmax(−d / ${formatSignificant(temperature)}) over each token's nearest hit.`),
    );
    const max = p[0] || 1;
    const rows: HTMLElement[] = [];
    const shown = Math.min(SHOWN, tokens.length);
    for (let i = 0; i < shown; i++) rows.push(this.bar(tokens[i], p[i], max, tokens[i] === trueToken, i + 1));
    // The true token is always shown, even below the cut.
    if (rank > shown) rows.push(this.bar(trueToken, p[rank - 1], max, true, rank));
    // The rest: every token not drawn as a bar (the true token, drawn below the cut, is not counted again).
    const restCount = tokens.length - shown - (rank > shown ? 1 : 0);
    if (restCount > 0) {
      let rest = 0;
      for (let i = shown; i < tokens.length; i++) if (i !== rank - 1) rest += p[i];
      rows.push(
        el(
          'div',
          { class: 'daid-more', 'data-testid': 'daid-more', 'data-count': restCount, 'data-p': rest },
          `${restCount} more token${restCount === 1 ? '' : 's'}, ${formatPercent(rest)} together`,
        ),
      );
    }
    replaceChildren(this.bars, ...rows);
  }

  private bar(token: number, p: number, max: number, isTrue: boolean, rank: number): HTMLElement {
    const fill = el('div', { class: 'bar-fill' });
    fill.style.width = `${Math.max(0.5, (p / max) * 100)}%`;
    const row = el(
      'div',
      {
        class: `daid-bar${isTrue ? ' true-token' : ''}`,
        'data-testid': 'daid-bar',
        'data-token': token,
        'data-p': p,
        'data-rank': rank,
        role: 'button',
        tabindex: '0',
        title: `Token ${token}: p = ${formatPercent(p)}${isTrue ? " (the selected patch's true token)" : ''}. Click to outline its cells.`,
      },
      el('span', { class: 'bar-token' }, swatch(token), String(token)),
      el('div', { class: 'bar-track' }, fill),
      el('span', { class: 'bar-p' }, formatPercent(p)),
      isTrue ? el('span', { class: 'true-badge' }, `true · #${rank}`) : null,
    );
    row.addEventListener('click', () => this.events.onToken(token));
    row.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        this.events.onToken(token);
      }
    });
    return row;
  }
}
