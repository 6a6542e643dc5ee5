// Injected into the CommonJS bundles: ES modules bundled into them (h5wasm's
// Emscripten loader) read import.meta.url, which CommonJS does not have.
export const importMetaUrl = require('node:url').pathToFileURL(__filename).href;
