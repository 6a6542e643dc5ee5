// Types of code-server.mjs (plain JavaScript so the demo runs without a build).
export declare const repoRoot: string;
export declare const defaultSettings: Readonly<Record<string, unknown>>;
export declare function extensionFolderName(): string;
export declare function runtimeDependencyDirs(): string[];
export declare function extensionId(): string;
export declare function installVsix(o: { entry: string; extensionsDir: string; env: NodeJS.ProcessEnv; log?: (line: string) => void }): {
  dir: string;
  mode: 'vsix';
  vsix: string;
  seconds: number;
};
export declare function installExtension(extensionsDir: string, opts?: { mode?: 'copy' | 'link' }): { dir: string; mode: 'copy' | 'link'; seconds: number };

export interface StartOptions {
  /** Fresh folder for this run: profile (ud/), extensions (ext/), HOME (home/), code-server.log. */
  runDir: string;
  /** Folder to open. */
  workspace?: string;
  /** false: keep workspace trust on and open in Restricted Mode. Default true. */
  trusted?: boolean;
  /** User settings merged over defaultSettings. */
  settings?: Record<string, unknown>;
  /** Install the built extension into runDir/ext (default true). */
  installExtension?: boolean;
  /**
   * 'vsix' (default; PATCHLENS_EXTENSION_MODE overrides): the VSIX of `npm run package`, installed
   * with `code-server --install-extension`. 'copy': the checkout's dist/, media/ and runtime
   * node_modules hard-linked; 'link': the same with a symlink to the repo's node_modules.
   */
  extensionMode?: 'vsix' | 'copy' | 'link';
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port chosen by the OS. */
  port?: number;
  log?: (line: string) => void;
}

export interface CodeServer {
  url: string;
  /** url?folder=<workspace> */
  folderUrl: string;
  port: number;
  /** PID and process group of code-server. */
  pid: number;
  runDir: string;
  userDataDir: string;
  extensionsDir: string;
  /** The installed extension's folder (absent with installExtension: false). */
  extensionDir?: string;
  logFile: string;
  startSeconds: number;
  /** Settles when the code-server main process exits (for whatever reason). */
  exited: Promise<{ code: number | null; signal: string | null }>;
  /** Stops the whole process group (TERM, then KILL after 5 s). Idempotent. */
  stop(): Promise<void>;
}

export declare function startCodeServer(opts: StartOptions): Promise<CodeServer>;
