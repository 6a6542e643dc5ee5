// Types of code-server.mjs (plain JavaScript so the demo runs without a build).
export declare const repoRoot: string;
export declare const defaultSettings: Readonly<Record<string, unknown>>;
export declare function extensionFolderName(): string;
export declare function runtimeDependencyDirs(): string[];
export declare function installExtension(
  extensionsDir: string,
  opts?: { mode?: 'copy' | 'link' },
): { dir: string; mode: 'copy' | 'link'; seconds: number };

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
  /** 'copy' (default): node_modules with hard links to the runtime dependencies only; 'link': symlink to the repo's. */
  extensionMode?: 'copy' | 'link';
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
  logFile: string;
  startSeconds: number;
  /** Settles when the code-server main process exits (for whatever reason). */
  exited: Promise<{ code: number | null; signal: string | null }>;
  /** Stops the whole process group (TERM, then KILL after 5 s). Idempotent. */
  stop(): Promise<void>;
}

export declare function startCodeServer(opts: StartOptions): Promise<CodeServer>;
