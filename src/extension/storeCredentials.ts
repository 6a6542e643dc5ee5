// Credentials of an object store as Patch Lens keeps them in VS Code's secret
// storage (one entry a store, `scheme://bucket`), and the storage options they
// become for the engine. Pure: no `vscode` import.

export interface StoreCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly region?: string;
  /** An S3-compatible endpoint (MinIO, a fake on loopback); none: AWS's. */
  readonly endpoint?: string;
}

/** The secret storage key of a store's credentials. */
export function secretKey(store: string): string {
  return `patchlens.storage:${store}`;
}

/** Credentials read back from secret storage; undefined for anything malformed. */
export function parseCredentials(text: string | undefined): StoreCredentials | undefined {
  if (!text) return undefined;
  try {
    const j = JSON.parse(text) as Record<string, unknown>;
    const str = (k: string) => (typeof j[k] === 'string' && j[k] ? (j[k] as string) : undefined);
    const accessKeyId = str('accessKeyId');
    const secretAccessKey = str('secretAccessKey');
    if (!accessKeyId || !secretAccessKey) return undefined;
    const out: StoreCredentials = { accessKeyId, secretAccessKey };
    return { ...out, ...opt('sessionToken', str('sessionToken')), ...opt('region', str('region')), ...opt('endpoint', str('endpoint')) };
  } catch {
    return undefined;
  }
}

function opt<K extends string>(k: K, v: string | undefined): Partial<Record<K, string>> {
  return v ? ({ [k]: v } as Record<K, string>) : {};
}

/** Why an endpoint typed by the user is not usable, or undefined when it is (empty: AWS's own). */
export function endpointProblem(v: string): string | undefined {
  if (!v.trim()) return undefined;
  try {
    const u = new URL(v.trim());
    return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : 'The endpoint must be an http:// or https:// URL';
  } catch {
    return 'The endpoint must be a URL such as https://s3.example.com or http://127.0.0.1:9000';
  }
}

/** The `key=value` storage options (object_store's names) the engine connects with. */
export function credentialPairs(c: StoreCredentials): string[] {
  const out = [`aws_access_key_id=${c.accessKeyId}`, `aws_secret_access_key=${c.secretAccessKey}`];
  if (c.sessionToken) out.push(`aws_session_token=${c.sessionToken}`);
  if (c.region) out.push(`region=${c.region}`);
  if (c.endpoint) {
    out.push(`endpoint=${c.endpoint.trim().replace(/\/+$/, '')}`);
    if (/^http:/i.test(c.endpoint.trim())) out.push('allow_http=true');
  }
  return out;
}
