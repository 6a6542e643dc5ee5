// Types of requirements.mjs.
export declare const DEBIAN_PACKAGES: readonly { pkg: string; for: ('test' | 'demo')[]; why: string }[];
export declare const NODE_MAJOR: number;
