// Typed messages between the extension host and the webviews, imported by
// both sides. One discriminated union per direction and view, a one-line
// comment per message; requests carry a `messageId` and are answered by a
// message with the same number in `inReplyTo`. Binary data travels as typed
// arrays (never Array.from). Every message from a webview is validated on the
// host before it is used.

// ============================================================================
// Codebook view (side panel: webview/codebook, src/extension/sidePanel/codebookView.ts)
// ============================================================================

/** A dataset the codebook view can show. */
export interface CodebookDataset {
  /** Absolute dataset folder. */
  readonly root: string;
  readonly name: string;
  /** Whether it has a patch database. */
  readonly built: boolean;
}

/** The codebook of a dataset's database. */
export interface CodebookData {
  readonly root: string;
  /** Model name. */
  readonly model: string;
  readonly codebookSize: number;
  /** Prototype side in pixels. */
  readonly patch: number;
  /** Usage count per code over every indexed patch position. */
  readonly counts: Uint32Array;
  /** Prototype pixels, codebookSize x patch x patch x RGB (zeros for unused codes). */
  readonly prototypes: Uint8Array;
  readonly images: number;
  /** Images removed or replaced since the prototypes were accumulated (still counted in them). */
  readonly staleImages: number;
  /** Database generation (changes with every build). */
  readonly generation: number;
}

/** An image that uses a token, and where. */
export interface CodebookTokenUse {
  /** '/'-separated path relative to the dataset root. */
  readonly image: string;
  readonly positions: readonly { readonly row: number; readonly col: number }[];
}

export type CodebookToHost =
  /** The view's script has loaded (sent first); `root`: the dataset it showed before. */
  | { readonly type: 'codebook/ready'; readonly root?: string }
  /** Show another dataset's codebook. */
  | { readonly type: 'codebook/selectDataset'; readonly root: string }
  /** Reload the shown codebook. */
  | { readonly type: 'codebook/refresh' }
  /** Request: the images and positions that use `token` (answered by codebook/tokenUsesResult). */
  | { readonly type: 'codebook/tokenUses'; readonly messageId: number; readonly root: string; readonly token: number }
  /** Open an image of a dataset in the inspector at a patch. */
  | { readonly type: 'codebook/openPatch'; readonly root: string; readonly image: string; readonly row: number; readonly col: number }
  /** Build or update a dataset's database. */
  | { readonly type: 'codebook/build'; readonly root: string };

export type CodebookToWebview =
  /** The datasets to choose from and the one shown. */
  | { readonly type: 'codebook/datasets'; readonly datasets: readonly CodebookDataset[]; readonly selected?: string }
  /** The codebook of `root` is being loaded. */
  | { readonly type: 'codebook/loading'; readonly root: string }
  /** The codebook of the selected dataset. */
  | { readonly type: 'codebook/data'; readonly data: CodebookData }
  /** Nothing to show for `root`: no database yet, a first build running, or an error. */
  | { readonly type: 'codebook/empty'; readonly root?: string; readonly reason: 'none' | 'building' | 'error' | 'noDatasets'; readonly message: string }
  /** Answer to codebook/tokenUses: the uses (at most `limit` images, most uses first) or an error. */
  | {
      readonly type: 'codebook/tokenUsesResult';
      readonly inReplyTo: number;
      readonly token: number;
      readonly uses?: readonly CodebookTokenUse[];
      readonly totalImages?: number;
      readonly totalPositions?: number;
      readonly truncated?: boolean;
      readonly error?: string;
    }
  /** Select a token and show its uses (from a palette command or the statistics). */
  | { readonly type: 'codebook/focusToken'; readonly token: number };
