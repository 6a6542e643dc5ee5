// What a fresh Debian/Ubuntu machine needs besides Node 20, in one place: the set-up
// step of `npm test` and `npm run demo` (scripts/setup.mjs), `npm run doctor` and
// `.ci/run` all read this list. Add a package as one line; `for` says which commands
// need it ('test', 'demo').

/** @type {{ pkg: string, for: ('test' | 'demo')[], why: string }[]} */
export const DEBIAN_PACKAGES = [
  { pkg: 'chromium', for: ['test'], why: 'the browser the webview and end-to-end tests drive' },
  { pkg: 'ripgrep', for: ['test', 'demo'], why: "code-server's search; its installer takes rg from here instead of GitHub" },
  { pkg: 'build-essential', for: ['test', 'demo'], why: "compiling code-server's native modules (and hnswlib-node)" },
  { pkg: 'pkg-config', for: ['test', 'demo'], why: "code-server's native modules" },
  { pkg: 'python3', for: ['test', 'demo'], why: 'node-gyp' },
  { pkg: 'libkrb5-dev', for: ['test', 'demo'], why: "code-server's kerberos module" },
  { pkg: 'libx11-dev', for: ['test', 'demo'], why: "code-server's native-keymap module" },
  { pkg: 'libxkbfile-dev', for: ['test', 'demo'], why: "code-server's native-keymap module" },
  { pkg: 'libsecret-1-dev', for: ['test', 'demo'], why: "code-server's keytar module" },
  { pkg: 'python3-torch', for: ['test'], why: 'the tokenizer tools and their tests' },
  { pkg: 'python3-onnx', for: ['test'], why: 'the tokenizer tools (ONNX export and checks)' },
  { pkg: 'python3-numpy', for: ['test'], why: 'the tokenizer tools' },
  { pkg: 'python3-pil', for: ['test'], why: 'the tokenizer tools (images)' },
  { pkg: 'python3-h5py', for: ['test'], why: "AR-RAG's HDF5 code shards in tests" },
  { pkg: 'python3-faiss', for: ['test'], why: 'FAISS, the reference the index is compared against' },
];

/** The Node major version the end-to-end code-server (4.100.3) installs on. */
export const NODE_MAJOR = 20;
