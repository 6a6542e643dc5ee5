// The Index view as data: per dataset, what its patch database holds (model,
// key parameters, index, entries, images, size, last build, retrieval
// predictability) and what needs attention (settings that need a rebuild, a
// running build, the model or database setting ignored in Restricted Mode, a
// store that refuses the credentials or cannot be reached).
// Pure: no `vscode` import.

import type { DbSummary } from '../../engine/engineProtocol';
import type { KeyParams } from '../../core/neighbourhood';
import { formatBytes, formatCount, formatDuration, formatGrid, formatMean, formatPercent } from '../../core/format';
import { formatAgo, oneLine } from './datasetTreeModel';
import { arragLoss, knobText, type FidelityReport } from '../../engine/fidelity';
import { isObjectStoreUri, shownUri } from '../../core/databaseUri';
import { storeProblem } from '../storeProblem';

export interface IndexRow {
  readonly id: string;
  readonly label: string;
  readonly description?: string;
  readonly tooltip?: string;
  /** Codicon id and optional theme colour id. */
  readonly icon: string;
  readonly color?: string;
  readonly command?: { readonly command: string; readonly title: string; readonly args?: readonly unknown[] };
  /** Rows shown under this one (collapsed), for detail a sidebar-wide row cannot hold. */
  readonly children?: readonly IndexRow[];
}

export interface ModelSetting {
  readonly manifestPath: string;
  /** The manifest's `name`, when it could be read. */
  readonly name?: string;
  readonly origin: 'bundled' | 'user' | 'workspace';
  readonly ignoredWorkspaceModel?: string;
}

export interface IndexInput {
  readonly root: string;
  /** The database patchlens.databases names for the dataset (none: the default location). */
  readonly database?: { readonly location: string; readonly origin: 'user' | 'workspace' };
  /** The workspace's patchlens.databases entry, ignored in an untrusted workspace. */
  readonly ignoredDatabase?: string;
  readonly summary: DbSummary | null;
  readonly error?: string;
  /** Images on disk the database does not hold yet, and changed ones. */
  readonly pending?: { readonly new: number; readonly changed: number };
  readonly building?: { readonly phase: string; readonly done: number; readonly total: number };
  readonly predictability?: {
    readonly top1: number;
    readonly top5: number;
    readonly coverage: number;
    readonly queries: number;
    readonly heldOutImages: number;
    readonly k: number;
    readonly fraction: number;
    readonly seed: number;
    readonly computedAt: string;
    /** The baselines (absent in results stored before they were computed). */
    readonly mostFrequent?: number;
    readonly mostFrequentToken?: number;
    readonly chance?: number;
  };
  readonly rollout?: {
    readonly images: number;
    readonly fraction: number;
    readonly seed: number;
    readonly k: number;
    readonly fromRow: number;
    readonly meanAgreement: number;
    readonly meanTopSourceShare: number;
    readonly meanLongestCopiedRun: number;
    readonly mostCopying: readonly {
      readonly image: string;
      readonly topSource: { readonly image: string | null; readonly share: number };
      readonly longestCopiedRun: { readonly image: string | null; readonly cells: number };
    }[];
    readonly computedAt: string;
  };
  /** The last fidelity report of this generation of the database. */
  readonly fidelity?: FidelityReport & { readonly computedAt: string };
  /** What the settings ask for now (to say when a rebuild is needed). */
  readonly settings: { readonly model: ModelSetting; readonly keys: KeyParams; readonly hnsw: { readonly m: number; readonly efConstruction: number } };
  readonly now: number;
}

export function keysText(k: KeyParams): string {
  return `${k.shape} · h=${k.hops} · border ${k.border} · ${k.source} keys`;
}

/** The Restricted Mode notice, when a workspace model setting is being ignored. */
export function trustRow(model: ModelSetting): IndexRow | undefined {
  if (!model.ignoredWorkspaceModel) return undefined;
  const using = model.origin === 'user' ? `the model from your user settings (${model.manifestPath})` : `the bundled model (${model.manifestPath})`;
  return {
    id: 'trust',
    label: 'Restricted Mode',
    description: 'workspace model setting ignored',
    tooltip: `This workspace is not trusted, so its patchlens.model setting (${model.ignoredWorkspaceModel}) is ignored; builds use ${using}. Trust the workspace to use its model.`,
    icon: 'shield',
    color: 'problemsWarningIcon.foreground',
    command: { command: 'workbench.trust.manage', title: 'Manage Workspace Trust' },
  };
}

function samePath(a: string, b: string): boolean {
  const n = (p: string) => p.replace(/\\/g, '/').replace(/\/+$/, '');
  return n(a) === n(b);
}

/** The rows under a dataset in the Index view. */
export function indexRows(input: IndexInput): IndexRow[] {
  const { root, summary: s, now } = input;
  const rows: IndexRow[] = [];
  const id = (k: string) => `${root}\0${k}`;
  if (input.ignoredDatabase) {
    rows.push({
      id: id('database-ignored'),
      label: 'Restricted Mode',
      description: 'workspace database setting ignored',
      tooltip: `This workspace is not trusted, so its patchlens.databases entry for this folder (${shownUri(input.ignoredDatabase)}) is ignored: Patch Lens does not connect to it. ${input.database ? `Using ${shownUri(input.database.location)} from your user settings.` : 'Using the default database location.'} Trust the workspace, or set the entry in user settings, to use it.`,
      icon: 'shield',
      color: 'problemsWarningIcon.foreground',
      command: { command: 'workbench.trust.manage', title: 'Manage Workspace Trust' },
    });
  }
  if (input.database) rows.push(databaseRow(id('database'), root, input.database));
  if (input.building) {
    const b = input.building;
    rows.push({
      id: id('building'),
      label: 'Building',
      description: b.phase === 'encode' && b.total ? `${b.done}/${b.total} images encoded` : b.phase,
      tooltip: 'A build is running; click to cancel it (the previous database stays usable).',
      icon: 'sync~spin',
      command: { command: 'patchlens.cancelBuild', title: 'Cancel Build', args: [root] },
    });
  }
  const problem = input.error && input.database ? storeProblem(input.error) : undefined;
  if (input.error && problem) {
    rows.push({
      id: id('error'),
      label: problem.kind === 'credentials' ? 'Credentials refused' : 'Store unreachable',
      description: oneLine(problem.line, 80),
      tooltip: `${problem.line}\nClick to set the credentials and endpoint of ${shownUri(input.database!.location)} (kept in VS Code's secret storage).`,
      icon: 'error',
      color: 'problemsErrorIcon.foreground',
      command: { command: 'patchlens.setStorageCredentials', title: 'Set Storage Credentials…', args: [root] },
    });
    return rows;
  }
  if (input.error) {
    rows.push({
      id: id('error'),
      label: 'Database unreadable',
      description: oneLine(input.error, 80),
      tooltip: `${input.error}\nRebuild to replace it.`,
      icon: 'error',
      color: 'problemsErrorIcon.foreground',
      command: { command: 'patchlens.rebuildDatabase', title: 'Rebuild', args: [root] },
    });
    return rows;
  }
  if (!s) {
    const n = input.pending?.new ?? 0;
    rows.push({
      id: id('none'),
      label: 'No database',
      description: n ? `build to index ${formatCount(n)} image${n === 1 ? '' : 's'}` : 'build to index the images',
      tooltip: 'Click to build the patch database of this folder.',
      icon: 'circle-slash',
      command: { command: 'patchlens.buildDatabase', title: 'Build', args: [root] },
    });
    rows.push(modelRow(id('model-setting'), 'Model', input.settings.model));
    return rows;
  }
  const m = s.model;
  rows.push({
    id: id('model'),
    label: 'Model',
    description: `${m.name} · ${formatGrid(m.rows, m.cols)} tokens · K=${formatCount(m.codebookSize)} · d=${m.dim}`,
    tooltip: `${m.manifestPath}\nfingerprint ${m.fingerprint}${m.hasDecoder ? '\nhas a decoder (reconstructions)' : ''}`,
    icon: 'chip',
  });
  const want = input.settings;
  if (!samePath(want.model.manifestPath, m.manifestPath)) {
    rows.push({
      id: id('model-differs'),
      label: 'Model setting changed',
      description: `${want.model.name ?? shortModel(want.model.manifestPath)}: rebuild to use it`,
      tooltip: `The settings choose ${want.model.manifestPath} (${want.model.origin}); the database was built with ${m.manifestPath}. Click to rebuild.`,
      icon: 'warning',
      color: 'problemsWarningIcon.foreground',
      command: { command: 'patchlens.rebuildDatabase', title: 'Rebuild', args: [root] },
    });
  }
  rows.push({
    id: id('keys'),
    label: 'Keys',
    description: `${keysText(s.keys)} · dim ${s.index.keyDim}`,
    tooltip: `Each entry's key is the concatenation of its ${s.keys.shape === 'causal' ? 'already generated (causal)' : 'surrounding (ring)'} ${s.keys.hops}-hop neighbours' ${s.keys.source === 'latent' ? 'encoder latents' : 'codebook vectors'}; ${s.keys.border === 'skip' ? 'border patches without a full neighbourhood are skipped' : 'neighbours outside the grid are zeros'}.`,
    icon: 'key',
  });
  const keysDiffer =
    want.keys.shape !== s.keys.shape || want.keys.hops !== s.keys.hops || want.keys.border !== s.keys.border || want.keys.source !== s.keys.source;
  const hnswDiffer = s.backend === 'hnsw' && (want.hnsw.m !== s.index.m || want.hnsw.efConstruction !== s.index.efConstruction);
  if (keysDiffer || hnswDiffer) {
    const what = [keysDiffer ? keysText(want.keys) : '', hnswDiffer ? `M=${want.hnsw.m}, efConstruction=${want.hnsw.efConstruction}` : '']
      .filter(Boolean)
      .join('; ');
    rows.push({
      id: id('keys-differ'),
      label: 'Settings changed',
      description: `${what}: rebuild to use them`,
      tooltip: 'Key or index settings differ from the ones this database was built with; they take effect on a rebuild. Click to rebuild.',
      icon: 'warning',
      color: 'problemsWarningIcon.foreground',
      command: { command: 'patchlens.rebuildDatabase', title: 'Rebuild', args: [root] },
    });
  }
  rows.push(indexRow(id('index'), s));
  rows.push({
    id: id('entries'),
    label: 'Entries',
    description: formatCount(s.entries),
    tooltip: 'Patches in the index (one per position with a key).',
    icon: 'symbol-array',
  });
  const pend = input.pending;
  const extra = [
    s.failed.length ? `${formatCount(s.failed.length)} failed` : '',
    pend?.changed ? `${formatCount(pend.changed)} changed` : '',
    pend?.new ? `${formatCount(pend.new)} not indexed` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  rows.push({
    id: id('images'),
    label: 'Images',
    description: extra ? `${formatCount(s.images)} · ${extra}` : formatCount(s.images),
    tooltip: s.failed.length
      ? `Failed (click to show them in the Problems panel):\n${s.failed
          .slice(0, 20)
          .map((f) => `${f.path}: ${f.error}`)
          .join('\n')}`
      : 'Indexed images.',
    icon: 'file-media',
    color: s.failed.length ? 'problemsWarningIcon.foreground' : undefined,
    command: s.failed.length ? { command: 'workbench.actions.view.problems', title: 'Show Problems' } : undefined,
  });
  rows.push({ id: id('disk'), label: 'Size on disk', description: formatBytes(s.diskBytes), tooltip: s.dbDir, icon: 'database' });
  const lb = s.lastBuild;
  rows.push({
    id: id('last'),
    label: 'Last build',
    description: `${formatAgo(lb.finishedAt, now)} · ${formatDuration(lb.elapsedMs)} · +${formatCount(lb.added)} ~${formatCount(lb.updated)} −${formatCount(lb.removed)}`,
    tooltip: `Finished ${lb.finishedAt}: ${formatCount(lb.added)} added, ${formatCount(lb.updated)} updated, ${formatCount(lb.removed)} removed in ${formatDuration(lb.elapsedMs)} (generation ${s.generation}).`,
    icon: 'history',
  });
  const p = input.predictability;
  rows.push(
    p
      ? {
          id: id('predictability'),
          label: 'Predictability',
          // short enough for a sidebar; the figures and their baselines are the rows under it
          description:
            p.mostFrequent === undefined ? `top-1 ${formatPercent(p.top1)}` : `top-1 ${formatPercent(p.top1)} vs ${formatPercent(p.mostFrequent)} baseline`,
          tooltip: `Retrieval predictability: for ${formatCount(p.queries)} patches of ${formatCount(p.heldOutImages)} held-out images (${formatPercent(p.fraction)} of the images, seed ${p.seed}), how often the DAiD distribution over the k=${p.k} nearest patches of the other images ranks the true token first (top-1), among the first five (top-5), or at all (coverage).${p.mostFrequent === undefined ? '' : ` Baselines: always guessing the most used token gives ${formatPercent(p.mostFrequent)}, a uniform guess ${formatPercent(p.chance ?? 0)}.`} Computed ${formatAgo(p.computedAt, now)}. Click to compute again.`,
          icon: 'beaker',
          command: { command: 'patchlens.computePredictability', title: 'Compute Retrieval Predictability', args: [root] },
          children: predictabilityRows(id, p),
        }
      : {
          id: id('predictability'),
          label: 'Predictability',
          description: 'not computed',
          tooltip: 'Click to compute how well retrieval predicts held-out tokens.',
          icon: 'beaker',
          command: { command: 'patchlens.computePredictability', title: 'Compute Retrieval Predictability', args: [root] },
        },
  );
  if (s.keys.shape === 'causal') rows.push(rolloutRow(id('rollout'), root, input.rollout, now));
  rows.push(...fidelityRows(id, root, input.fidelity, now));
  return rows;
}

/** The index's recall against exact search and AR-RAG's database on the same keys (or an invitation to measure them). */
function fidelityRows(id: (k: string) => string, root: string, f: IndexInput['fidelity'], now: number): IndexRow[] {
  const command = { command: 'patchlens.computeFidelity', title: 'Measure Index Fidelity', args: [root] };
  if (!f)
    return [
      {
        id: id('fidelity'),
        label: 'Fidelity',
        description: 'not measured',
        tooltip:
          "Click to measure how many of the true nearest patches the index returns, against exact search on this database's own patches, and what AR-RAG's FAISS database would return on them.",
        icon: 'pulse',
        command,
      },
    ];
  const at = knobText(f.current.params, f.sweep);
  const curve = f.sweep
    .map(
      (p) =>
        `\n  ${knobText(p.params, f.sweep)}: ${formatPercent(p.recall)} in ${p.p50Ms.toFixed(3)} ms${knobText(p.params) === knobText(f.current.params) ? ' (current)' : ''}`,
    )
    .join('');
  const a = f.arrag;
  return [
    {
      id: id('fidelity'),
      label: 'Fidelity',
      description: `recall@${f.k} ${formatPercent(f.current.recall)} at ${at} · ${f.current.p50Ms.toFixed(3)} ms`,
      tooltip: `Of the ${f.k} nearest patches exact search finds for ${formatCount(f.queries)} of this database's own patches (seed 0; each query leaves its own image out, as the inspector does), the ${f.backend.toUpperCase()} index at its settings (${knobText(f.current.params)}) returns ${formatPercent(f.current.recall)}, in a median ${f.current.p50Ms.toFixed(3)} ms a search. Along the search knob:${curve}\nMeasured ${formatAgo(f.computedAt, now)}. Click to measure again.`,
      icon: 'pulse',
      command,
    },
    {
      id: id('arrag'),
      label: "AR-RAG's database",
      description: `recall@${f.k} ${formatPercent(a.recall)} · loses ${formatPercent(1 - a.recall)} of the true neighbours`,
      tooltip: `${arragLoss(f)}\nThe same keys in AR-RAG's own FAISS configuration (${a.params.factory}: an OPQ rotation, ${formatCount(a.params.nlist)} IVF lists, ${a.params.subQuantizers} sub-quantizers of ${a.params.bits} bits, i.e. ${a.params.subQuantizers} bytes a patch, trained on ${formatCount(a.params.trainingKeys)} keys as build_index_L.py does), searched with nprobe ${formatCount(a.params.nprobe)} as its generation scripts do and without re-ranking on the full keys. The patches it returns instead are farther ones, so DAiD's distribution is built from other tokens than the database holds nearest.`,
      icon: 'warning',
      color: a.recall < f.current.recall - 0.05 ? 'problemsWarningIcon.foreground' : undefined,
      command,
    },
  ];
}

/** How much a rollout from the middle row reproduces and copies (or an invitation to compute it). */
function rolloutRow(rowId: string, root: string, r: IndexInput['rollout'], now: number): IndexRow {
  const command = { command: 'patchlens.computeRolloutStatistic', title: 'Compute Rollout Copying', args: [root] };
  if (!r)
    return {
      id: rowId,
      label: 'Rollout copying',
      description: 'not computed',
      tooltip: 'Click to let the database generate the lower half of sampled images and measure how much it copies.',
      icon: 'debug-start',
      command,
    };
  const most = r.mostCopying
    .slice(0, 5)
    .map(
      (c) =>
        `\n  ${c.image}: ${c.longestCopiedRun.cells} cells in a row from ${c.longestCopiedRun.image ?? '-'}, ${formatPercent(c.topSource.share)} from ${c.topSource.image ?? '-'}`,
    );
  return {
    id: rowId,
    label: 'Rollout copying',
    description: `agreement ${formatPercent(r.meanAgreement)} · top source ${formatPercent(r.meanTopSourceShare)} · run ${formatMean(r.meanLongestCopiedRun)}`,
    tooltip: `A greedy rollout (k=${r.k}) from row ${r.fromRow} of ${formatCount(r.images)} sampled images (${formatPercent(r.fraction)}, seed ${r.seed}), each generated by the other images: on average ${formatPercent(r.meanAgreement)} of the generated tokens equal the original, ${formatPercent(r.meanTopSourceShare)} come from the most used source image, and the longest run copied from one image at one offset is ${formatMean(r.meanLongestCopiedRun)} cells. Most copying:${most.join('')}\nComputed ${formatAgo(r.computedAt, now)}. Click to compute again.`,
    icon: 'debug-start',
    command,
  };
}

/** The figures of a predictability result, one a row, each with what it is measured against. */
function predictabilityRows(id: (k: string) => string, p: NonNullable<IndexInput['predictability']>): IndexRow[] {
  const rows: IndexRow[] = [
    {
      id: id('pred-top1'),
      label: 'Top-1',
      description: formatPercent(p.top1),
      tooltip: "DAiD's most probable token is the held-out patch's true token.",
      icon: 'target',
    },
    {
      id: id('pred-top5'),
      label: 'Top-5',
      description: formatPercent(p.top5),
      tooltip: "The true token is among DAiD's five most probable tokens.",
      icon: 'list-ordered',
    },
    {
      id: id('pred-coverage'),
      label: 'Coverage',
      description: `${formatPercent(p.coverage)} retrieved at all`,
      tooltip: `The true token is among the tokens of the k=${p.k} nearest patches at all: the ceiling for DAiD, which gives a token never retrieved no probability.`,
      icon: 'eye',
    },
  ];
  if (p.mostFrequent !== undefined)
    rows.push({
      id: id('pred-most-frequent'),
      label: 'Most frequent token',
      description: `${formatPercent(p.mostFrequent)} · token ${p.mostFrequentToken}`,
      tooltip: `Baseline for top-1: always guessing token ${p.mostFrequentToken}, the most used value of the other images' patches.`,
      icon: 'graph',
    });
  if (p.chance !== undefined)
    rows.push({
      id: id('pred-chance'),
      label: 'Chance',
      description: `${formatPercent(p.chance)} · 1/${formatCount(Math.round(1 / p.chance))}`,
      tooltip: 'Baseline for top-1: a uniform guess over the codebook (1/K).',
      icon: 'question',
    });
  return rows;
}

/** The index row: HNSW's graph settings, or Lance's IVF-PQ search settings. */
function indexRow(rowId: string, s: DbSummary): IndexRow {
  const l = s.index.lance;
  if (s.backend !== 'lance' || !l) {
    return {
      id: rowId,
      label: 'Index',
      description: `HNSW · M=${s.index.m} · efConstruction=${s.index.efConstruction} · ef=${s.index.ef}`,
      tooltip: 'Hierarchical navigable small world graph over the keys (squared L2).',
      icon: 'type-hierarchy',
    };
  }
  if (!l.partitions)
    return {
      id: rowId,
      label: 'Index',
      description: 'Lance · flat (exact) search',
      tooltip: 'A Lance database without a vector index yet (too few entries to need one): every search is exact.',
      icon: 'type-hierarchy',
    };
  return {
    id: rowId,
    label: 'Index',
    description: `Lance IVF-PQ · ${formatCount(l.partitions)} partitions · PQ${l.subVectors} · nprobes=${l.nprobes} · refine=${l.refineFactor}`,
    tooltip: `A Lance database: IVF-PQ over the keys (${formatCount(l.partitions)} partitions, ${l.subVectors} sub-vectors); a search probes ${l.nprobes} partitions and re-ranks ${l.refineFactor} candidates a result on the full keys.`,
    icon: 'type-hierarchy',
  };
}

/** Where a database named by patchlens.databases lives. */
function databaseRow(rowId: string, root: string, d: NonNullable<IndexInput['database']>): IndexRow {
  const remote = isObjectStoreUri(d.location);
  return {
    id: rowId,
    label: 'Database',
    description: `${shownUri(d.location)} (${d.origin} settings)`,
    tooltip: `patchlens.databases in ${d.origin} settings names ${shownUri(d.location)} for this folder${remote ? `; credentials from Patch Lens: Set Storage Credentials… or the ${/^(az|abfss?):/i.test(d.location) ? 'AZURE_STORAGE_*' : 'AWS_*'} environment variables` : ''}.`,
    icon: remote ? 'cloud' : 'database',
    ...(remote ? { command: { command: 'patchlens.setStorageCredentials', title: 'Set Storage Credentials…', args: [root] } } : {}),
  };
}

function shortModel(manifestPath: string): string {
  const parts = manifestPath.replace(/\\/g, '/').split('/');
  return parts.length >= 2 ? parts[parts.length - 2] : manifestPath;
}

function modelRow(id: string, label: string, model: ModelSetting): IndexRow {
  const origin = model.origin === 'bundled' ? 'bundled' : model.origin === 'user' ? 'user settings' : 'workspace settings';
  return {
    id,
    label,
    description: `${model.name ?? shortModel(model.manifestPath)} (${origin})`,
    tooltip: `Builds will use ${model.manifestPath}. Click to choose another model.`,
    icon: 'chip',
    command: { command: 'patchlens.selectModel', title: 'Select Model' },
  };
}

/** The description next to a dataset in the Index view. */
export function indexDatasetDescription(summary: DbSummary | null, building: boolean, error?: string): string {
  if (building) return 'building…';
  if (error) return 'unreadable';
  if (!summary) return 'no database';
  return `${summary.model.name} · ${formatCount(summary.entries)} entries`;
}
