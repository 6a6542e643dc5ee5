// The VSIX (`npm run package`): exactly the files the extension runs with on
// linux-x64, native binaries built for it, the marketplace fields, one-line refusals of
// targets it cannot make; and its install by code-server holds the VSIX and nothing of
// the checkout. Shares the content-cached package with the rest of the e2e suite
// (made by `npm run package` itself, which must print the .vsix path last).
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../support/chromium';
import type * as PackageModule from '../../scripts/package.mjs' with { 'resolution-mode': 'import' };
import type * as CodeServerModule from '../../scripts/code-server.mjs' with { 'resolution-mode': 'import' };
import type * as ZipModule from '../../scripts/zipEntries.mjs' with { 'resolution-mode': 'import' };

type Entry = ReturnType<typeof ZipModule.zipEntries>[number];
let vsix = '';
let entries: Entry[] = [];
let names: string[] = [];

/** The runtime packages a linux-x64 VSIX may hold: the native dependencies and what they load (a new native dependency adds its own). */
const PACKAGES = [
  'sharp',
  '@img/sharp-linux-x64',
  '@img/sharp-libvips-linux-x64',
  '@img/colour',
  'detect-libc',
  'semver',
  'onnxruntime-node',
  'onnxruntime-common',
  'hnswlib-node',
  'bindings',
  'file-uri-to-path',
  // LanceDB's JavaScript (and apache-arrow) is in the bundles; its platform binary ships beside them
  '@lancedb/lancedb',
  '@lancedb/lancedb-linux-x64-gnu',
];
const ALLOWED: RegExp[] = [
  /^extension\.vsixmanifest$/,
  /^\[Content_Types\]\.xml$/,
  /^extension\/(package\.json|readme\.md|changelog\.md|LICENSE\.txt)$/,
  /^extension\/dist\/(extension|engineWorker|encodeWorker|inspector|codebook|duplicates)\.(js|css)$/,
  /^extension\/dist\/h5wasm\.js$/, // HDF5 reader, loaded by the workers only when an HDF5 file is opened
  /^extension\/dist\/codicons\/codicon\.(css|ttf)$/,
  /^extension\/media\/(?!.*(^|\/)\.)[^\0]+$/, // no dot folders (.patchlens) or dot files
  new RegExp(`^extension/node_modules/(${PACKAGES.map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})/(?!node_modules/)[^\\0]+$`),
];
const FORBIDDEN = [/\.map$/, /\.d\.[cm]?ts$/, /\.ts$/, /\/(src|test|tests|bench|tools|scripts)\//, /\.patchlens\//, /(^|\/)\.cache\//];

before(
  async () => {
    const { cachedPackage } = (await import('../../scripts/package.mjs')) as typeof PackageModule;
    const { zipEntries } = (await import('../../scripts/zipEntries.mjs')) as typeof ZipModule;
    const r = cachedPackage({ log: (l) => process.stderr.write(`# ${l}\n`) });
    process.stderr.write(`# VSIX ${r.cached ? 'cached' : 'packaged'} in ${r.seconds.toFixed(1)} s\n`);
    vsix = r.vsix;
    entries = zipEntries(vsix);
    names = entries.map((e) => e.name);
  },
  { timeout: 10 * 60_000 },
);

test('the VSIX holds only allowed files, and what the extension needs', () => {
  const strays = names.filter((n) => !ALLOWED.some((re) => re.test(n)) || FORBIDDEN.some((re) => re.test(n)));
  assert.deepEqual(strays, []);
  for (const need of [
    'extension/dist/extension.js',
    'extension/dist/engineWorker.js',
    'extension/dist/encodeWorker.js',
    'extension/dist/inspector.js',
    'extension/dist/codebook.js',
    'extension/dist/duplicates.js',
    'extension/dist/h5wasm.js',
    'extension/media/icon.png',
    'extension/media/models/patchlens-vq16/manifest.json',
    'extension/media/models/patchlens-vq16/encoder.onnx',
    'extension/media/sample/bridge.jpg',
    'extension/LICENSE.txt',
    'extension/changelog.md',
    'extension/readme.md',
    'extension/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
    'extension/node_modules/hnswlib-node/build/Release/addon.node',
    'extension/node_modules/@lancedb/lancedb-linux-x64-gnu/lancedb.linux-x64-gnu.node',
  ])
    assert.ok(names.includes(need), need);
  assert.ok(names.some((n) => /^extension\/node_modules\/@img\/sharp-linux-x64\/lib\/.*\.node$/.test(n)));
  // onnxruntime-node carries every platform's binaries; the VSIX only linux-x64's.
  assert.deepEqual(
    names.filter((n) => n.includes('/onnxruntime-node/bin/') && !n.includes('/bin/napi-v6/linux/x64/')),
    [],
  );
  const mb = fs.statSync(vsix).size / 1e6;
  process.stderr.write(`# VSIX: ${names.length} files, ${mb.toFixed(1)} MB\n`);
  // LanceDB's binary is ~160 MB (about 45 MB compressed) of the total
  assert.ok(mb < 120, `${mb} MB`);
});

test('every native binary in the VSIX is ELF x86-64', () => {
  const binaries = entries.filter((e) => /\.(node|so(\.\d+)*|dylib|dll)$/.test(e.name));
  assert.ok(binaries.length >= 5, binaries.map((e) => e.name).join(', '));
  for (const e of entries) {
    if (e.size < 20 || /\.(jpg|png|onnx|npy|js|cjs|json|md|txt|css|ttf|xml|svg|vsixmanifest)$/.test(e.name)) continue;
    const b = e.read();
    const elf = b.readUInt32BE(0) === 0x7f454c46;
    assert.ok(elf || !binaries.includes(e), `${e.name} is not ELF`);
    if (!elf) continue;
    // e_ident[EI_CLASS] 2 = 64-bit, EI_DATA 1 = little-endian; e_machine 0x3e = x86-64.
    assert.deepEqual([b[4], b[5], b.readUInt16LE(18)], [2, 1, 0x3e], e.name);
  }
});

test('the VSIX manifest: icon, repository, categories, keywords, workspace kind, trust, walkthrough media', () => {
  const pkg = JSON.parse(
    entries
      .find((e) => e.name === 'extension/package.json')!
      .read()
      .toString('utf8'),
  );
  const png = entries.find((e) => e.name === `extension/${pkg.icon}`)!.read();
  assert.deepEqual([png.subarray(1, 4).toString(), png.readUInt32BE(16), png.readUInt32BE(20)], ['PNG', 128, 128]);
  assert.ok(pkg.repository?.url && pkg.categories.length && pkg.keywords.length);
  assert.deepEqual(pkg.extensionKind, ['workspace']);
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
  assert.match(pkg.capabilities.untrustedWorkspaces.description, /patchlens\.model/);
  assert.equal(typeof pkg.capabilities.virtualWorkspaces.supported, 'boolean');
  const [walk] = pkg.contributes.walkthroughs;
  assert.deepEqual(
    walk.steps.map((s: { id: string }) => s.id),
    ['openSample', 'build', 'inspect'],
  );
  const commands = new Set(pkg.contributes.commands.map((c: { command: string }) => c.command));
  for (const step of walk.steps) {
    const media = step.media.markdown ?? step.media.image;
    assert.ok(names.includes(`extension/${media}`), media);
    assert.ok(step.completionEvents.length > 0);
    for (const ev of step.completionEvents) assert.ok(commands.has(ev.replace(/^onCommand:/, '')), ev);
  }
  const manifest = entries
    .find((e) => e.name === 'extension.vsixmanifest')!
    .read()
    .toString('utf8');
  assert.match(manifest, /TargetPlatform="linux-x64"/);
});

test('a target it cannot make is refused in one line with a non-zero exit, nothing written', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'patchlens-package-'));
  try {
    for (const [target, said] of [
      ['nope', /^package: --target nope: unknown target; one of linux-x64, .*darwin-arm64/],
      ['web', /^package: --target web: not supported/],
      [
        'darwin-arm64',
        /^package: cannot package for darwin-arm64: @img\/sharp-darwin-arm64 is not installed.*addon\.node is built for elf x64, not darwin-arm64/,
      ],
    ] as const) {
      const r = spawnSync(process.execPath, ['scripts/package.mjs', '--target', target, '--out', out], { cwd: repoRoot, encoding: 'utf8' });
      assert.equal(r.status, 1, target);
      assert.equal(r.stdout, '', target);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, said);
    }
    assert.deepEqual(fs.readdirSync(out), []);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('code-server --install-extension installs the VSIX and nothing of the checkout', { timeout: 5 * 60_000 }, async () => {
  const { installVsix } = (await import('../../scripts/code-server.mjs')) as typeof CodeServerModule;
  const { provisionCodeServer } = await import('../../scripts/provision-code-server.mjs');
  const { entry } = await provisionCodeServer({ log: (l: string) => process.stderr.write(`# ${l}\n`) });
  const run = fs.mkdtempSync(path.join(os.tmpdir(), 'patchlens-install-'));
  try {
    fs.mkdirSync(path.join(run, 'ext'));
    const r = installVsix({ entry, extensionsDir: path.join(run, 'ext'), env: { ...process.env, HOME: run }, log: (l) => process.stderr.write(`# ${l}\n`) });
    const installed: string[] = [];
    const walk = (rel: string) => {
      for (const ent of fs.readdirSync(path.join(r.dir, rel), { withFileTypes: true })) {
        const f = rel ? `${rel}/${ent.name}` : ent.name;
        assert.ok(!ent.isSymbolicLink(), `${f} is a symlink`);
        if (ent.isDirectory()) walk(f);
        else installed.push(f);
      }
    };
    walk('');
    const fromVsix = names.filter((n) => n.startsWith('extension/')).map((n) => n.slice('extension/'.length));
    assert.deepEqual(installed.filter((f) => f !== '.vsixmanifest').sort(), fromVsix.sort());
    assert.ok(!fs.existsSync(path.join(r.dir, 'media', 'sample', '.patchlens')));
  } finally {
    fs.rmSync(run, { recursive: true, force: true });
  }
});
