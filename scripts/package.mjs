// `npm run package [-- --target <t>] [-- --out <file|dir>]`: a target-specific VSIX made
// by @vscode/vsce (default target linux-x64). It holds the production bundles (dist/),
// media/ (models, icons, sample photos; no database folders), README, LICENSE,
// CHANGELOG and, of node_modules, only what the target runs: the native dependencies of
// scripts/nativeDependencies.mjs with their runtime dependencies, each cut down to
// its rules. The files are chosen here and handed to vsce as an allow-list; the VSIX
// it writes is read back and must hold exactly them. The last stdout line is the
// .vsix path; anything else goes to stderr. Exit 1 with one line on bad input.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import picomatch from 'picomatch';
import { binaryFormat, FORMAT_OF_OS } from './binaryFormat.mjs';
import { DEFAULT_EXCLUDE, NATIVE_DEPENDENCIES, TARGETS, TRANSITIVE_RULES, UNSUPPORTED_TARGETS } from './nativeDependencies.mjs';
import { zipEntries } from './zipEntries.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const DEFAULT_TARGET = 'linux-x64';

/** A one-line refusal (bad input or a checkout that cannot make this target). */
export class PackageError extends Error {}

/** The target's os/cpu/libc, or a PackageError naming the valid ones. */
export function targetInfo(name) {
  if (Object.hasOwn(UNSUPPORTED_TARGETS, name)) throw new PackageError(`--target ${name}: not supported (${UNSUPPORTED_TARGETS[name]})`);
  if (!Object.hasOwn(TARGETS, name)) throw new PackageError(`--target ${name}: unknown target; one of ${Object.keys(TARGETS).join(', ')}`);
  return TARGETS[name];
}

/** Every file under dir (relative, '/'-separated), not descending into folders skip() refuses. */
function walk(dir, skip = () => false, rel = '') {
  const out = [];
  for (const ent of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${ent.name}` : ent.name;
    if (skip(ent, r)) continue;
    if (ent.isDirectory()) out.push(...walk(dir, skip, r));
    else if (ent.isFile()) out.push(r);
  }
  return out;
}

function matches(target, pkgName, file) {
  const rules = NATIVE_DEPENDENCIES[pkgName] ?? TRANSITIVE_RULES[pkgName] ?? {};
  const base = path.posix.basename(file);
  if (rules.include && !rules.include(target).some((g) => picomatch(g, { dot: true })(file))) return false;
  if (/^licen[cs]e/i.test(base)) return true;
  return ![...DEFAULT_EXCLUDE, ...(rules.exclude ?? [])].some((g) => picomatch(g, { dot: true })(file));
}

/** Whether an optional platform package of the lock file is for this target. */
function fitsTarget(info, target) {
  const ok = (list, v) => !list || v === undefined || list.some((x) => x === v) || (list.every((x) => x.startsWith('!')) && !list.includes(`!${v}`));
  return ok(info.os, target.os) && ok(info.cpu, target.cpu) && ok(info.libc, target.libc);
}

/**
 * The node_modules packages a target runs, from package-lock.json: the native
 * dependencies and their runtime dependencies (of the optional ones, the platform
 * packages whose os/cpu/libc fit), each as its lock key ('node_modules/@img/sharp-linux-x64').
 * @returns {{ packages: { key: string, name: string }[], missing: string[] }}
 */
export function runtimePackages(target, repo = root) {
  const lock = JSON.parse(fs.readFileSync(path.join(repo, 'package-lock.json'), 'utf8')).packages ?? {};
  const seen = new Map();
  const missing = [];
  // Node's resolution over lock keys: the nearest node_modules/<name> up from `from`.
  const resolve = (name, from) => {
    for (let dir = from; ; dir = dir.includes('/node_modules/') ? dir.slice(0, dir.lastIndexOf('/node_modules/')) : '') {
      const key = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      if (lock[key]) return key;
      if (!dir) return null;
    }
  };
  const visit = (name, from, optional) => {
    const key = resolve(name, from);
    if (!key) {
      if (!optional) missing.push(`${name} (not in package-lock.json)`);
      return;
    }
    if (seen.has(key)) return;
    const info = lock[key];
    // Optional dependencies: only the platform packages (os/cpu/libc) for this target;
    // optional add-ons without such fields are left to whoever installs them.
    if (optional && (!(info.os || info.cpu || info.libc) || !fitsTarget(info, target))) return;
    if (!fs.existsSync(path.join(repo, key, 'package.json'))) {
      missing.push(`${key.replace(/^.*node_modules\//, '')} is not installed`);
      return;
    }
    seen.set(key, name);
    const skip = new Set(NATIVE_DEPENDENCIES[name]?.installOnly ?? []);
    for (const dep of Object.keys(info.dependencies ?? {})) if (!skip.has(dep)) visit(dep, key, false);
    for (const dep of Object.keys(info.optionalDependencies ?? {})) if (!skip.has(dep)) visit(dep, key, true);
  };
  for (const name of Object.keys(NATIVE_DEPENDENCIES)) visit(name, '', false);
  return { packages: [...seen].map(([key, name]) => ({ key, name })).sort((a, b) => a.key.localeCompare(b.key)), missing };
}

/** Files the checkout's own part of the VSIX holds: bundles, media (no database folders), docs. */
function ownFiles(repo) {
  const files = ['package.json'];
  for (const f of fs.readdirSync(repo)) if (/^(README|CHANGELOG|LICENSE)(\.(md|txt))?$/i.test(f)) files.push(f);
  const dist = path.join(repo, 'dist');
  // Top-level bundles and their CSS, and the codicon font; no source maps, no bench
  // bundles, no CLI (it ships in the npm package).
  for (const f of walk(dist, (ent, r) => ent.isDirectory() && r !== 'codicons')) {
    if (!f.endsWith('.map') && f !== 'cli.js') files.push(`dist/${f}`);
  }
  for (const f of walk(path.join(repo, 'media'), (ent) => ent.name.startsWith('.') || ent.name === '__pycache__')) files.push(`media/${f}`);
  return files;
}

/**
 * The node_modules files a VSIX for `targetName` holds (paths relative to the
 * checkout), and why it cannot be made: missing native parts, or binaries built for
 * another platform (hnswlib-node compiles for the machine npm ran on).
 */
export function nativeFiles(targetName, repo = root) {
  const target = targetInfo(targetName);
  const { packages, missing } = runtimePackages(target, repo);
  const problems = [...missing];
  const files = [];
  for (const { key, name } of packages) {
    const pkgFiles = walk(path.join(repo, key), (ent) => ent.isDirectory() && ent.name === 'node_modules').filter((f) => matches(target, name, f));
    for (const req of NATIVE_DEPENDENCIES[name]?.required?.(target) ?? []) {
      if (!pkgFiles.includes(req)) problems.push(`${key.replace(/^node_modules\//, '')}/${req} is missing (needed on ${targetName})`);
    }
    files.push(...pkgFiles.map((f) => `${key}/${f}`));
  }
  for (const f of files) {
    if (!/\.(node|so(\.\d+)*|dylib|dll)$/.test(f)) continue;
    const head = Buffer.alloc(4096);
    const fd = fs.openSync(path.join(repo, f), 'r');
    fs.readSync(fd, head, 0, head.length, 0);
    fs.closeSync(fd);
    const fmt = binaryFormat(head);
    if (!fmt || fmt.format !== FORMAT_OF_OS[target.os] || !fmt.arch.includes(target.cpu)) {
      problems.push(`${f} is built for ${fmt ? `${fmt.format} ${fmt.arch.join('+')}` : 'no known platform'}, not ${targetName}`);
    }
  }
  return { files, problems };
}

/** Everything a VSIX for `targetName` holds, sorted, and why it cannot be made. */
export function vsixFiles(targetName, repo = root) {
  const { files, problems } = nativeFiles(targetName, repo);
  for (const f of ['dist/extension.js', 'dist/engineWorker.js', 'dist/encodeWorker.js']) {
    if (!fs.existsSync(path.join(repo, f))) problems.push(`${f} is missing (the build did not make it)`);
  }
  return { files: [...ownFiles(repo), ...files].sort(), problems };
}

/** The VSIX's own name for a checkout file: vsce puts the extension under extension/ and renames the docs. */
export function vsixName(file) {
  if (/^readme\.md$/i.test(file)) return 'extension/readme.md';
  if (/^changelog\.md$/i.test(file)) return 'extension/changelog.md';
  if (/^licen[cs]e$/i.test(file)) return `extension/${file}.txt`;
  return `extension/${file}`;
}

/**
 * Builds the production bundles, chooses the files and has vsce pack them.
 * @param {{ target?: string, out?: string, log?: (line: string) => void }} [opts]
 * @returns {{ vsix: string, target: string, files: string[], bytes: number, seconds: number }}
 */
export function packageExtension(opts = {}) {
  const targetName = opts.target ?? DEFAULT_TARGET;
  const log = opts.log ?? ((l) => process.stderr.write(`${l}\n`));
  const t0 = performance.now();
  targetInfo(targetName);
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
  if (!fs.existsSync(vsce)) throw new PackageError('@vscode/vsce is not installed: run npm ci');

  const native = nativeFiles(targetName);
  if (native.problems.length) {
    throw new PackageError(
      `cannot package for ${targetName}: ${native.problems.join('; ')} (npm installs and builds native parts for the machine it runs on: package ${targetName} on ${targetName})`,
    );
  }
  const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--production'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new PackageError(`the production build failed: ${(build.stderr || build.stdout).trim().split('\n').slice(-1)[0]}`);

  const { files, problems } = vsixFiles(targetName);
  if (problems.length) throw new PackageError(`cannot package for ${targetName}: ${problems.join('; ')}`);

  let out = opts.out ? path.resolve(opts.out) : root;
  if (fs.existsSync(out) && fs.statSync(out).isDirectory()) out = path.join(out, `${pkg.name}-${targetName}-${pkg.version}.vsix`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'patchlens-vsce-'));
  try {
    // An allow-list: ignore everything, then un-ignore each chosen file.
    const ignoreFile = path.join(tmp, 'vscodeignore');
    fs.writeFileSync(ignoreFile, ['**', ...files.map((f) => `!${f}`)].join('\n') + '\n');
    const r = spawnSync(process.execPath, [vsce, 'package', '--target', targetName, '--ignoreFile', ignoreFile, '--out', out], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      input: '', // vsce asks y/N on some warnings: an empty answer refuses
      maxBuffer: 64 * 1024 * 1024,
    });
    const said = `${r.stdout}${r.stderr}`.trim();
    if (r.status !== 0) throw new PackageError(`vsce package failed: ${said.split('\n').filter(Boolean).slice(-1)[0] ?? `exit ${r.status}`}`);
    const warnings = said.split('\n').filter((l) => /WARNING/i.test(l));
    if (warnings.length) throw new PackageError(`vsce warned: ${warnings.join(' | ')}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  // What vsce wrote must be what was chosen: a file name that a glob misreads would differ.
  const packed = new Set(
    zipEntries(out)
      .map((e) => e.name)
      .filter((n) => n.startsWith('extension/')),
  );
  const wanted = new Set(files.map(vsixName));
  const extra = [...packed].filter((n) => !wanted.has(n));
  const lost = [...wanted].filter((n) => !packed.has(n));
  if (extra.length || lost.length) {
    throw new PackageError(`the VSIX differs from the chosen files: ${[...extra.map((n) => `+${n}`), ...lost.map((n) => `-${n}`)].slice(0, 5).join(' ')}`);
  }
  const bytes = fs.statSync(out).size;
  const seconds = (performance.now() - t0) / 1000;
  log(`packaged ${files.length} files for ${targetName}: ${(bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(1)} s`);
  return { vsix: out, target: targetName, files, bytes, seconds };
}

/** What a VSIX is made from: its content hash names a cached package. */
function inputHash(targetName) {
  const h = createHash('sha256');
  h.update(`${targetName}\0`);
  const files = [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'README.md',
    'CHANGELOG.md',
    'LICENSE',
    'scripts/build.mjs',
    'scripts/package.mjs',
    'scripts/nativeDependencies.mjs',
    'scripts/binaryFormat.mjs',
  ];
  for (const dir of ['src', 'webview', 'media']) {
    if (fs.existsSync(path.join(root, dir)))
      files.push(...walk(path.join(root, dir), (ent) => ent.name.startsWith('.') || ent.name === '__pycache__').map((f) => `${dir}/${f}`));
  }
  for (const f of files.sort()) {
    if (!fs.existsSync(path.join(root, f))) continue;
    h.update(`${f}\0`);
    h.update(fs.readFileSync(path.join(root, f)));
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * A VSIX of the checkout as it is now: reused from .cache/vsix/ when one was made from
 * the same files (the e2e suite packages once per change, not once per test file).
 * @param {{ target?: string, log?: (line: string) => void }} [opts]
 * @returns {{ vsix: string, cached: boolean, seconds: number }}
 */
export function cachedPackage(opts = {}) {
  const targetName = opts.target ?? DEFAULT_TARGET;
  const t0 = performance.now();
  const dir = path.join(root, '.cache', 'vsix');
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const file = path.join(dir, `${pkg.name}-${targetName}-${pkg.version}-${inputHash(targetName)}.vsix`);
  if (fs.existsSync(file)) return { vsix: file, cached: true, seconds: (performance.now() - t0) / 1000 };
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp.vsix`;
  try {
    // Through the command itself, so each suite run also checks what it prints.
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--target', targetName, '--out', tmp], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new PackageError(r.stderr.trim() || `npm run package failed (exit ${r.status ?? r.signal})`);
    for (const line of r.stderr.trim().split('\n').filter(Boolean)) opts.log?.(line);
    const printed = r.stdout.trim().split('\n').at(-1);
    if (printed !== tmp) throw new PackageError(`npm run package printed ${JSON.stringify(printed)} last, not the path of the VSIX (${tmp})`);
    fs.renameSync(tmp, file);
    for (const old of fs.readdirSync(dir)) {
      const stale = old.startsWith(`${pkg.name}-${targetName}-`) && old.endsWith('.vsix') && !old.includes('.tmp.');
      if (stale && old !== path.basename(file)) fs.rmSync(path.join(dir, old), { force: true });
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return { vsix: file, cached: false, seconds: (performance.now() - t0) / 1000 };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const { values } = parseArgs({ options: { target: { type: 'string', default: DEFAULT_TARGET }, out: { type: 'string' } }, strict: true });
    const r = packageExtension({ target: values.target, out: values.out });
    console.log(r.vsix);
  } catch (e) {
    console.error(`package: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  }
}
