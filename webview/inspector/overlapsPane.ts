// The inspector's "Overlaps" section: the images the inspected one shares
// most patch content with (from the engine's duplicate search), and, when the
// inspector was opened from a duplicate pair, which image its lit cells are
// shared with. Activating a row opens that pair side by side.

import './overlapsPane.css';
import { baseName, formatCount, formatPercent } from '../../src/core/format';
import { displayName, el, replaceChildren } from '../shared/dom';

export interface Overlap {
  readonly searchId: number;
  readonly rank: number;
  /** The other image's dataset path. */
  readonly other: string;
  readonly score: number;
  readonly sharedCells: number;
  readonly identical: boolean;
}

export interface OverlapsEvents {
  /** Opens the pair side by side. */
  onOpen(o: Overlap): void;
  /** Asks for the overlaps (the search can be long on a large database). */
  onFind(): void;
  /** Turns the lit shared cells off. */
  onClearShared(): void;
}

export class OverlapsPane {
  readonly element: HTMLElement;
  private readonly banner = el('div', { class: 'shared-banner', 'data-testid': 'shared-banner', hidden: true });
  private readonly list = el('div', { class: 'overlaps-list', 'data-testid': 'overlaps-list' });

  constructor(private readonly events: OverlapsEvents) {
    this.element = el('div', { class: 'overlaps' }, this.banner, this.list);
  }

  /** Says which image the lit cells are shared with (null: none lit). */
  setShared(shared: { other: string; sharedCells: number; score: number } | null): void {
    if (!shared) {
      this.banner.hidden = true;
      replaceChildren(this.banner);
      return;
    }
    const clear = el('vscode-button', { secondary: true, 'data-testid': 'clear-shared' }, 'Clear');
    clear.addEventListener('click', () => this.events.onClearShared());
    replaceChildren(
      this.banner,
      el('span', { class: 'shared-swatch' }),
      el(
        'span',
        { class: 'shared-text' },
        `${formatCount(shared.sharedCells)} cells (${formatPercent(shared.score)}) shared with `,
        el('strong', { title: displayName(shared.other) }, displayName(baseName(shared.other))),
      ),
      clear,
    );
    this.banner.hidden = false;
  }

  showMessage(text: string, kind: 'info' | 'error' = 'info', offerFind = false): void {
    const children: Node[] = [el('div', { class: `list-message ${kind}`, role: 'status' }, text)];
    if (offerFind) {
      const b = el('vscode-button', { 'data-testid': 'find-overlaps' }, 'Find Overlaps');
      b.addEventListener('click', () => this.events.onFind());
      children.push(b);
    }
    replaceChildren(this.list, ...children);
  }

  show(overlaps: readonly Overlap[]): void {
    if (overlaps.length === 0) {
      this.showMessage('This image shares no patch content with another image of the database.');
      return;
    }
    const rows = overlaps.map((o) => {
      const row = el(
        'div',
        {
          class: 'overlap-row',
          role: 'button',
          tabindex: '0',
          'data-testid': 'overlap-row',
          'data-image': o.other,
          title: `Open side by side with ${displayName(o.other)}`,
        },
        el('span', { class: 'overlap-name' }, displayName(baseName(o.other))),
        el('span', { class: 'overlap-score' }, o.identical ? 'identical file' : `${formatPercent(o.score)} · ${formatCount(o.sharedCells)} cells`),
      );
      const open = () => this.events.onOpen(o);
      row.addEventListener('click', open);
      row.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          open();
        }
      });
      return row;
    });
    replaceChildren(this.list, ...rows);
  }
}
