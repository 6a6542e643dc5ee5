// Types of provision-code-server.mjs (plain JavaScript so it runs without a build).
export declare const CODE_SERVER_VERSION: string;
/** The cache folder (`.cache/code-server/`, or $PATCHLENS_CODE_SERVER_CACHE). */
export declare function cacheRoot(): string;
/** Why the cached install is unusable, or null when it is valid. */
export declare function checkCodeServer(): string | null;
export interface Provisioned {
  /** node_modules/.bin/code-server */
  bin: string;
  /** out/node/entry.js, to run with this Node */
  entry: string;
  dir: string;
  version: string;
  /** true when this call installed it */
  installed: boolean;
  seconds: number;
}
/** Installs code-server into the cache when missing or stale (about 2 minutes); otherwise returns at once. */
export declare function provisionCodeServer(opts?: { force?: boolean; log?: (line: string) => void }): Promise<Provisioned>;
