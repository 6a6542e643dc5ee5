// The runtime dependencies that esbuild leaves out of the bundles (they load native
// code) and what of each goes into a VSIX. One entry per dependency: build.mjs marks
// them external, package.mjs ships them with their own runtime dependencies, and a
// platform package of theirs (sharp's @img/*, LanceDB's *-linux-x64-gnu) is picked by
// the os/cpu/libc its package-lock entry declares. `include`/`exclude` are globs
// relative to the package folder (default: everything but type declarations, source
// maps, headers and read-mes: DEFAULT_EXCLUDE); `installOnly` names dependencies needed only by an
// install script; `required` lists the files a target cannot run without. The default
// exclusions apply inside `include` too; licence files are always kept. Keep the
// JavaScript files few (vsce warns above 100, and a warning fails `npm run package`):
// an `include` naming one module format does that for packages that ship several.

/** The targets vsce knows, as npm's os/cpu/libc fields spell them. */
export const TARGETS = Object.freeze({
  'linux-x64': { os: 'linux', cpu: 'x64', libc: 'glibc' },
  'linux-arm64': { os: 'linux', cpu: 'arm64', libc: 'glibc' },
  'linux-armhf': { os: 'linux', cpu: 'arm', libc: 'glibc' },
  'alpine-x64': { os: 'linux', cpu: 'x64', libc: 'musl' },
  'alpine-arm64': { os: 'linux', cpu: 'arm64', libc: 'musl' },
  'darwin-x64': { os: 'darwin', cpu: 'x64' },
  'darwin-arm64': { os: 'darwin', cpu: 'arm64' },
  'win32-x64': { os: 'win32', cpu: 'x64' },
  'win32-arm64': { os: 'win32', cpu: 'arm64' },
});

/** vsce targets Patch Lens cannot run on at all (no Node extension host for native code). */
export const UNSUPPORTED_TARGETS = Object.freeze({ web: 'the web extension host cannot load native modules' });

/** @typedef {{ os: string, cpu: string, libc?: string }} Target */
/** @typedef {{ include?: (t: Target) => string[], exclude?: string[], installOnly?: string[], required?: (t: Target) => string[], bundled?: boolean }} NativeDependency */

/** @type {Record<string, NativeDependency>} */
export const NATIVE_DEPENDENCIES = {
  sharp: {
    exclude: ['src/**', 'install/**', 'lib/**', 'dist/*.mjs'],
  },
  'onnxruntime-node': {
    // The binaries of every platform are in the package; a VSIX needs its own.
    include: (t) => ['package.json', 'LICENSE*', 'dist/*.js', `bin/napi-v6/${t.os}/${t.cpu}/*`],
    installOnly: ['adm-zip', 'global-agent'],
    required: (t) => [`bin/napi-v6/${t.os}/${t.cpu}/onnxruntime_binding.node`],
  },
  '@lancedb/lancedb': {
    // Its JavaScript and apache-arrow are in the bundles (build.mjs: `bundled`), so one
    // Arrow serves LanceDB and the engine; a VSIX carries its platform package
    // (@lancedb/lancedb-linux-x64-gnu, ...), found as an optional dependency of the lock.
    bundled: true,
    include: () => ['package.json', 'LICENSE*'],
    installOnly: ['reflect-metadata'],
  },
  'hnswlib-node': {
    // Compiled from source by its install script, for the machine npm ran on.
    include: () => ['package.json', 'LICENSE*', 'lib/*.js', 'build/Release/addon.node'],
    installOnly: ['node-addon-api'],
    required: () => ['build/Release/addon.node'],
  },
};

/** Rules for the packages these pull in (found through package-lock.json), where the default keeps too much. */
export const TRANSITIVE_RULES = {
  'onnxruntime-common': { include: () => ['package.json', 'LICENSE*', 'dist/cjs/**'] },
};

/** Left out of every shipped package (licence files excepted). */
export const DEFAULT_EXCLUDE = [
  'test/**',
  'tests/**',
  '**/*.d.ts',
  '**/*.d.mts',
  '**/*.d.cts',
  '**/*.map',
  '**/*.h',
  '**/*.gyp',
  '**/*.md',
  '**/*.ts',
  '**/.*',
];
