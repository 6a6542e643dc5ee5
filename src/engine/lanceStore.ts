// Where a Lance database lives and how to reach it: URIs (a local folder,
// s3://, gs://, az://), storage options from the environment and --storage-option,
// the tables' schemas, and errors turned into one line that never shows a secret.

import * as path from 'node:path';
import type * as lancedb from '@lancedb/lancedb';
import { Binary, Field, FixedSizeList, Float32, Float64, Int16, Int32, Int64, Schema, Utf8 } from 'apache-arrow';
import { DatabaseError } from './database';
import { sha256 } from './sha256';
import { isObjectStoreUri, shownUri } from '../core/databaseUri';

// Lance prints a deprecation warning on every index statistics call unless this is set.
process.env.LANCE_INCLUDE_VECTOR_CENTROIDS ??= 'false';
// Lance's own log lines (retries, throttling) would bury the one line an error gets.
process.env.LANCEDB_LOG ??= 'error';

export { isObjectStoreUri, shownUri } from '../core/databaseUri';
export { isLanceFolder } from './locations';

/** A database location as LanceDB wants it: URIs as given, folders absolute. */
export function lanceUri(location: string, cwd = process.cwd()): string {
  return isObjectStoreUri(location) ? location.replace(/\/+$/, '') : path.resolve(cwd, location);
}

const isAzure = (uri: string) => /^(az|abfss?):\/\//i.test(uri);

/** The standard AWS variables as LanceDB storage options (object_store's names). */
const AWS_ENV: readonly (readonly [string, string])[] = [
  ['AWS_ACCESS_KEY_ID', 'aws_access_key_id'],
  ['AWS_SECRET_ACCESS_KEY', 'aws_secret_access_key'],
  ['AWS_SESSION_TOKEN', 'aws_session_token'],
  ['AWS_DEFAULT_REGION', 'region'],
  ['AWS_REGION', 'region'],
  ['AWS_ENDPOINT_URL', 'endpoint'],
  ['AWS_ENDPOINT_URL_S3', 'endpoint'],
  ['AWS_ALLOW_HTTP', 'allow_http'],
];

/**
 * The standard Azure variables as storage options. LanceDB reads them itself;
 * they are copied so that an error shows the endpoint and never the key.
 */
const AZURE_ENV: readonly (readonly [string, string])[] = [
  ['AZURE_STORAGE_ACCOUNT_NAME', 'azure_storage_account_name'],
  ['AZURE_STORAGE_ACCOUNT_KEY', 'azure_storage_account_key'],
  ['AZURE_STORAGE_SAS_KEY', 'azure_storage_sas_key'],
  ['AZURE_STORAGE_ENDPOINT', 'azure_storage_endpoint'],
  ['AZURE_STORAGE_USE_EMULATOR', 'azure_storage_use_emulator'],
];

/** Options whose values are secrets: never printed. */
const SECRET_OPTION = /secret|token|password|key(?!_id)|sas|credential/i;

// object_store retries an unreachable endpoint for minutes by default; a builder or an inspector should hear of it sooner.
const QUICK_FAILURE: Record<string, string> = { connect_timeout: '5s', client_max_retries: '2', client_retry_timeout: '15' };

/**
 * Storage options for a URI: the AWS (s3://) or Azure (az://) environment variables, then `key=value`
 * pairs (--storage-option, VS Code secrets) over them. Local folders need none.
 */
export function storageOptions(uri: string, pairs: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (!isObjectStoreUri(uri)) return {};
  const out: Record<string, string> = { ...QUICK_FAILURE };
  if (/^s3/i.test(uri)) for (const [name, option] of AWS_ENV) if (env[name]) out[option] = env[name]!;
  if (isAzure(uri)) for (const [name, option] of AZURE_ENV) if (env[name]) out[option] = env[name]!;
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new DatabaseError(`a storage option must be key=value, got ${JSON.stringify(SECRET_OPTION.test(p) ? p.replace(/=.*/, '=…') : p)}`);
    out[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1);
  }
  return out;
}

/** Removes every secret value from a message (LanceDB errors may echo options, and it reads the environment's own). */
function scrub(text: string, options: Record<string, string>, env: NodeJS.ProcessEnv = process.env): string {
  let out = text;
  const secrets = [...Object.entries(options), ...Object.entries(env).filter(([k]) => /^(AWS|AZURE|GOOGLE)_/i.test(k))];
  for (const [k, v] of secrets) if (v && v.length >= 4 && SECRET_OPTION.test(k)) out = out.split(v).join('…');
  return out;
}

const CREDENTIALS_REFUSED =
  /InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|403 Forbidden|401 Unauthorized|ExpiredToken|AuthorizationFailure|AuthenticationFailed/i;
const UNREACHABLE = /error sending request|dns error|Connection refused|ECONNREFUSED|timed out|operation timed out/i;
const STORE_TROUBLE = new RegExp(`${CREDENTIALS_REFUSED.source}|${UNREACHABLE.source}|NoSuchBucket|ContainerNotFound`, 'i');

/** One line for a failure of the store, naming it and the likely cause. */
export function storeError(err: unknown, uri: string, options: Record<string, string>, what: string): DatabaseError {
  if (err instanceof DatabaseError) return err;
  const raw = scrub(String((err as Error)?.message ?? err), options);
  const where = shownUri(uri);
  const line = raw.split('\n').find((l) => l.trim()) ?? raw;
  const azure = isAzure(uri);
  if (CREDENTIALS_REFUSED.test(raw)) {
    return new DatabaseError(
      `${what} ${where}: the store refused the credentials`,
      azure
        ? 'Check AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY (or --storage-option)'
        : 'Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or --storage-option)',
    );
  }
  // object_store decodes an Azure account key before any request
  if (/Invalid Access Key/i.test(raw))
    return new DatabaseError(`${what} ${where}: the account key is not valid base64`, 'Check AZURE_STORAGE_ACCOUNT_KEY (or --storage-option)');
  if (/NoSuchBucket/i.test(raw)) return new DatabaseError(`${what} ${where}: no such bucket`);
  if (/ContainerNotFound/i.test(raw)) return new DatabaseError(`${what} ${where}: no such container`, 'Create the container first');
  if (UNREACHABLE.test(raw)) {
    const endpoint = options.endpoint ?? options.azure_storage_endpoint ?? options.azure_endpoint;
    return new DatabaseError(
      `${what} ${where}: the store cannot be reached (${endpoint ? `endpoint ${endpoint}` : 'default endpoint'})`,
      azure
        ? 'Check AZURE_STORAGE_ENDPOINT, the network, or --storage-option azure_storage_endpoint=…'
        : 'Check AWS_ENDPOINT_URL, the network, or --storage-option endpoint=…',
    );
  }
  return new DatabaseError(`${what} ${where}: ${line.replace(/\s+/g, ' ').slice(0, 300)}`);
}

/**
 * LanceDB, loaded on first use: its native part is a platform package that
 * the VSIX of some targets lacks, and the HNSW backend must work there.
 */
export async function lanceModule(): Promise<typeof lancedb> {
  try {
    return await import('@lancedb/lancedb');
  } catch (err) {
    throw new DatabaseError(
      `LanceDB cannot be loaded on ${process.platform}-${process.arch}: ${String((err as Error).message).split('\n')[0]}`,
      'Use the HNSW backend here',
    );
  }
}

export async function connectStore(uri: string, options: Record<string, string>): Promise<lancedb.Connection> {
  const { connect } = await lanceModule();
  try {
    return await connect(uri, { storageOptions: options });
  } catch (err) {
    throw storeError(err, uri, options, 'cannot open the Lance database');
  }
}

/** Opens a table, or undefined when it does not exist (a missing table is not an error of the store). */
export async function openTable(conn: lancedb.Connection, name: string, uri: string, options: Record<string, string>): Promise<lancedb.Table | undefined> {
  try {
    return await conn.openTable(name);
  } catch (err) {
    const msg = String((err as Error)?.message ?? err);
    // a refusal or an unreachable store also ends in "not found" in LanceDB's message: told apart first
    if (!STORE_TROUBLE.test(msg) && /was not found|TableNotFound/i.test(msg)) return undefined;
    throw storeError(err, uri, options, 'cannot open the Lance database');
  }
}

// ---------------------------------------------------------------- schemas

/** entries: one row an entry; its key, its token, and where it comes from. */
export function entriesSchema(keyDim: number): Schema {
  return new Schema([
    new Field('key', new FixedSizeList(keyDim, new Field('item', new Float32(), true)), false),
    new Field('token', new Int32(), false),
    new Field('image', new Int64(), false),
    new Field('row', new Int16(), false),
    new Field('col', new Int16(), false),
  ]);
}

/** images: one row an image; its source, identity, grid and (when kept) latents. */
export const IMAGES_SCHEMA = new Schema([
  new Field('id', new Int64(), false),
  new Field('path', new Utf8(), false),
  new Field('sha256', new Utf8(), false),
  new Field('bytes', new Float64(), false),
  new Field('mtime_ms', new Float64(), false),
  new Field('width', new Int32(), false),
  new Field('height', new Int32(), false),
  new Field('format', new Utf8(), false),
  new Field('rows', new Int16(), false),
  new Field('cols', new Int16(), false),
  /** int32 little-endian, rows x cols */
  new Field('tokens', new Binary(), false),
  /** float32, rows x cols: squared distance of each latent to its code */
  new Field('distances', new Binary(), false),
  /** float32, rows x cols x d, when kept */
  new Field('latents', new Binary(), true),
  /** JSON: caption and fields of the source, when it has any */
  new Field('metadata', new Utf8(), true),
]);

/** meta: an append-only log of JSON documents by kind (model, index); the latest of a kind holds. */
export const META_SCHEMA = new Schema([
  new Field('kind', new Utf8(), false),
  new Field('at', new Float64(), false),
  new Field('json', new Utf8(), false),
  new Field('blob', new Binary(), true),
]);

/** codes: per-code pixel sums and counts added by each commit (sparse: the codes it touched). */
export const CODES_SCHEMA = new Schema([
  new Field('commit', new Utf8(), false),
  /** int32: the code ids */
  new Field('ids', new Binary(), false),
  /** float32: patch x patch x 3 sums per id */
  new Field('sums', new Binary(), false),
  /** uint32: counts per id */
  new Field('counts', new Binary(), false),
  /** images removed or replaced by this commit (still counted in earlier sums) */
  new Field('stale', new Int32(), false),
]);

/** A stable 63-bit id of an image path (the split of --part and the entries' image column). */
export function imageId(rel: string): bigint {
  return BigInt(`0x${sha256(rel).slice(0, 16)}`) & 0x7fffffffffffffffn;
}

/** Which part (1-based) of N an image belongs to. */
export function partOf(id: bigint, parts: number): number {
  return Number(id % BigInt(parts)) + 1;
}

export const bytesOf = (a: Int32Array | Float32Array | Uint32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** A typed array over an Arrow binary value (copied when not 4-byte aligned). */
export function viewOf<T extends Int32Array | Float32Array | Uint32Array>(make: new (b: ArrayBuffer, o: number, n: number) => T, bin: Uint8Array): T {
  const src = bin.byteOffset % 4 === 0 ? bin : new Uint8Array(bin);
  return new make(src.buffer as ArrayBuffer, src.byteOffset, src.byteLength / 4);
}
