// Bundles every entry point with esbuild. Native modules stay external: they are
// loaded from node_modules at run time (and shipped beside the bundle in a package).
import * as esbuild from 'esbuild';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import * as fs from 'node:fs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = new Set(process.argv.slice(2));
const only = [...args].find((a) => a.startsWith('--only='))?.slice('--only='.length);
const watch = args.has('--watch');
const production = args.has('--production');

const external = ['vscode', 'onnxruntime-node', 'hnswlib-node', 'sharp'];

/** @type {Record<string, esbuild.BuildOptions>} */
const targets = {
  extension: { entryPoints: { extension: 'src/extension/extension.ts' }, platform: 'node', format: 'cjs' },
  cli: { entryPoints: { cli: 'src/cli/main.ts' }, platform: 'node', format: 'cjs' },
  encodeWorker: { entryPoints: { encodeWorker: 'src/engine/encodeWorker.ts' }, platform: 'node', format: 'cjs' },
  engineWorker: { entryPoints: { engineWorker: 'src/engine/engineWorker.ts' }, platform: 'node', format: 'cjs' },
  webview: { entryPoints: { webview: 'webview/main.ts' }, platform: 'browser', format: 'iife' },
  // Side panel: the Codebook view (its CSS lands in dist/codebook.css).
  codebook: { entryPoints: { codebook: 'webview/codebook/main.ts' }, platform: 'browser', format: 'iife' },
  // Codicons for webviews: dist/codicon.css and its font.
  codicons: { entryPoints: { codicon: 'node_modules/@vscode/codicons/dist/codicon.css' }, platform: 'browser', loader: { '.ttf': 'file' } },
};

const selected = Object.entries(targets).filter(([name, t]) => {
  if (only && !only.split(',').includes(name)) return false;
  return Object.values(t.entryPoints).every((p) => fs.existsSync(path.join(root, p)));
});

const contexts = await Promise.all(
  selected.map(([, t]) =>
    esbuild.context({
      ...t,
      absWorkingDir: root,
      bundle: true,
      outdir: 'dist',
      target: t.platform === 'node' ? 'node20' : 'chrome120',
      external,
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
