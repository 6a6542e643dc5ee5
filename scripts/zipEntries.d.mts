// Types of zipEntries.mjs.
export declare function zipEntries(file: string): { name: string; size: number; compressedSize: number; read(): Buffer }[];
