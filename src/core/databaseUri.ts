// Database locations as strings: an object-store URI (s3://, gs://, az://) or
// a local folder. Pure, shared by the engine, the CLI and the extension host
// (which must not load LanceDB to tell the two apart).

/** Object-store schemes LanceDB opens; anything else is a local folder. */
const OBJECT_STORE = /^(s3|s3\+ddb|gs|az|abfss?):\/\//i;

export function isObjectStoreUri(uri: string): boolean {
  return OBJECT_STORE.test(uri);
}

/** A URI as it may be shown: no user info, no query string. */
export function shownUri(uri: string): string {
  return isObjectStoreUri(uri) ? uri.replace(/\/\/[^/@]*@/, '//').replace(/\?.*$/, '') : uri;
}

/** The store a URI names, `scheme://bucket` (what credentials are kept under); undefined for a local folder. */
export function storeOf(uri: string): string | undefined {
  const m = /^([a-z0-9+]+):\/\/(?:[^/@]*@)?([^/?#]+)/i.exec(uri);
  return m && isObjectStoreUri(uri) ? `${m[1].toLowerCase()}://${m[2]}` : undefined;
}
