// Credentials of an object store as Patch Lens keeps them in VS Code's secret
// storage (one entry a store, `scheme://bucket` or `az://container`), and the
// storage options they become for the engine. Pure: no `vscode` import.

/** An S3 (or S3-compatible) store's access key. */
export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly region?: string;
  /** An S3-compatible endpoint (MinIO, a fake on loopback); none: AWS's. */
  readonly endpoint?: string;
}

/** An Azure storage account's shared key. */
export interface AzureCredentials {
  readonly accountName: string;
  readonly accountKey: string;
  /** The blob endpoint (Azurite: http://127.0.0.1:10000/devstoreaccount1); none: https://<account>.blob.core.windows.net. */
  readonly endpoint?: string;
}

export type StoreCredentials = S3Credentials | AzureCredentials;

export const isAzureCredentials = (c: StoreCredentials): c is AzureCredentials => 'accountKey' in c;

/** Whether a store (`scheme://name`) is Azure Blob Storage. */
export const isAzureStore = (store: string): boolean => /^(az|abfss?):\/\//i.test(store);

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
    const accountName = str('accountName');
    const accountKey = str('accountKey');
    if (accountName && accountKey) return { accountName, accountKey, ...opt('endpoint', str('endpoint')) };
    const accessKeyId = str('accessKeyId');
    const secretAccessKey = str('secretAccessKey');
    if (!accessKeyId || !secretAccessKey) return undefined;
    const out: S3Credentials = { accessKeyId, secretAccessKey };
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

/** Why an Azure account key typed by the user is not usable (object_store decodes it as base64), or undefined when it is. */
export function accountKeyProblem(v: string): string | undefined {
  const k = v.trim();
  if (!k) return 'The account key is required';
  return /^[A-Za-z0-9+/]+={0,2}$/.test(k) && k.length % 4 === 0 ? undefined : 'The account key is base64 (Azure portal: Access keys)';
}

/** The `key=value` storage options (object_store's names) the engine connects with. */
export function credentialPairs(c: StoreCredentials): string[] {
  if (isAzureCredentials(c)) {
    const out = [`azure_storage_account_name=${c.accountName}`, `azure_storage_account_key=${c.accountKey}`];
    if (c.endpoint) {
      out.push(`azure_storage_endpoint=${c.endpoint.trim().replace(/\/+$/, '')}`);
      if (/^http:/i.test(c.endpoint.trim())) out.push('allow_http=true');
    }
    return out;
  }
  const out = [`aws_access_key_id=${c.accessKeyId}`, `aws_secret_access_key=${c.secretAccessKey}`];
  if (c.sessionToken) out.push(`aws_session_token=${c.sessionToken}`);
  if (c.region) out.push(`region=${c.region}`);
  if (c.endpoint) {
    out.push(`endpoint=${c.endpoint.trim().replace(/\/+$/, '')}`);
    if (/^http:/i.test(c.endpoint.trim())) out.push('allow_http=true');
  }
  return out;
}
