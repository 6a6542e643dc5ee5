// Palette commands that query a patch database: Find Images Using Token…,
// Find Similar Patches, Show Codebook Statistics, Compute Retrieval
// Predictability, Go to Patch…. Results open in a quick pick or the inspector.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { baseName, formatCell, formatCount, formatDistance, formatDuration, formatMean, formatPercent, formatPerplexity, plural } from '../../core/format';
import type { TokenUse } from '../../engine/engineProtocol';
import type { Services } from '../services';
import { readSettings } from '../settings';
import type { CodebookView } from '../sidePanel/codebookView';
import type { DatasetsView } from '../sidePanel/datasetsView';
import type { DatasetInfo, PanelState } from '../sidePanel/panelState';
import { inspectorSelection, openInInspector } from './inspect';
import { isInspectable } from '../inspector/datasetPaths';
import { ambiguity, checkPosition, ImageIndex, parseBarePosition, parsePatchRef, parseTokenId, typedImage, type PatchRef } from './patchRef';
import { pickBuiltDataset } from './pickBuilt';
import { engineTask } from './engineTask';
import { ARCHIVE_SCHEME, imageUri, isArchiveMemberPath } from '../archiveFileSystem';

export interface QueryDeps {
  readonly s: Services;
  readonly state: PanelState;
  readonly codebook: CodebookView;
  readonly datasetsView: DatasetsView;
}

function rootArg(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg && typeof arg === 'object' && 'root' in arg && typeof (arg as { root: unknown }).root === 'string') return (arg as { root: string }).root;
  return undefined;
}

function fileOf(root: string, rel: string): vscode.Uri {
  return vscode.Uri.file(path.join(root, ...rel.split('/')));
}

/** Lists the images that use a token and opens the chosen one in the inspector at the chosen patch. */
async function showTokenUses(root: string, token: number, uses: readonly TokenUse[]): Promise<void> {
  const positions = uses.reduce((n, u) => n + u.positions.length, 0);
  type ImgItem = vscode.QuickPickItem & { use: TokenUse };
  const items: ImgItem[] = uses.map((u) => ({
    label: `$(file-media) ${baseName(u.image)}`,
    description: `${formatCount(u.positions.length)} ${plural(u.positions.length, 'patch')}${u.image.includes('/') ? ` · ${u.image.slice(0, u.image.lastIndexOf('/'))}` : ''}`,
    detail:
      u.positions
        .slice(0, 12)
        .map((p) => formatCell(p.row, p.col))
        .join(' ') + (u.positions.length > 12 ? ` … +${u.positions.length - 12}` : ''),
    use: u,
  }));
  const picked = await vscode.window.showQuickPick(items, {
    title: `Token ${token}: ${formatCount(positions)} ${plural(positions, 'patch')} in ${formatCount(uses.length)} ${plural(uses.length, 'image')}`,
    placeHolder: 'Open an image in the inspector at a patch that uses the token',
    matchOnDescription: true,
  });
  if (!picked) return;
  let pos = picked.use.positions[0];
  if (picked.use.positions.length > 1) {
    const p = await vscode.window.showQuickPick(
      picked.use.positions.map((q) => ({ label: `$(symbol-array) ${formatCell(q.row, q.col)}`, description: `${picked.use.image}:${q.row},${q.col}`, q })),
      { title: `Token ${token} in ${picked.use.image}`, placeHolder: 'Patch to inspect' },
    );
    if (!p) return;
    pos = p.q;
  }
  await openInInspector(fileOf(root, picked.use.image), pos);
}

export async function findImagesUsingToken(d: QueryDeps, arg?: unknown): Promise<void> {
  const a = (arg && typeof arg === 'object' ? arg : {}) as { token?: unknown; root?: unknown };
  const info = await pickBuiltDataset(d.s, d.state, 'Find Images Using Token', rootArg(arg));
  if (!info?.summary) return;
  const K = info.summary.model.codebookSize;
  let token: number | undefined = typeof arg === 'number' ? arg : typeof a.token === 'number' ? a.token : undefined;
  if (token === undefined) {
    const text = await vscode.window.showInputBox({
      title: 'Find Images Using Token',
      prompt: `Token id of ${info.summary.model.name} (0–${K - 1})`,
      placeHolder: 'e.g. 42',
      validateInput: (v) => {
        const r = parseTokenId(v, K);
        return typeof r === 'number' ? undefined : r.error;
      },
    });
    if (text === undefined) return;
    const r = parseTokenId(text, K);
    if (typeof r !== 'number') return;
    token = r;
  }
  if (!Number.isInteger(token) || token < 0 || token >= K) {
    void vscode.window.showErrorMessage(`Patch Lens: token ids go from 0 to ${K - 1}.`);
    return;
  }
  const uses = await d.s.engine.request('tokenUses', { dbDir: info.dbDir, token });
  if (uses.length === 0) {
    void vscode.window.showInformationMessage(`Patch Lens: no indexed image of ${path.basename(info.root)} uses token ${token} (a dead code here).`);
    return;
  }
  await showTokenUses(info.root, token, uses);
}

/** Resolves a typed image against the datasets (and the workspace folders). */
export function resolveImage(d: QueryDeps, image: string): { file: string; root?: string } | undefined {
  const candidates: string[] = [];
  if (path.isAbsolute(image)) candidates.push(image);
  else {
    for (const ds of d.s.datasets.list()) candidates.push(path.join(ds.root, image));
    for (const f of vscode.workspace.workspaceFolders ?? []) candidates.push(path.join(f.uri.fsPath, image));
  }
  // an archive member (…/0.tar/a.jpg) has no file of its own; the engine checks the member
  const file = candidates.find((c) => (fs.existsSync(c) && fs.statSync(c).isFile()) || isArchiveMemberPath(c));
  if (!file) return undefined;
  return { file, root: d.s.datasets.datasetFor(file)?.root };
}

/** The image of the active editor tab, if it is one. */
function activeImage(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input as { uri?: unknown } | undefined;
  const uri = input?.uri instanceof vscode.Uri ? input.uri : undefined;
  return uri && (uri.scheme === 'file' || uri.scheme === ARCHIVE_SCHEME) && isInspectable(uri.fsPath) ? uri : undefined;
}

interface PatchTarget {
  readonly file: string;
  readonly root?: string;
  readonly ref: PatchRef;
}

/** An image of a dataset offered by Go to Patch. */
type ImageItem = vscode.QuickPickItem & { readonly root?: string; readonly rel?: string; readonly rows?: number; readonly cols?: number };

/** At most this many images are listed at once (a dataset can hold 50,000); typing narrows them. */
const LISTED_IMAGES = 200;

/**
 * Asks for a patch: a quick pick of the datasets' images that follows the
 * typing ("chelsea:3,4" narrows to the images whose name begins "chelsea"),
 * then the cell when none was typed. The active image is prefilled, selected,
 * so typing replaces it; a position typed alone ("3,4") means that image.
 */
async function askPatch(d: QueryDeps, title: string, requirePosition: boolean): Promise<PatchTarget | undefined> {
  const active = activeImage();
  const activeDs = active ? d.s.datasets.datasetFor(active.fsPath) : undefined;
  const activeRef = active ? (activeDs ? path.relative(activeDs.root, active.fsPath).split(path.sep).join('/') : active.fsPath) : '';
  const qp = vscode.window.createQuickPick<ImageItem>();
  qp.title = title;
  qp.placeholder = 'Type an image (a name, the start of one, or a path) and :row,col, e.g. cat.png:12,7';
  qp.matchOnDescription = true;
  qp.value = activeRef ? `${activeRef}:` : '';
  qp.busy = true;
  qp.show();
  const datasets = d.s.datasets.list();
  const { images, index } = await datasetImages(d);
  const many = datasets.length > 1;
  const message = (label: string, detail?: string): ImageItem => ({ label, detail, alwaysShow: true });
  // a position typed alone means the image already open
  const withActive = (text: string): string => (activeRef && parseBarePosition(text) ? `${activeRef}:${text.replace(/^\s*:/, '')}` : text);
  const update = (): void => {
    const text = withActive(qp.value);
    const parsed = parsePatchRef(text);
    const pos = 'error' in parsed || parsed.row === undefined ? undefined : { row: parsed.row, col: parsed.col! };
    const typed = typedImage(text);
    const hits = index.match(typed, LISTED_IMAGES);
    const order = hits.resolved !== undefined ? [hits.resolved] : hits.ordered;
    const items = order.map((i): ImageItem => {
      const img = images[i];
      const dir = img.rel.includes('/') ? img.rel.slice(0, img.rel.lastIndexOf('/')) : '';
      const where = [dir, many ? path.basename(img.root) : ''].filter(Boolean).join(' · ');
      return {
        label: `$(file-media) ${baseName(img.rel)}`,
        description: [pos ? formatCell(pos.row, pos.col) : '', where].filter(Boolean).join(' · '),
        alwaysShow: true,
        ...img,
      };
    });
    const outside = pos && items[0]?.rows !== undefined ? checkPosition({ image: typed, ...pos }, items[0].rows, items[0].cols!) : undefined;
    // an image not listed (a member of an archive not indexed yet, a file outside the datasets): its dataset's grid
    const unlisted = !items.length && typed ? resolveImage(d, typed) : undefined;
    const grid = unlisted?.root !== undefined ? grids.get(unlisted.root) : undefined;
    const unlistedOutside = pos && grid ? checkPosition({ image: typed, ...pos }, grid.rows, grid.cols) : undefined;
    if (!typed) qp.items = items;
    else if (outside && items.length === 1) qp.items = [message(`$(error) ${outside}`)];
    else if (items.length) qp.items = items;
    else if (unlistedOutside) qp.items = [message(`$(error) ${unlistedOutside}`)];
    else if (unlisted) qp.items = [message(`$(file-media) ${typed}`, pos ? formatCell(pos.row, pos.col) : undefined)];
    else
      qp.items = [
        message(
          `$(warning) No image in the datasets matches “${typed}”`,
          datasets.length ? undefined : 'Add a dataset folder first (Patch Lens: Add Dataset Folder…)',
        ),
      ];
    qp.title =
      hits.resolved === undefined && hits.prefixCount > 1
        ? `${title}: ${ambiguity(
            typed,
            order.slice(0, Math.min(5, hits.prefixCount)).map((i) => images[i].rel),
            5,
            hits.prefixCount,
            hits.atLeast,
          )}`
        : title;
  };
  const grids = new Map<string, { rows: number; cols: number }>();
  for (const i of images) if (i.rows !== undefined && !grids.has(i.root)) grids.set(i.root, { rows: i.rows, cols: i.cols! });
  const unlistedGrid = (typed: string) => {
    const root = typed ? resolveImage(d, typed)?.root : undefined;
    return root !== undefined ? grids.get(root) : undefined;
  };
  update();
  qp.busy = false;
  const changed = qp.onDidChangeValue(update);
  const picked = await new Promise<{ item?: ImageItem; value: string } | undefined>((resolve) => {
    qp.onDidAccept(() => {
      // Enter can arrive before the list follows the last keystroke: a typed name that resolves to one image wins over
      // the row still highlighted (a message, or an image of the shorter text)
      const typed = typedImage(withActive(qp.value));
      const resolved = typed ? index.match(typed, 0).resolved : undefined;
      const item: ImageItem | undefined =
        resolved !== undefined ? { label: `$(file-media) ${baseName(images[resolved].rel)}`, ...images[resolved] } : qp.activeItems[0];
      if (item && !item.rel && !item.label.startsWith('$(file-media)')) return; // a message, not an image: keep the picker open
      const typedRef = parsePatchRef(withActive(qp.value));
      const g = item?.rows !== undefined ? { rows: item.rows, cols: item.cols! } : unlistedGrid(typedImage(withActive(qp.value)));
      const outside = g && !('error' in typedRef) ? checkPosition(typedRef, g.rows, g.cols) : undefined;
      if (outside) {
        qp.items = [message(`$(error) ${outside}`)];
        return;
      }
      resolve({ item, value: qp.value });
      qp.hide();
    });
    qp.onDidHide(() => resolve(undefined));
  });
  changed.dispose();
  qp.dispose();
  if (!picked) return undefined;
  const text = withActive(picked.value);
  const parsed = parsePatchRef(text);
  const file = picked.item?.rel !== undefined ? path.join(picked.item.root!, ...picked.item.rel.split('/')) : resolveImage(d, typedImage(text))?.file;
  if (!file) return undefined;
  const root = picked.item?.root ?? d.s.datasets.datasetFor(file)?.root;
  const ref: PatchRef = { image: picked.item?.rel ?? typedImage(text), ...('error' in parsed ? {} : { row: parsed.row, col: parsed.col }) };
  if (ref.row !== undefined) return { file, root, ref };
  return askCell(d, title, file, root, requirePosition);
}

type DatasetImage = { root: string; rel: string; rows?: number; cols?: number };

/** The last index made, kept while the datasets' listings are the same objects (PanelState caches them until a change). */
let lastIndex: { infos: readonly (DatasetInfo | undefined)[]; images: DatasetImage[]; index: ImageIndex } | undefined;

/**
 * Every listed image of the datasets and every archive member their databases hold (by member id), with the grid size
 * of the database, indexed for matching as the user types.
 */
async function datasetImages(d: QueryDeps): Promise<{ images: DatasetImage[]; index: ImageIndex }> {
  const infos = await Promise.all(d.s.datasets.list().map((ds) => d.state.info(ds.root).catch(() => undefined)));
  if (lastIndex && lastIndex.infos.length === infos.length && lastIndex.infos.every((info, i) => info === infos[i])) return lastIndex;
  const images: DatasetImage[] = [];
  for (const info of infos) {
    if (!info) continue;
    const grid = { rows: info.summary?.model.rows, cols: info.summary?.model.cols };
    for (const e of info.entries) images.push({ root: info.root, rel: e.rel, ...grid });
    for (const a of info.archives) for (const id of a.indexed.keys()) images.push({ root: info.root, rel: id, ...grid });
  }
  lastIndex = { infos, images, index: await ImageIndex.build(images.map((i) => i.rel)) };
  return lastIndex;
}

/** The image of the datasets a typed name begins, or a sentence naming the candidates when several do. */
async function imageByPrefix(d: QueryDeps, typed: string): Promise<{ file: string; root: string } | string | undefined> {
  const { images, index } = await datasetImages(d);
  const hits = index.match(typed, 5);
  if (hits.resolved !== undefined) {
    const img = images[hits.resolved];
    return { file: path.join(img.root, ...img.rel.split('/')), root: img.root };
  }
  return hits.prefixCount > 1
    ? ambiguity(
        typed,
        hits.ordered.slice(0, Math.min(5, hits.prefixCount)).map((i) => images[i].rel),
        5,
        hits.prefixCount,
        hits.atLeast,
      )
    : undefined;
}

/** The second step of askPatch: the cell of the chosen image (Enter alone opens it unselected, unless a cell is required). */
async function askCell(d: QueryDeps, title: string, file: string, root: string | undefined, required: boolean): Promise<PatchTarget | undefined> {
  const summary = root ? (await d.state.info(root).catch(() => undefined))?.summary : undefined;
  const grid = summary ? ` (rows 0–${summary.model.rows - 1}, columns 0–${summary.model.cols - 1})` : '';
  const check = (v: string): string | undefined => {
    if (!v.trim()) return required ? 'Give the patch as row,col, e.g. 12,7' : undefined;
    const pos = parseBarePosition(v);
    if (!pos) return 'Give the patch as row,col, e.g. 12,7';
    return summary ? checkPosition({ image: file, ...pos }, summary.model.rows, summary.model.cols) : undefined;
  };
  const text = await vscode.window.showInputBox({
    title: `${title}: ${path.basename(file)}`,
    prompt: `Row and column of the token grid, from 0${grid}${required ? '' : '; Enter alone opens the image'}`,
    placeHolder: 'row,col, e.g. 12,7',
    validateInput: check,
  });
  if (text === undefined || check(text)) return undefined;
  const pos = parseBarePosition(text);
  return { file, root, ref: { image: file, ...(pos ?? {}) } };
}

export async function goToPatch(d: QueryDeps, arg?: unknown): Promise<void> {
  let target: { file: string; root?: string; ref: PatchRef } | undefined;
  if (typeof arg === 'string') {
    const ref = parsePatchRef(arg);
    if ('error' in ref) {
      void vscode.window.showErrorMessage(`Patch Lens: cannot go to ${arg}: ${ref.error}`);
      return;
    }
    const hit = resolveImage(d, ref.image) ?? (await imageByPrefix(d, ref.image));
    if (typeof hit === 'string' || !hit) {
      void vscode.window.showErrorMessage(`Patch Lens: cannot go to ${arg}: ${hit ?? 'no such image in the datasets'}`);
      return;
    }
    target = { ...hit, ref };
  } else {
    target = await askPatch(d, 'Go to Patch', false);
  }
  if (!target) return;
  const { ref } = target;
  if (target.root) void d.datasetsView.revealImage(target.root, path.relative(target.root, target.file).split(path.sep).join('/'));
  await openInInspector(imageUri(target.file), ref.row !== undefined && ref.col !== undefined ? { row: ref.row, col: ref.col } : undefined);
}

export async function findSimilarPatches(d: QueryDeps, uriArg?: unknown, posArg?: unknown): Promise<void> {
  let file: string | undefined;
  let row: number | undefined;
  let col: number | undefined;
  const pos = posArg as { row?: unknown; col?: unknown } | undefined;
  if (uriArg instanceof vscode.Uri && pos && typeof pos.row === 'number' && typeof pos.col === 'number') {
    file = uriArg.fsPath;
    row = pos.row;
    col = pos.col;
  } else {
    const sel = await inspectorSelection();
    if (sel) {
      file = sel.uri.fsPath;
      row = sel.row;
      col = sel.col;
    } else {
      const asked = await askPatch(d, 'Find Similar Patches', true);
      if (!asked) return;
      file = asked.file;
      row = asked.ref.row;
      col = asked.ref.col;
    }
  }
  if (file === undefined || row === undefined || col === undefined) return;
  const info = await pickBuiltDataset(d.s, d.state, 'Find Similar Patches', d.s.datasets.datasetFor(file)?.root);
  if (!info?.summary) return;
  const settings = readSettings(vscode.Uri.file(info.root));
  const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Patch Lens: searching' }, () =>
    d.s.engine.request('query', {
      dbDir: info.dbDir,
      image: file!,
      row: row!,
      col: col!,
      options: { k: settings.topK, excludeSelf: settings.excludeSelf, queryKeys: settings.queryKeys, temperature: settings.temperature },
    }),
  );
  type Item = vscode.QuickPickItem & { open?: { image: string; row: number; col: number }; token?: number };
  const items: Item[] = [{ label: `Nearest ${result.results.length} ${plural(result.results.length, 'patch')}`, kind: vscode.QuickPickItemKind.Separator }];
  for (const r of result.results) {
    items.push({
      label: `$(symbol-array) ${baseName(r.image)} ${formatCell(r.row, r.col)}`,
      description: `token ${r.token} · distance ${formatDistance(r.distance)}`,
      detail: r.image.includes('/') ? r.image : undefined,
      open: { image: r.image, row: r.row, col: r.col },
    });
  }
  if (result.distribution.length) {
    items.push({ label: 'DAiD distribution over tokens', kind: vscode.QuickPickItemKind.Separator });
    for (const t of result.distribution.slice(0, 10)) {
      items.push({
        label: `$(symbol-numeric) token ${t.token}`,
        description: `p = ${formatPercent(t.p)}${t.token === result.query.token ? " · the patch's own token" : ''}`,
        token: t.token,
      });
    }
  }
  const picked = await vscode.window.showQuickPick(items, {
    title: `Patches like ${path.basename(file)} ${formatCell(row, col)} · token ${result.query.token}`,
    placeHolder: `Inspect a patch, or list a token's images (k=${settings.topK}${settings.excludeSelf ? ', own image excluded' : ''}, ${settings.queryKeys} keys)`,
    matchOnDescription: true,
  });
  if (picked?.open) await openInInspector(fileOf(info.root, picked.open.image), { row: picked.open.row, col: picked.open.col });
  else if (picked?.token !== undefined) await findImagesUsingToken(d, { root: info.root, token: picked.token });
}

export async function showCodebookStats(d: QueryDeps, arg?: unknown): Promise<void> {
  const info = await pickBuiltDataset(d.s, d.state, 'Codebook Statistics', rootArg(arg));
  if (!info?.summary) return;
  const st = await d.s.engine.request('stats', { dbDir: info.dbDir }, { timeoutMs: 5 * 60_000 });
  const c = st.codebook;
  type Item = vscode.QuickPickItem & { token?: number; action?: 'view' | 'predict' };
  const items: Item[] = [
    {
      label: `$(symbol-color) ${formatCount(c.usedCodes)} of ${formatCount(c.codebookSize)} codes used`,
      description: `${formatPercent(c.usageFraction)} of the codebook`,
    },
    { label: `$(circle-slash) ${formatCount(c.deadCodes)} dead ${plural(c.deadCodes, 'code')}`, description: 'never the nearest code of an indexed patch' },
    { label: `$(pulse) perplexity ${formatPerplexity(c.perplexity)}`, description: 'exp(entropy) of token usage, in codes' },
    {
      label: `$(file-media) ${formatCount(c.tokens)} tokens in ${formatCount(c.images)} ${plural(c.images, 'image')}`,
      description: `${formatMean(c.meanDistinctTokensPerImage)} distinct tokens per image on average`,
    },
  ];
  const pred = d.state.predictability(info.dbDir, info.summary.generation);
  items.push(
    pred
      ? {
          label: `$(beaker) predictability: top-1 ${formatPercent(pred.top1)} · top-5 ${formatPercent(pred.top5)}`,
          description: `${pred.mostFrequent === undefined ? '' : `most frequent token ${formatPercent(pred.mostFrequent)}, chance ${formatPercent(pred.chance ?? 0)}; `}true token retrieved at all (coverage) ${formatPercent(pred.coverage)}, ${formatCount(pred.queries)} queries — compute again`,
          action: 'predict',
        }
      : { label: '$(beaker) Compute Retrieval Predictability…', description: 'how often retrieval predicts held-out tokens', action: 'predict' },
  );
  items.push({ label: '$(list-ordered) Open the Codebook view', action: 'view' });
  if (c.topCodes.length) items.push({ label: 'Most used codes', kind: vscode.QuickPickItemKind.Separator });
  for (const t of c.topCodes)
    items.push({
      label: `$(symbol-numeric) token ${t.token}`,
      description: `${formatCount(t.count)} uses · ${formatPercent(t.count / Math.max(1, c.tokens))}`,
      token: t.token,
    });
  const picked = await vscode.window.showQuickPick(items, {
    title: `Codebook of ${path.basename(info.root)} (${st.model.name})`,
    placeHolder: 'Pick a code to list the images that use it',
  });
  if (!picked) return;
  if (picked.token !== undefined) await findImagesUsingToken(d, { root: info.root, token: picked.token });
  else if (picked.action === 'view') await d.codebook.focusToken(c.topCodes[0]?.token ?? 0, info.root);
  else if (picked.action === 'predict') await computePredictability(d, info.root);
}

export async function computePredictability(d: QueryDeps, arg?: unknown): Promise<void> {
  const info = await pickBuiltDataset(d.s, d.state, 'Compute Retrieval Predictability', rootArg(arg));
  if (!info?.summary) return;
  if (info.summary.images < 2) {
    void vscode.window.showWarningMessage('Patch Lens: retrieval predictability needs at least two indexed images (one is held out, the others answer).');
    return;
  }
  const n = info.summary.images;
  const fractions = [0.1, 0.05, 0.25];
  const pickedF = await vscode.window.showQuickPick(
    fractions.map((f, i) => ({
      label: `${formatPercent(f)} of the images held out`,
      description: `${formatCount(Math.max(1, Math.round(n * f)))} of ${formatCount(n)}${i === 0 ? ' · recommended' : ''}`,
      f,
    })),
    { title: 'Compute Retrieval Predictability', placeHolder: 'Held-out images are queried against the others (at most 2,000 patches, seed 0, k=64)' },
  );
  if (!pickedF) return;
  const name = path.basename(info.root);
  const started = Date.now();
  try {
    const st = await engineTask(
      d.s.engine,
      `Patch Lens: computing retrieval predictability of ${name}`,
      'stats',
      { dbDir: info.dbDir, predictability: { fraction: pickedF.f, seed: 0, k: 64, maxQueries: 2000 } },
      (done, total) => `${formatCount(done)} of ${formatCount(total)} patches`,
    );
    const p = st.predictability!;
    await d.state.setPredictability(info.dbDir, { ...p, fraction: pickedF.f, generation: st.generation, computedAt: new Date().toISOString() });
    d.s.log.info(
      `Predictability of ${info.root}: top-1 ${formatPercent(p.top1)}, top-5 ${formatPercent(p.top5)}, coverage ${formatPercent(p.coverage)}, baselines most frequent token ${p.mostFrequentToken} ${formatPercent(p.mostFrequent)} and chance ${formatPercent(p.chance)} over ${formatCount(p.queries)} queries of ${formatCount(p.heldOutImages)} held-out images (k=${p.k}, seed ${p.seed}) in ${formatDuration(Date.now() - started)}`,
    );
    const c = await vscode.window.showInformationMessage(
      `Patch Lens: ${name}: retrieval predicts the held-out token first in ${formatPercent(p.top1)} of ${formatCount(p.queries)} patches, against ${formatPercent(p.mostFrequent)} for always guessing the most frequent token and ${formatPercent(p.chance)} by chance (top-5 ${formatPercent(p.top5)}; the true token is retrieved at all in ${formatPercent(p.coverage)}).`,
      'Show Index',
    );
    if (c) await vscode.commands.executeCommand('patchlens.index.focus');
  } catch (e) {
    if ((e as Error).name === 'PredictabilityCancelledError') return;
    void vscode.window.showErrorMessage(`Patch Lens: predictability of ${name} failed: ${(e as Error).message}`);
  }
}
