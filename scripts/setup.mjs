// The set-up `npm test` and `npm run demo` do first, so that a fresh Debian/Ubuntu
// clone needs only those two commands; and `npm run doctor`, which only reports.
//
//   node scripts/setup.mjs test|demo   # make the machine ready for that command
//   node scripts/setup.mjs --doctor    # list what is present and missing (exit 1 if anything is)
//
// Steps: Node's version; the Debian packages of scripts/requirements.mjs (apt-get
// when root, otherwise one line naming the `sudo apt-get install` to run, exit 1);
// `npm ci` when node_modules is missing or differs from package-lock.json; code-server
// for the e2e suite and the demo (scripts/provision-code-server.mjs). Plain Node
// only: it runs before node_modules exists. PATCHLENS_SKIP_SETUP=1 skips it.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEBIAN_PACKAGES, NODE_MAJOR } from './requirements.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** A refusal the user can act on: printed as one line, exit 1. */
class SetupError extends Error {}

/** The Debian packages `purpose` needs and which of them dpkg does not have; null when there is no dpkg. */
export function debianStatus(purpose) {
  const wanted = DEBIAN_PACKAGES.filter((p) => purpose === 'all' || p.for.includes(purpose)).map((p) => p.pkg);
  const r = spawnSync('dpkg-query', ['-W', '-f', '${Package}\t${db:Status-Abbrev}\n', ...wanted], { encoding: 'utf8' });
  if (r.error) return { wanted, missing: null };
  const installed = new Set(
    r.stdout
      .split('\n')
      .map((l) => l.split('\t'))
      .filter(([, status]) => status?.startsWith('ii'))
      .map(([name]) => name.replace(/:.*$/, '')),
  );
  return { wanted, missing: wanted.filter((p) => !installed.has(p)) };
}

/** Why node_modules does not match package-lock.json (npm's own record of what it installed), or null. */
export function nodeModulesStale(repo = root) {
  const installedLock = path.join(repo, 'node_modules', '.package-lock.json');
  if (!fs.existsSync(installedLock)) return 'node_modules is missing';
  const want = JSON.parse(fs.readFileSync(path.join(repo, 'package-lock.json'), 'utf8')).packages ?? {};
  const have = JSON.parse(fs.readFileSync(installedLock, 'utf8')).packages ?? {};
  for (const [key, info] of Object.entries(want)) {
    if (!key || info.link) continue;
    const got = have[key];
    // Optional packages for other platforms are rightly absent.
    if (!got && info.optional) continue;
    if (!got) return `${key.replace(/^node_modules\//, '')} is not installed`;
    if (got.version !== info.version) return `${key.replace(/^node_modules\//, '')} is ${got.version}, the lock file wants ${info.version}`;
  }
  for (const key of Object.keys(have)) if (!want[key]) return `${key.replace(/^node_modules\//, '')} is installed but not in the lock file`;
  return null;
}

const isRoot = () => process.getuid?.() === 0;

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
  if (r.status !== 0) throw new SetupError(`\`${[cmd, ...args].join(' ')}\` failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
}

/** @param {'test' | 'demo'} purpose */
export async function setup(purpose, log = (l) => process.stderr.write(`[setup] ${l}\n`)) {
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== NODE_MAJOR) {
    throw new SetupError(
      `Node ${NODE_MAJOR} is needed (code-server 4.100.3, which the e2e tests and the demo run, installs only on Node ${NODE_MAJOR}); this is Node ${process.versions.node}`,
    );
  }
  const deb = debianStatus(purpose);
  if (deb.missing === null) {
    log(`no dpkg here (not Debian/Ubuntu): make sure the equivalents of ${deb.wanted.join(' ')} are installed`);
  } else if (deb.missing.length) {
    const install = ['apt-get', 'install', '-y', '--no-install-recommends', ...deb.missing];
    if (!isRoot()) throw new SetupError(`missing Debian packages; run: sudo ${install.join(' ')}`);
    log(`installing ${deb.missing.join(' ')} with apt-get ...`);
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    run('apt-get', ['update', '-q'], env);
    run(install[0], [...install.slice(1), '-q'], env);
  }
  const stale = nodeModulesStale();
  if (stale) {
    log(`${stale}: running npm ci ...`);
    run('npm', ['ci', '--no-audit', '--no-fund'], { ONNXRUNTIME_NODE_INSTALL: 'skip' });
  }
  const { provisionCodeServer } = await import('./provision-code-server.mjs');
  const cs = await provisionCodeServer({ log });
  if (cs.installed) log(`code-server ${cs.version} installed in ${cs.seconds.toFixed(0)} s`);
}

/** `npm run doctor`: one line per requirement. */
export async function doctor(print = (l) => console.log(l)) {
  let missing = 0;
  const line = (ok, what, detail = '') => {
    if (!ok) missing++;
    print(`${ok ? 'present' : 'MISSING'}  ${what}${detail ? `  (${detail})` : ''}`);
  };
  line(Number(process.versions.node.split('.')[0]) === NODE_MAJOR, `Node ${NODE_MAJOR}`, `this is ${process.versions.node}`);
  const deb = debianStatus('all');
  if (deb.missing === null) print('unknown  Debian packages (no dpkg-query here)');
  else for (const p of DEBIAN_PACKAGES) line(!deb.missing.includes(p.pkg), p.pkg, `${p.for.join(', ')}: ${p.why}`);
  const stale = nodeModulesStale();
  line(!stale, 'node_modules matches package-lock.json', stale ?? '');
  const { checkCodeServer, CODE_SERVER_VERSION } = await import('./provision-code-server.mjs');
  const why = checkCodeServer();
  line(why === null, `code-server ${CODE_SERVER_VERSION} in .cache/code-server`, why ?? '');
  if (missing) {
    const fix = deb.missing?.length ? `sudo apt-get install -y --no-install-recommends ${deb.missing.join(' ')}; ` : '';
    print(`${missing} missing: ${fix}npm test or npm run demo sets up the rest`);
  }
  return missing ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = process.argv[2];
  try {
    if (arg === '--doctor') process.exit(await doctor());
    if (arg !== 'test' && arg !== 'demo') throw new SetupError(`usage: node scripts/setup.mjs test|demo|--doctor (got ${arg ?? 'nothing'})`);
    if (process.env.PATCHLENS_SKIP_SETUP !== '1') await setup(arg);
  } catch (e) {
    console.error(`setup: ${e instanceof Error ? e.message.split('\n')[0] : e}`);
    process.exit(1);
  }
}
