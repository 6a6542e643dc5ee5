import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DbSummary } from '../../src/engine/engineProtocol';
import { indexDatasetDescription, indexRows, trustRow, type IndexInput } from '../../src/extension/sidePanel/indexTreeModel';

const now = Date.parse('2026-01-10T12:00:00Z');
const summary: DbSummary = {
  dbDir: '/d/.patchlens',
  root: '/d',
  generation: 3,
  updatedAt: '2026-01-10T11:00:00Z',
  model: {
    name: 'patchlens-vq16',
    fingerprint: 'abc',
    manifestPath: '/ext/media/models/patchlens-vq16/manifest.json',
    rows: 24,
    cols: 24,
    dim: 8,
    codebookSize: 16384,
    hasDecoder: true,
  },
  keys: { shape: 'causal', hops: 1, border: 'skip', source: 'latent' },
  backend: 'hnsw',
  index: { m: 16, efConstruction: 200, ef: 64, keyDim: 32 },
  images: 50,
  entries: 25300,
  diskBytes: 5 * 1024 * 1024,
  failed: [{ path: 'bad.png', error: 'not an image' }],
  lastBuild: { finishedAt: '2026-01-10T11:55:00Z', elapsedMs: 12_300, added: 50, updated: 0, removed: 0 },
};
const settings: IndexInput['settings'] = {
  model: { manifestPath: '/ext/media/models/patchlens-vq16/manifest.json', origin: 'bundled' },
  keys: { shape: 'causal', hops: 1, border: 'skip', source: 'latent' },
  hnsw: { m: 16, efConstruction: 200 },
};
const byLabel = (rows: ReturnType<typeof indexRows>) => new Map(rows.map((r) => [r.label, r]));

test('indexRows: what a database holds', () => {
  const rows = byLabel(indexRows({ root: '/d', summary, settings, now, pending: { new: 2, changed: 1 } }));
  assert.deepEqual(
    [...rows.keys()],
    ['Model', 'Keys', 'Index', 'Entries', 'Images', 'Size on disk', 'Last build', 'Predictability', 'Rollout copying', 'Fidelity'],
  );
  assert.equal(rows.get('Model')!.description, 'patchlens-vq16 · 24×24 tokens · K=16,384 · d=8');
  assert.equal(rows.get('Keys')!.description, 'causal · h=1 · border skip · latent keys · dim 32');
  assert.equal(rows.get('Index')!.description, 'HNSW · M=16 · efConstruction=200 · ef=64');
  assert.equal(rows.get('Entries')!.description, '25,300');
  assert.equal(rows.get('Images')!.description, '50 · 1 failed · 1 changed · 2 not indexed');
  assert.match(rows.get('Images')!.tooltip!, /bad\.png: not an image/);
  assert.equal(rows.get('Size on disk')!.description, '5.0 MB');
  assert.equal(rows.get('Last build')!.description, '5 min ago · 12.3 s · +50 ~0 −0');
  assert.equal(rows.get('Predictability')!.description, 'not computed');
  assert.equal(rows.get('Predictability')!.command!.command, 'patchlens.computePredictability');
  assert.deepEqual(rows.get('Predictability')!.command!.args, ['/d']);
});

test("indexRows: fidelity not measured, then the recall of the index, its curve and what AR-RAG's database loses, in words", () => {
  const none = indexRows({ root: '/d', summary, settings, now }).find((r) => r.label === 'Fidelity')!;
  assert.equal(none.description, 'not measured');
  assert.deepEqual(none.command, { command: 'patchlens.computeFidelity', title: 'Measure Index Fidelity', args: ['/d'] });
  const point = (ef: number, recall: number, p50Ms: number) => ({ params: { m: 16, efConstruction: 200, ef }, recall, p50Ms });
  const fidelity = {
    backend: 'hnsw',
    entries: 25300,
    k: 10,
    queries: 200,
    current: point(64, 0.994, 0.05),
    sweep: [point(10, 0.962, 0.026), point(64, 0.994, 0.05), point(512, 1, 0.47)],
    arrag: {
      params: {
        factory: 'OPQ8,IVF648,PQ8np',
        nlist: 648,
        subQuantizers: 8,
        bits: 8,
        nprobe: 4096,
        rerank: false as const,
        trainingKeys: 25300,
        opqIterations: 10,
      },
      recall: 0.85,
    },
    computedAt: '2026-01-10T11:58:00Z',
  };
  const rows = indexRows({ root: '/d', summary, settings, now, fidelity });
  assert.deepEqual(rows.map((r) => r.label).slice(-3), ['Rollout copying', 'Fidelity', "AR-RAG's database"]);
  const f = rows.find((r) => r.label === 'Fidelity')!;
  assert.equal(f.description, 'recall@10 99.4% at ef=64 · 0.050 ms');
  assert.match(f.tooltip!, /Of the 10 nearest patches exact search finds for 200 of this database's own patches/);
  assert.match(f.tooltip!, /ef=10: 96\.2% in 0\.026 ms\n {2}ef=64: 99\.4% in 0\.050 ms \(current\)\n {2}ef=512: 100% in 0\.470 ms/);
  assert.match(f.tooltip!, /Measured 2 min ago/);
  const a = rows.find((r) => r.label === "AR-RAG's database")!;
  assert.equal(a.description, 'recall@10 85.0% · loses 15.0% of the true neighbours');
  assert.match(
    a.tooltip!,
    /^AR-RAG's FAISS database \(OPQ8,IVF648,PQ8np, nprobe 4096, no re-ranking\) finds 85\.0% of the true 10 nearest patches: 15\.0% of what DAiD would see are farther patches, against 0\.6% with this index\./,
  );
  assert.match(a.tooltip!, /648 IVF lists, 8 sub-quantizers of 8 bits, i\.e\. 8 bytes a patch/);
  assert.equal(a.color, 'problemsWarningIcon.foreground');
});

test('indexRows: predictability when computed', () => {
  const p = { top1: 0.1234, top5: 0.4, coverage: 0.9, queries: 2000, heldOutImages: 5, k: 64, fraction: 0.1, seed: 0, computedAt: '2026-01-10T11:59:00Z' };
  const row = indexRows({ root: '/d', summary, settings, now, predictability: p }).find((r) => r.label === 'Predictability')!;
  assert.equal(row.description, 'top-1 12.3%', 'a result stored before the baselines: top-1 alone');
  assert.match(row.tooltip!, /2,000 patches of 5 held-out images/);
  assert.deepEqual(
    row.children!.map((c) => [c.label, c.description]),
    [
      ['Top-1', '12.3%'],
      ['Top-5', '40.0%'],
      ['Coverage', '90.0% retrieved at all'],
    ],
  );
  const withBaselines = indexRows({
    root: '/d',
    summary,
    settings,
    now,
    predictability: { ...p, mostFrequent: 0.041, mostFrequentToken: 7, chance: 1 / 16384 },
  }).find((r) => r.label === 'Predictability')!;
  assert.equal(withBaselines.description, 'top-1 12.3% vs 4.1% baseline');
  assert.ok(withBaselines.description!.length <= 30, 'fits a sidebar row');
  assert.deepEqual(
    withBaselines.children!.slice(3).map((c) => [c.label, c.description]),
    [
      ['Most frequent token', '4.1% · token 7'],
      ['Chance', '<0.1% · 1/16,384'],
    ],
  );
  assert.match(withBaselines.tooltip!, /most used token gives 4\.1%, a uniform guess <0\.1%/);
});

test('indexRows: the rollout statistic, offered for causal keys only', () => {
  const r = {
    images: 5,
    fraction: 0.1,
    seed: 0,
    k: 64,
    fromRow: 12,
    meanAgreement: 0.25,
    meanTopSourceShare: 0.5,
    meanLongestCopiedRun: 3.25,
    computedAt: '2026-01-10T11:59:00Z',
    mostCopying: [{ image: 'a.png', topSource: { image: 'b.png', share: 0.75 }, longestCopiedRun: { image: 'b.png', cells: 9 } }],
  };
  const row = indexRows({ root: '/d', summary, settings, now, rollout: r }).find((x) => x.label === 'Rollout copying')!;
  assert.equal(row.description, 'agreement 25.0% · top source 50.0% · run 3.3');
  assert.match(row.tooltip!, /from row 12 of 5 sampled images/);
  assert.match(row.tooltip!, /a\.png: 9 cells in a row from b\.png, 75\.0% from b\.png/);
  assert.deepEqual(row.command, { command: 'patchlens.computeRolloutStatistic', title: 'Compute Rollout Copying', args: ['/d'] });
  const ring = indexRows({ root: '/d', summary: { ...summary, keys: { ...summary.keys, shape: 'ring' } }, settings, now });
  assert.equal(
    ring.find((x) => x.label === 'Rollout copying'),
    undefined,
  );
});

test('indexRows: settings that need a rebuild say so and offer it', () => {
  const changed = {
    ...settings,
    keys: { ...settings.keys, hops: 2 },
    model: { manifestPath: '/models/mine/manifest.json', origin: 'workspace' as const, name: 'mine' },
  };
  const rows = byLabel(indexRows({ root: '/d', summary, settings: changed, now }));
  assert.match(rows.get('Model setting changed')!.description!, /^mine: rebuild to use it/);
  assert.equal(rows.get('Model setting changed')!.command!.command, 'patchlens.rebuildDatabase');
  assert.match(rows.get('Settings changed')!.description!, /h=2.*rebuild to use them/);
  const hnsw = byLabel(indexRows({ root: '/d', summary, settings: { ...settings, hnsw: { m: 32, efConstruction: 200 } }, now }));
  assert.match(hnsw.get('Settings changed')!.description!, /M=32/);
});

test('indexRows: no database, building, unreadable', () => {
  const none = indexRows({
    root: '/d',
    summary: null,
    settings: { ...settings, model: { ...settings.model, name: 'patchlens-vq16' } },
    now,
    pending: { new: 9, changed: 0 },
  });
  assert.deepEqual(
    none.map((r) => r.label),
    ['No database', 'Model'],
  );
  assert.equal(none[0].description, 'build to index 9 images');
  assert.equal(none[0].command!.command, 'patchlens.buildDatabase');
  assert.equal(none[1].description, 'patchlens-vq16 (bundled)');
  const building = indexRows({ root: '/d', summary, settings, now, building: { phase: 'encode', done: 3, total: 10 } });
  assert.equal(building[0].label, 'Building');
  assert.equal(building[0].description, '3/10 images encoded');
  assert.equal(building[0].command!.command, 'patchlens.cancelBuild');
  const bad = indexRows({ root: '/d', summary: null, error: 'checksum mismatch in seg-3.bin', settings, now });
  assert.equal(bad[0].label, 'Database unreadable');
  assert.equal(bad[0].command!.command, 'patchlens.rebuildDatabase');
  assert.equal(indexDatasetDescription(summary, false), 'patchlens-vq16 · 25,300 entries');
  assert.equal(indexDatasetDescription(null, false), 'no database');
  assert.equal(indexDatasetDescription(summary, true), 'building…');
});

test('trustRow: shown only when a workspace model setting is ignored', () => {
  assert.equal(trustRow({ manifestPath: '/b/manifest.json', origin: 'bundled' }), undefined);
  const row = trustRow({ manifestPath: '/b/manifest.json', origin: 'bundled', ignoredWorkspaceModel: './evil/manifest.json' })!;
  assert.equal(row.label, 'Restricted Mode');
  assert.match(row.tooltip!, /\.\/evil\/manifest\.json\) is ignored; builds use the bundled model/);
  assert.match(trustRow({ manifestPath: '/u/m.json', origin: 'user', ignoredWorkspaceModel: 'x' })!.tooltip!, /model from your user settings/);
});

test('indexRows: a Lance database named by patchlens.databases: where it is, its IVF-PQ settings, no HNSW rebuild prompt', () => {
  const lance: DbSummary = {
    ...summary,
    dbDir: 's3://team/db',
    backend: 'lance',
    index: { m: 0, efConstruction: 0, ef: 0, keyDim: 32, lance: { partitions: 700, subVectors: 16, nprobes: 210, refineFactor: 10 } },
  };
  const rows = byLabel(indexRows({ root: '/d', database: { location: 's3://team/db', origin: 'user' }, summary: lance, settings, now }));
  assert.equal(rows.get('Database')!.description, 's3://team/db (user settings)');
  assert.equal(rows.get('Database')!.icon, 'cloud');
  assert.deepEqual(rows.get('Database')!.command, { command: 'patchlens.setStorageCredentials', title: 'Set Storage Credentials…', args: ['/d'] });
  assert.equal(rows.get('Index')!.description, 'Lance IVF-PQ · 700 partitions · PQ16 · nprobes=210 · refine=10');
  assert.equal(rows.has('Settings changed'), false, 'HNSW settings do not apply to a Lance database');
  const flat = indexRows({
    root: '/d',
    database: { location: '/lance/db', origin: 'workspace' },
    summary: { ...lance, index: { ...lance.index, lance: { partitions: 0, subVectors: 0, nprobes: 0, refineFactor: 0 } } },
    settings,
    now,
  });
  assert.equal(flat.find((r) => r.label === 'Index')!.description, 'Lance · flat (exact) search');
  assert.equal(flat.find((r) => r.label === 'Database')!.icon, 'database');
});

test('indexRows: a store that refuses the credentials or cannot be reached: one line and the credentials command', () => {
  const error =
    'cannot open the Lance database s3://team/db: the store refused the credentials. Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or --storage-option)';
  const rows = indexRows({ root: '/d', database: { location: 's3://team/db', origin: 'user' }, summary: null, error, settings, now });
  const bad = rows.find((r) => r.id.endsWith('error'))!;
  assert.equal(bad.label, 'Credentials refused');
  assert.equal(bad.description, 'cannot open the Lance database s3://team/db: the store refused the credentials');
  assert.deepEqual(bad.command, { command: 'patchlens.setStorageCredentials', title: 'Set Storage Credentials…', args: ['/d'] });
  const down = indexRows({
    root: '/d',
    database: { location: 's3://team/db', origin: 'user' },
    summary: null,
    error: 'cannot open the Lance database s3://team/db: the store cannot be reached (endpoint http://127.0.0.1:9)',
    settings,
    now,
  });
  assert.equal(down.find((r) => r.id.endsWith('error'))!.label, 'Store unreachable');
});

test('indexRows: a workspace database entry ignored in Restricted Mode says so, and what is used instead', () => {
  const rows = indexRows({ root: '/d', ignoredDatabase: 's3://evil/db', summary: null, settings, now });
  assert.equal(rows[0].label, 'Restricted Mode');
  assert.equal(rows[0].description, 'workspace database setting ignored');
  assert.match(rows[0].tooltip!, /s3:\/\/evil\/db\) is ignored: Patch Lens does not connect to it\. Using the default database location/);
  assert.equal(rows[0].command!.command, 'workbench.trust.manage');
  const user = indexRows({ root: '/d', ignoredDatabase: 's3://evil/db', database: { location: 's3://mine/db', origin: 'user' }, summary: null, settings, now });
  assert.match(user[0].tooltip!, /Using s3:\/\/mine\/db from your user settings/);
});
