// The CLI as an npm package: `npm pack`, `npm install -g` of the tarball into a
// temporary prefix (from the registry cache; npm installs and builds the native
// dependencies), then `patchlens` run far from the checkout: --version, index a folder,
// tokens of an image with no database near it (the bundled model).
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { repoRoot } from '../support/chromium';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'patchlens-cli-pkg-'));
const prefix = path.join(work, 'prefix');
const version = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version as string;
let tarball = '';

function sh(cmd: string, args: string[], cwd: string, timeout = 120_000): SpawnSyncReturns<string> {
  // No trace of the checkout: run in the temp dir, without what `npm test` puts in the
  // environment (npm_* settings, NODE_OPTIONS), keeping the machine's own (certificates, proxies).
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${path.join(prefix, 'bin')}:${process.env.PATH}`,
    ONNXRUNTIME_NODE_INSTALL: 'skip',
    npm_config_update_notifier: 'false',
  };
  for (const k of Object.keys(env)) if ((/^npm_/i.test(k) && k !== 'npm_config_update_notifier') || k === 'NODE_OPTIONS' || k === 'NODE_PATH') delete env[k];
  return spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout });
}

before(
  async () => {
    const t0 = performance.now();
    const pack = spawnSync('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
    });
    assert.equal(pack.status, 0, pack.stderr);
    const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[')));
    tarball = path.join(work, info.filename);
    assert.equal(info.filename, `patch-lens-${version}.tgz`);
    const paths: string[] = info.files.map((f: { path: string }) => f.path);
    assert.ok(paths.includes('media/models/patchlens-vq16/encoder.onnx') && paths.includes('dist/cli.js') && paths.includes('bin/patchlens.js'));
    // scripts/postinstall.mjs alone: npm runs the package's postinstall on install (a no-op outside a checkout).
    assert.deepEqual(
      paths.filter((p) => p !== 'scripts/postinstall.mjs' && /^(src|test|bench|tools|scripts|webview|media\/sample)\/|\.map$|\.ts$/.test(p)),
      [],
    );
    const t1 = performance.now();
    const inst = sh('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], work, 600_000);
    assert.equal(inst.status, 0, `${inst.stdout}${inst.stderr}`);
    process.stderr.write(
      `# npm pack ${((t1 - t0) / 1000).toFixed(1)} s (${(info.size / 1e6).toFixed(1)} MB), npm install -g ${((performance.now() - t1) / 1000).toFixed(1)} s\n`,
    );
  },
  { timeout: 15 * 60_000 },
);

after(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

test('the installed patchlens prints its version', () => {
  const r = sh('patchlens', ['--version'], work);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `${version}\n`);
  const bin = fs.realpathSync(path.join(prefix, 'bin', 'patchlens'));
  assert.ok(bin.startsWith(fs.realpathSync(prefix)) && !bin.startsWith(repoRoot), bin);
});

test('the installed patchlens indexes a folder, and tokenizes an image with no database near it with the bundled model', { timeout: 5 * 60_000 }, async () => {
  const data = path.join(work, 'photos');
  fs.mkdirSync(data);
  for (const [i, colour] of ['#c03020', '#2050c0', '#30a040'].entries()) {
    const noise = Buffer.from(Array.from({ length: 64 * 64 * 3 }, (_, k) => (k * 37 + i * 101) % 256));
    await sharp(noise, { raw: { width: 64, height: 64, channels: 3 } })
      .resize(200, 160)
      .composite([{ input: { create: { width: 60, height: 60, channels: 3, background: colour } }, left: 20 + i * 30, top: 30 }])
      .png()
      .toFile(path.join(data, `p${i}.png`));
  }
  const index = sh('patchlens', ['index', data, '--json', '--quiet', '--workers', '1'], work, 240_000);
  assert.equal(index.status, 0, index.stderr);
  assert.ok(fs.existsSync(path.join(data, '.patchlens')));
  const stats = sh('patchlens', ['stats', '--db', path.join(data, '.patchlens'), '--json'], work);
  assert.equal(stats.status, 0, stats.stderr);
  assert.equal(JSON.parse(stats.stdout).images, 3);

  const lone = path.join(work, 'elsewhere');
  fs.mkdirSync(lone);
  fs.copyFileSync(path.join(data, 'p1.png'), path.join(lone, 'lone.png'));
  const tokens = sh('patchlens', ['tokens', path.join(lone, 'lone.png'), '--json'], lone);
  assert.equal(tokens.status, 0, tokens.stderr);
  const out = JSON.parse(tokens.stdout);
  assert.deepEqual([out.rows, out.cols, out.tokens.length, out.tokens[0].length], [16, 16, 16, 16]);
  // The same tokens as the database's own grid of that image.
  const inDb = sh('patchlens', ['tokens', path.join(data, 'p1.png'), '--json'], work);
  assert.equal(inDb.status, 0, inDb.stderr);
  assert.deepEqual(JSON.parse(inDb.stdout).tokens, out.tokens);
});
