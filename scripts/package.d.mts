// Types of package.mjs (plain JavaScript so `npm run package` runs without a build).
export declare const DEFAULT_TARGET: string;
export declare class PackageError extends Error {}
export declare function targetInfo(name: string): { os: string; cpu: string; libc?: string };
export declare function runtimePackages(
  target: { os: string; cpu: string; libc?: string },
  repo?: string,
): { packages: { key: string; name: string }[]; missing: string[] };
export declare function nativeFiles(targetName: string, repo?: string): { files: string[]; problems: string[] };
export declare function vsixFiles(targetName: string, repo?: string): { files: string[]; problems: string[] };
export declare function vsixName(file: string): string;
export declare function packageExtension(opts?: { target?: string; out?: string; log?: (line: string) => void }): {
  vsix: string;
  target: string;
  files: string[];
  bytes: number;
  seconds: number;
};
export declare function cachedPackage(opts?: { target?: string; log?: (line: string) => void }): { vsix: string; cached: boolean; seconds: number };
