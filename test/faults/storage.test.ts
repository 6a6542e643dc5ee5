// Storage that will not take the database: a full disk, a read-only file
// system, a folder the user may not write, a file where the folder should be,
// a place where folders cannot be made at all. Each build fails with one clear
// line and leaves no partial state: the previous database byte-for-byte as it
// was (and still answering), or no database folder at all.
//
// Where the tests run as root with mount (CI containers, this dev box), real
// tmpfs mounts give a real full disk (ENOSPC, including inside hnswlib's own
// writer) and a real read-only file system, and `setpriv` runs the CLI as
// `nobody` for permission errors (root ignores file modes). Elsewhere those
// cases are skipped and the injected-ENOSPC test still covers the engine's
// handling of a full disk.

import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { buildDatabase } from '../../src/engine/indexer';
import { DatabaseError, PatchDatabase } from '../../src/engine/database';
import { DEFAULT_HNSW, HnswPatchIndex } from '../../src/engine/patchIndex';
import { writeTinyModel } from '../support/tinyModel';
import { tempDir, writeDataset } from '../support/fixtures';
import { asNobody, buildCli, canMount, cli, mountTmpfs, namedFiles, snapshot } from './helpers';

const work = tempDir('patchlens-faults-storage-');
let model = '';
let mountable = false;
let nobody: string[] | undefined;

before(async () => {
  buildCli();
  fs.chmodSync(work, 0o755); // readable by `nobody`
  model = writeTinyModel(path.join(work, 'model'), { size: 64, patch: 8, dim: 4, codes: 64 });
  mountable = canMount(work);
  nobody = asNobody();
});

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A dataset with a built database (in dbDir, default <root>/.patchlens), then 3 more images so the next build writes. */
async function builtDataset(name: string, dbDir?: string): Promise<{ root: string; db: string; answers: string }> {
  const root = path.join(work, name);
  await writeDataset(root, 3, { seed: 51 });
  const db = dbDir ?? path.join(root, '.patchlens');
  const r = cli(['index', root, '--model', model, '--db', db, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  await writeDataset(root, 3, { prefix: 'new', seed: 52 });
  const q = cli(['query', path.join(root, 'img-01.png'), '--db', db, '--at', '3,3', '--json']);
  assert.equal(q.code, 0, q.stderr);
  return { root, db, answers: q.stdout };
}

// ---------------------------------------------------------------- everywhere

test('a file where the database folder should be: one line, the file untouched', async () => {
  const root = path.join(work, 'file-in-way');
  await writeDataset(root, 1, { seed: 53 });
  const file = path.join(work, 'a-file');
  fs.writeFileSync(file, 'keep me');
  for (const db of [file, path.join(file, 'db')]) {
    const r = cli(['index', root, '--model', model, '--db', db]);
    assert.equal(r.code, 1);
    assert.match(
      r.reason,
      new RegExp(
        `^patchlens: cannot create the database folder ${esc(db)}: a file is where a folder should be \\(ENOTDIR\\)\\. .*choose a writable location with --db$`,
      ),
    );
  }
  assert.equal(fs.readFileSync(file, 'utf8'), 'keep me');
});

test('a place where no folder can be made (/proc) fails at once instead of spinning', { skip: process.platform !== 'linux' }, async () => {
  const root = path.join(work, 'proc');
  await writeDataset(root, 1, { seed: 54 });
  const t0 = Date.now();
  const r = cli(['index', root, '--model', model, '--db', '/proc/patchlens-test/db']);
  assert.equal(r.signal, null, "finished by itself (Node's recursive mkdir loops forever here)");
  assert.equal(r.code, 1);
  assert.match(r.reason, /^patchlens: cannot create the database folder \/proc\/patchlens-test\/db: .*\((ENOENT|EACCES|EPERM|EROFS)\)/);
  assert.ok(Date.now() - t0 < 60_000);
});

/**
 * Makes fs.writeSync / fs.writeFileSync behave like a disk with `budget` bytes
 * free: the write that crosses the budget writes what fits and returns short
 * (as write(2) does), the next one throws ENOSPC. hnswlib writes natively and
 * is not affected (the tmpfs test covers it).
 */
function injectFullDisk(budget: number): { restore(): void; used(): number } {
  // the node:fs module object itself (what every `import * as fs` reads through), not this file's namespace copy
  const nodeFs = createRequire(__filename)('node:fs') as typeof fs;
  const real = { writeSync: nodeFs.writeSync, writeFileSync: nodeFs.writeFileSync };
  let left = budget;
  let used = 0;
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  const bytes = (d: unknown) =>
    typeof d === 'string' ? Buffer.from(d) : Buffer.from((d as Uint8Array).buffer, (d as Uint8Array).byteOffset, (d as Uint8Array).byteLength);
  const f = nodeFs as unknown as Record<string, unknown>;
  f.writeSync = (fd: number, data: unknown, offset?: unknown, length?: unknown, position?: unknown) => {
    const b = bytes(data);
    const o = typeof data === 'string' ? 0 : typeof offset === 'number' ? offset : 0;
    const l = typeof data === 'string' ? b.length : typeof length === 'number' ? length : b.length - o;
    if (left <= 0) throw enospc();
    const n = Math.min(l, left);
    left -= n;
    used += n;
    return real.writeSync(fd, b, o, n, typeof data === 'string' ? null : (position as number | null | undefined));
  };
  f.writeFileSync = (file: fs.PathOrFileDescriptor, data: unknown, opts?: fs.WriteFileOptions) => {
    const b = bytes(data);
    if (b.length > left) {
      real.writeFileSync(file, b.subarray(0, Math.max(0, left)), opts);
      used += Math.max(0, left);
      left = 0;
      throw enospc();
    }
    left -= b.length;
    used += b.length;
    return real.writeFileSync(file, b, opts);
  };
  return {
    restore: () => Object.assign(nodeFs, real),
    used: () => used,
  };
}

test('a full disk (injected ENOSPC at every stage of the write): a clear error, the previous database intact', async () => {
  const { root, db } = await builtDataset('inject');
  const pristine = path.join(work, 'inject-pristine');
  fs.cpSync(db, pristine, { recursive: true });
  const reset = () => {
    fs.rmSync(db, { recursive: true, force: true });
    fs.cpSync(pristine, db, { recursive: true });
  };
  // how much a successful build writes through fs (segment, lock, codes, manifest)
  const probe = injectFullDisk(Infinity);
  try {
    await buildDatabase({ root, model, dbDir: db, batchSize: 1 });
  } finally {
    probe.restore();
  }
  const total = probe.used();
  reset();
  const before = snapshot(db);
  // of ~58 kB: 0, not even the lock's contents (the empty lock must not stay behind); then in the segment
  // (a short write mid-record, then ENOSPC), in the codes file, in the manifest
  for (const frac of [0, 0.02, 0.06, 0.5, 0.97]) {
    const disk = injectFullDisk(Math.floor(total * frac));
    let err: unknown;
    try {
      await buildDatabase({ root, model, dbDir: db, batchSize: 1 });
    } catch (e) {
      err = e;
    } finally {
      disk.restore();
    }
    assert.ok(err instanceof DatabaseError, `budget ${frac}: ${String(err)}`);
    assert.match(
      err.message,
      new RegExp(
        `^cannot write (the database in|to the database folder) ${esc(db)}: no space left on the device \\(ENOSPC\\)\\. The previous database, if any, is unchanged; free some space or choose another location with --db$`,
      ),
    );
    assert.deepEqual(snapshot(db), before, `budget ${frac}: the folder is exactly as before`);
    const again = PatchDatabase.open(db)!;
    assert.equal(again.manifest.images.length, 3);
  }
  // with the space back, the same build succeeds
  const ok = await buildDatabase({ root, model, dbDir: db });
  assert.equal(ok.added, 3);
  assert.deepEqual(fs.readdirSync(db).sort(), namedFiles(db));
});

test('a first build that fails leaves no database folder behind', async () => {
  const root = path.join(work, 'first-fail');
  await writeDataset(root, 2, { seed: 55 });
  const db = path.join(root, '.patchlens');
  const disk = injectFullDisk(3000);
  try {
    await assert.rejects(buildDatabase({ root, model }), /no space left on the device \(ENOSPC\)/);
  } finally {
    disk.restore();
  }
  assert.ok(!fs.existsSync(db));
});

// ---------------------------------------------------------------- real file systems (root)

test('a real full disk (tmpfs): every outcome is a committed, working database or a clear error with nothing changed', async (t) => {
  if (!mountable) return t.skip('needs root and mount (tmpfs)');
  const mnt = path.join(work, 'full');
  const unmount = mountTmpfs(mnt, '2m');
  try {
    const { root, db, answers } = await builtDataset('full-data', path.join(mnt, 'db'));
    const filler = path.join(mnt, 'filler');
    const before = snapshot(db);
    const page = 4096;
    const outcomes: string[] = [];
    // free space from nothing up to enough (about 33 pages here): out of space in the segment, the index, the codes
    for (const freePages of [0, 6, 12, 20, 28, 40, 64, 128]) {
      fs.rmSync(filler, { force: true });
      const st = fs.statfsSync(mnt);
      const avail = st.bavail * st.bsize;
      fs.writeFileSync(filler, Buffer.alloc(Math.max(0, avail - freePages * page)));
      const r = cli(['index', root, '--model', model, '--db', db, '--json', '--quiet']);
      if (r.code === 0) {
        outcomes.push('ok');
        assert.equal(r.json().added, 3);
        const q = cli(['query', path.join(root, 'new-01.png'), '--db', db, '--at', '2,2', '--exact', '--json']);
        assert.equal(q.code, 0, q.stderr);
        assert.deepEqual(fs.readdirSync(db).sort(), namedFiles(db));
        break;
      }
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(
        r.reason,
        new RegExp(
          `^patchlens: cannot write (the database in|to the database folder) ${esc(db)}: (no space left on the device \\(ENOSPC\\)|the index file was not written completely .* \\(EIO\\))\\. The previous database, if any, is unchanged; free some space or choose another location with --db$`,
        ),
        r.reason,
      );
      outcomes.push(/index file/.test(r.reason) ? 'index' : 'enospc');
      assert.deepEqual(snapshot(db), before, `${freePages} pages free: the folder is exactly as before`);
      if (freePages === 6) assert.equal(cli(['query', path.join(root, 'img-01.png'), '--db', db, '--at', '3,3', '--json']).stdout, answers, 'the same answers');
    }
    t.diagnostic(`outcomes by free space: ${outcomes.join(' ')}`);
    assert.equal(outcomes[outcomes.length - 1], 'ok', 'it succeeds once there is room');
    assert.ok(outcomes.includes('index'), 'hnswlib ran out of space mid-file at least once, and that was caught');
    assert.ok(outcomes.includes('enospc'));

    // the index writer on its own: hnswlib reports nothing, save() does
    fs.rmSync(filler, { force: true });
    const st = fs.statfsSync(mnt);
    fs.writeFileSync(filler, Buffer.alloc(Math.max(0, st.bavail * st.bsize - 4 * page)));
    const index = HnswPatchIndex.create(16, 2000, DEFAULT_HNSW);
    index.add(
      Float32Array.from({ length: 1000 * 16 }, (_, i) => Math.sin(i)),
      Array.from({ length: 1000 }, (_, i) => i),
    );
    assert.throws(
      () => index.save(path.join(mnt, 'alone.hnsw')),
      (e: Error & { code?: string }) => e.code === 'EIO' && /not written completely \(\d+ bytes/.test(e.message),
    );
  } finally {
    unmount();
  }
});

test('a read-only file system (tmpfs remounted ro): a clear error; the database still answers', async (t) => {
  if (!mountable) return t.skip('needs root and mount (tmpfs)');
  const mnt = path.join(work, 'ro');
  const unmount = mountTmpfs(mnt, '2m');
  try {
    const { root, db, answers } = await builtDataset('ro-data', path.join(mnt, 'db'));
    const before = snapshot(db);
    assert.equal(spawnSync('mount', ['-o', 'remount,ro', mnt]).status, 0);
    const r = cli(['index', root, '--model', model, '--db', db]);
    assert.equal(r.code, 1);
    assert.match(
      r.reason,
      new RegExp(
        `^patchlens: cannot write to the database folder ${esc(db)}: read-only file system \\(EROFS\\)\\. The previous database, if any, is unchanged; choose a writable location with --db$`,
      ),
    );
    const fresh = cli(['index', root, '--model', model, '--db', path.join(mnt, 'other')]);
    assert.match(fresh.reason, /^patchlens: cannot create the database folder .*other: read-only file system \(EROFS\)/);
    assert.deepEqual(snapshot(db), before);
    assert.equal(cli(['query', path.join(root, 'img-01.png'), '--db', db, '--at', '3,3', '--json']).stdout, answers, 'reading needs no write access');
    assert.equal(cli(['stats', '--db', db, '--json']).code, 0);
  } finally {
    unmount();
  }
});

test('a folder the user may not write (run as nobody): a clear error; the database still answers', async (t) => {
  if (!nobody) return t.skip('needs root and setpriv to run the CLI as nobody');
  const { root, db, answers } = await builtDataset('perm');
  for (const f of [root, ...fs.readdirSync(root).map((f) => path.join(root, f))]) fs.chmodSync(f, fs.statSync(f).isDirectory() ? 0o755 : 0o644);
  for (const f of fs.readdirSync(db)) fs.chmodSync(path.join(db, f), 0o644);
  fs.chmodSync(path.join(work, 'model'), 0o755);
  const before = snapshot(db);
  const r = cli(['index', root, '--model', model], { prefix: nobody });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.reason,
    new RegExp(
      `^patchlens: cannot write to the database folder ${esc(db)}: permission denied \\(EACCES\\)\\. The previous database, if any, is unchanged; choose a writable location with --db$`,
    ),
  );
  const fresh = cli(['index', root, '--model', model, '--db', path.join(root, 'elsewhere')], { prefix: nobody });
  assert.match(fresh.reason, /^patchlens: cannot create the database folder .*elsewhere: permission denied \(EACCES\)/);
  assert.deepEqual(snapshot(db), before);
  const q = cli(['query', path.join(root, 'img-01.png'), '--at', '3,3', '--json'], { prefix: nobody });
  assert.equal(q.code, 0, q.stderr);
  assert.equal(q.stdout, answers, 'reading needs no write access');
});
