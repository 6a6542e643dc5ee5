// Types of setup.mjs (plain JavaScript: it runs before node_modules exists).
export declare function debianStatus(purpose: 'test' | 'demo' | 'all'): { wanted: string[]; missing: string[] | null };
export declare function nodeModulesStale(repo?: string): string | null;
export declare function setup(purpose: 'test' | 'demo', log?: (line: string) => void): Promise<void>;
export declare function doctor(print?: (line: string) => void): Promise<0 | 1>;
