// package.json, the CLI, the wire schema and the view state against the
// domain vocabulary of src/core/vocabulary.ts: a value added there shows up
// everywhere, or a test here says what to regenerate.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';
import { PACKAGE_JSON, packageText, withVocabulary } from '../../scripts/vocabulary';
import { BROWSER_MIMES, SUPPORTED_EXTENSIONS, browserMime, isSupportedImage } from '../../src/core/imageTypes';
import { BORDERS, GENERATION_FILE_PATTERN, GENERATION_FILES, HOPS, IMAGE_TYPES, KEY_SHAPES, KEY_SOURCES, MAX_HOPS, MIN_HOPS } from '../../src/core/vocabulary';
import { neighbourCount } from '../../src/core/neighbourhood';
import { INSPECTABLE_EXTENSIONS, isInspectable } from '../../src/extension/inspector/datasetPaths';
import { checkMessage } from '../../src/messageSchema';
import { hostToInspectorSchema } from '../../src/protocol';
import { restoreViewState } from '../../webview/inspector/viewState';

const text = fs.readFileSync(PACKAGE_JSON, 'utf8');
const pkg = JSON.parse(text);
const REGENERATE = 'package.json is stale: run `npm run vocabulary` and commit the result';

/** The first line where `want` and `got` differ, both sides (assert's own diff of two long strings says nothing on Node 20). */
function firstDifference(want: string, got: string): string {
  const a = want.split('\n');
  const b = got.split('\n');
  const i = a.findIndex((line, n) => line !== b[n]);
  return `line ${i + 1}: package.json has ${JSON.stringify(b[i]?.trim())}, the vocabulary writes ${JSON.stringify(a[i]?.trim())}`;
}

test('package.json is what `npm run vocabulary` writes from src/core/vocabulary.ts', () => {
  const formatted = packageText(pkg);
  assert.ok(formatted === text, `package.json is not formatted as npm writes it (${firstDifference(formatted, text)})`);
  const written = packageText(withVocabulary(pkg));
  assert.ok(written === text, `${REGENERATE} (${firstDifference(written, text)})`);
});

test('every image type the engine reads opens in the inspector: explorer menu, custom editor, command', () => {
  const when: string = pkg.contributes.menus['explorer/context'].find((m: { command: string }) => m.command === 'patchlens.inspectPatches').when;
  const re = /^resourceExtname =~ \/(.*)\/i$/.exec(when);
  assert.ok(re, when);
  const matchesWhen = (ext: string) => new RegExp(re[1], 'i').test(ext);
  const pattern: string = pkg.contributes.customEditors.find((e: { viewType: string }) => e.viewType === 'patchlens.inspector').selector[0].filenamePattern;
  const matchesEditor = picomatch(pattern);
  for (const ext of SUPPORTED_EXTENSIONS) {
    for (const e of [ext, ext.toUpperCase()]) {
      assert.ok(matchesWhen(e), `the explorer menu's when clause misses ${e}`);
      assert.ok(matchesEditor(`photo${e}`), `the custom editor's selector misses photo${e}`);
      assert.ok(isInspectable(`/d/photo${e}`), `isInspectable misses ${e}`);
      assert.ok(isSupportedImage(`photo${e}`));
    }
  }
  assert.ok(SUPPORTED_EXTENSIONS.includes('.avif'));
  assert.deepEqual([...INSPECTABLE_EXTENSIONS], [...SUPPORTED_EXTENSIONS]);
  // a row of an AR-RAG code shard has no extension: it opens as its token map
  assert.ok(isInspectable('/d/codes/shard-0.h5/12') && isInspectable('/d/c.HDF5/0'));
  for (const not of ['/d/codes/shard-0.h5/x', '/d/shards/0.tar/12', '/d/12']) assert.equal(isInspectable(not), false, not);
  for (const other of ['.txt', '.json', '.svg', '.pngx']) {
    assert.equal(matchesWhen(other), false, other);
    assert.equal(matchesEditor(`photo${other}`), false, other);
    assert.equal(isSupportedImage(`photo${other}`), false, other);
  }
});

test('setting enums: one description per value where descriptions are given', () => {
  for (const [key, s] of Object.entries(pkg.contributes.configuration.properties as Record<string, { enum?: unknown[]; enumDescriptions?: unknown[] }>)) {
    if (s.enum && s.enumDescriptions) assert.equal(s.enumDescriptions.length, s.enum.length, `${key}: enumDescriptions`);
  }
  const props = pkg.contributes.configuration.properties;
  assert.deepEqual(props['patchlens.shape'].enum, [...KEY_SHAPES], REGENERATE);
  assert.deepEqual(props['patchlens.border'].enum, [...BORDERS], REGENERATE);
  assert.deepEqual(props['patchlens.keySource'].enum, [...KEY_SOURCES], REGENERATE);
  assert.equal(props['patchlens.hops'].maximum, MAX_HOPS, REGENERATE);
});

test('image types: the webview is sent only what it decodes; every such MIME passes the wire schema', () => {
  for (const [ext, t] of Object.entries(IMAGE_TYPES)) {
    assert.equal(browserMime(`a${ext}`), t.browser ? t.mime : undefined, ext);
  }
  assert.equal(browserMime('a.tiff'), undefined);
  for (const mime of BROWSER_MIMES) {
    const r = checkMessage(hostToInspectorSchema, { type: 'imagePixels', inReplyTo: 1, bytes: new Uint8Array(1), mime });
    assert.ok(r.ok, mime);
  }
  assert.equal(checkMessage(hostToInspectorSchema, { type: 'imagePixels', inReplyTo: 1, bytes: new Uint8Array(1), mime: 'image/tiff' }).ok, false);
});

test('hops: every h of HOPS has a neighbourhood and the view state takes it, nothing beyond', () => {
  assert.deepEqual(
    HOPS,
    Array.from({ length: MAX_HOPS - MIN_HOPS + 1 }, (_, i) => MIN_HOPS + i),
  );
  for (const h of HOPS) {
    for (const shape of KEY_SHAPES) assert.ok(neighbourCount(shape, h) > 0);
    assert.equal(restoreViewState({ hops: h }).hops, h);
  }
  assert.equal(restoreViewState({ hops: MAX_HOPS + 1 }).hops, null);
  for (const shape of KEY_SHAPES) assert.equal(restoreViewState({ shape }).shape, shape);
  assert.equal(restoreViewState({ shape: 'square' }).shape, null);
});

test('generation files: every name GENERATION_FILES makes is one the garbage collector knows', () => {
  const names = Object.values(GENERATION_FILES).map((name) => name(12));
  assert.equal(new Set(names).size, names.length);
  for (const n of names) assert.match(n, GENERATION_FILE_PATTERN);
  assert.doesNotMatch('manifest.json', GENERATION_FILE_PATTERN);
});

test("README names what the vocabulary declares: the settings table's hops, shapes, borders and key sources, the CLI's choices, the image types", () => {
  const readme = fs.readFileSync(path.join(path.dirname(PACKAGE_JSON), 'README.md'), 'utf8');
  const row = (setting: string) => readme.split('\n').find((l) => l.startsWith(`| \`${setting}\` |`)) ?? '';
  const update = 'README.md is out of date with src/core/vocabulary.ts: update';
  assert.ok(row('patchlens.hops').includes(`${MIN_HOPS} to ${MAX_HOPS}`), `${update} the patchlens.hops row to "h, ${MIN_HOPS} to ${MAX_HOPS}"`);
  for (const [setting, values] of [
    ['patchlens.shape', KEY_SHAPES],
    ['patchlens.border', BORDERS],
    ['patchlens.keySource', KEY_SOURCES],
    ['patchlens.queryKeySource', KEY_SOURCES],
  ] as const) {
    for (const value of values) assert.ok(row(setting).includes(`\`${value}\``), `${update} the ${setting} row: it does not name \`${value}\``);
  }
  for (const [flag, values] of [
    ['--shape', KEY_SHAPES],
    ['--border', BORDERS],
    ['--keys', KEY_SOURCES],
    ['--query-keys', KEY_SOURCES],
  ] as const) {
    assert.ok(readme.includes(`[${flag} ${values.join('|')}]`), `${update} the CLI usage: \`[${flag} ${values.join('|')}]\` (as \`patchlens help\` prints it)`);
  }
  const opening = readme.split('\n').find((l) => l.includes('**Open a folder of images**')) ?? '';
  for (const { mime } of Object.values(IMAGE_TYPES)) {
    const kind = mime.slice('image/'.length);
    assert.match(opening, new RegExp(`\\b${kind}\\b`, 'i'), `${update} the image types of "Open a folder of images": ${kind.toUpperCase()} is missing`);
  }
});
