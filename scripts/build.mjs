// Bundles the entry points with esbuild into dist/: the extension, the CLI, the
// two worker threads (encodeWorker, engineWorker), one bundle and its CSS per
// webview, and the codicon font the webviews load. The native modules of
// scripts/nativeDependencies.mjs stay external (of one marked `bundled`, only
// its platform packages, `<name>-*`): they are loaded from node_modules at run
// time (and shipped beside the bundles in a package); every other dependency
// is bundled, apache-arrow as one copy and jsonc-parser from its ES modules
// (see below). Node bundles are CommonJS, so `import.meta.url` is replaced by
// scripts/importMetaUrl.js.
// Flags: --only=<target,...> builds some targets (extension, cli, encodeWorker,
// engineWorker, webview); --watch rebuilds on change; --production minifies
// and writes no source maps.
import * as esbuild from 'esbuild';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { NATIVE_DEPENDENCIES } from './nativeDependencies.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = new Set(process.argv.slice(2));
const only = [...args].find((a) => a.startsWith('--only='))?.slice('--only='.length);
const watch = args.has('--watch');
const production = args.has('--production');

// A dependency marked `bundled` has its JavaScript in the bundles (LanceDB: so that one
// apache-arrow serves it and the engine); only its platform packages load at run time.
const external = ['vscode', ...Object.entries(NATIVE_DEPENDENCIES).flatMap(([name, d]) => (d.bundled ? [`${name}-*`] : [name]))];

// apache-arrow ships an ES module and a CommonJS build; LanceDB require()s one and the
// engine imports the other, and two Arrows in a bundle do not recognise each other's
// tables. Every import of it resolves to the CommonJS build.
/** @type {esbuild.Plugin} */
const oneArrow = {
  name: 'one-arrow',
  setup(b) {
    b.onResolve({ filter: /^apache-arrow$/ }, () => ({ path: path.join(root, 'node_modules', 'apache-arrow', 'Arrow.node.js') }));
  },
};

// h5wasm is 5.8 MB of JavaScript (its WebAssembly inlined) that only HDF5 datasets
// use; bundled into the CLI and the workers it was parsed on every start (~0.2 s of
// CPU). It is its own bundle, dist/h5wasm.js, which the others require() (through
// their `import('h5wasm/node')`) when an HDF5 file is opened.
const H5WASM_ENTRY = 'node_modules/h5wasm/dist/node/hdf5_hl.js';
/** @type {esbuild.Plugin} */
const h5wasmApart = {
  name: 'h5wasm-apart',
  setup(b) {
    b.onResolve({ filter: /^h5wasm\/node$/ }, () => ({ path: './h5wasm.js', external: true }));
  },
};

/** @type {Record<string, esbuild.BuildOptions>} */
const targets = {
  extension: { entryPoints: { extension: 'src/extension/extension.ts' }, platform: 'node', format: 'cjs' },
  cli: { entryPoints: { cli: 'src/cli/main.ts' }, platform: 'node', format: 'cjs' },
  encodeWorker: { entryPoints: { encodeWorker: 'src/engine/encodeWorker.ts' }, platform: 'node', format: 'cjs' },
  engineWorker: { entryPoints: { engineWorker: 'src/engine/engineWorker.ts' }, platform: 'node', format: 'cjs' },
  h5wasm: { entryPoints: { h5wasm: H5WASM_ENTRY }, platform: 'node', format: 'cjs' },
  // One bundle (+ its CSS) per webview, dist/<name>.js and dist/<name>.css; a new webview adds its entry here.
  webview: {
    entryPoints: {
      inspector: 'webview/inspector/main.ts',
      codebook: 'webview/codebook/main.ts',
      duplicates: 'webview/duplicates/main.ts',
    },
    platform: 'browser',
    format: 'iife',
  },
};

const selected = Object.entries(targets).filter(([name, t]) => {
  // every Node bundle may load dist/h5wasm.js: built with any of them
  const wanted = only?.split(',');
  if (wanted && name === 'h5wasm') return wanted.some((n) => targets[n]?.platform === 'node');
  if (wanted && !wanted.includes(name)) return false;
  return Object.values(t.entryPoints).every((p) => fs.existsSync(path.join(root, p)));
});

// The codicon font for webviews (vscode-elements' <vscode-icon> and toolbar buttons need its CSS on the page).
function copyCodicons() {
  const from = path.join(root, 'node_modules', '@vscode', 'codicons', 'dist');
  const to = path.join(root, 'dist', 'codicons');
  fs.mkdirSync(to, { recursive: true });
  for (const f of ['codicon.css', 'codicon.ttf']) fs.copyFileSync(path.join(from, f), path.join(to, f));
}
if (selected.some(([name]) => name === 'webview')) copyCodicons();

const contexts = await Promise.all(
  selected.map(([, t]) =>
    esbuild.context({
      ...t,
      absWorkingDir: root,
      bundle: true,
      outdir: 'dist',
      target: t.platform === 'node' ? 'node20' : 'chrome120',
      external,
      // jsonc-parser's main is a UMD build whose require('./impl/…') calls esbuild cannot follow; its ES build bundles.
      alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
      ...(t.platform === 'node'
        ? {
            define: { 'import.meta.url': 'importMetaUrl' },
            inject: ['scripts/importMetaUrl.js'],
            plugins: t.entryPoints.h5wasm ? [] : [oneArrow, h5wasmApart],
          }
        : {}),
      sourcemap: production ? false : 'linked',
      minify: production,
      logLevel: 'warning',
      legalComments: 'none',
    }),
  ),
);

if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
  console.error(`watching ${selected.map(([n]) => n).join(', ')}`);
} else {
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
  console.error(`built ${selected.map(([n]) => n).join(', ')} -> dist/`);
}
