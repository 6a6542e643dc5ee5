// How the engine reaches a database that patchlens.databases names: before
// the first request on it, the engine is told the dataset folder its images
// are on here and the storage options to connect with: the store's
// credentials from VS Code's secret storage (over the extension host's AWS_*
// or AZURE_* environment variables, which the engine reads itself). The
// secrets go to the engine worker only: never to settings, the log or a
// webview. Also the commands that set and clear them (S3 and Azure).

import * as vscode from 'vscode';
import type { EngineClient } from '../engine/engineClient';
import type { DatasetRegistry } from './datasets';
import { isObjectStoreUri, shownUri, storeOf } from '../core/databaseUri';
import {
  accountKeyProblem,
  credentialPairs,
  endpointProblem,
  isAzureCredentials,
  isAzureStore,
  parseCredentials,
  secretKey,
  type AzureCredentials,
  type StoreCredentials,
} from './storeCredentials';
import { storeProblem } from './storeProblem';
import { sha256 } from '../engine/sha256';
import { rootFromArg } from './buildCommands';

/** The stores that have credentials kept (names only: what Clear Storage Credentials offers). */
const STORES_KEY = 'patchlens.storageCredentialStores';

export class StorageConnections implements vscode.Disposable {
  /** What the engine was last told for each database (a digest), or '' for a database the settings do not name. */
  private readonly told = new Map<string, string>();
  private readonly telling = new Map<string, Promise<void>>();
  /** Store failures already shown (once each). */
  private readonly shown = new Set<string>();
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly engine: EngineClient,
    private readonly datasets: DatasetRegistry,
    private readonly log: vscode.LogOutputChannel,
  ) {
    engine.setBeforeRequest((_method, params) => this.beforeRequest(params));
    this.subs.push(
      datasets.onDidChange(() => this.told.clear()),
      context.secrets.onDidChange(() => {
        this.told.clear();
        this.datasets.fire();
      }),
    );
  }

  private beforeRequest(params: unknown): Promise<void> | undefined {
    if (!params || typeof params !== 'object') return undefined;
    const p = params as { dbDir?: unknown; against?: unknown };
    const waits = [p.dbDir, p.against].filter((d): d is string => typeof d === 'string' && !this.told.has(d)).map((d) => this.tell(d));
    return waits.length ? Promise.all(waits).then(() => undefined) : undefined;
  }

  /** Tells the engine a named database's root and storage options (when they changed). */
  private tell(dbDir: string): Promise<void> {
    let t = this.telling.get(dbDir);
    if (t) return t;
    t = (async () => {
      const root = this.datasets.rootOfDatabase(dbDir);
      if (root === undefined && !isObjectStoreUri(dbDir)) {
        this.told.set(dbDir, '');
        return;
      }
      const store = storeOf(dbDir);
      const creds = store ? parseCredentials(await this.context.secrets.get(secretKey(store))) : undefined;
      const options = creds ? credentialPairs(creds) : [];
      const digest = sha256(JSON.stringify([root ?? '', options]));
      if (this.told.get(dbDir) === digest) return;
      await this.engine.request('storageOptions', { dbDir, options, ...(root ? { root } : {}) });
      this.told.set(dbDir, digest);
      if (store)
        this.log.info(
          `Connecting to ${shownUri(dbDir)} with ${creds ? `the credentials kept for ${store}${creds.endpoint ? ` (endpoint ${creds.endpoint})` : ''}` : `the ${isAzureStore(store) ? 'AZURE' : 'AWS'}_* environment variables`}`,
        );
    })().finally(() => this.telling.delete(dbDir));
    this.telling.set(dbDir, t);
    return t;
  }

  /** Shows a store's failure (refused credentials, unreachable endpoint) once, with the command that fixes it. */
  report(root: string, message: string): void {
    const problem = storeProblem(message);
    if (!problem || this.shown.has(problem.line)) return;
    this.shown.add(problem.line);
    this.log.error(problem.line);
    void vscode.window.showErrorMessage(`Patch Lens: ${problem.line}.`, 'Set Storage Credentials…').then((c) => {
      if (c) void vscode.commands.executeCommand('patchlens.setStorageCredentials', root);
    });
  }

  /** The object-store URI to set credentials for: the dataset's, the only one, one picked, or one typed. */
  private async pickUri(root?: string): Promise<string | undefined> {
    const named = root ? this.datasets.dbDirFor(root) : undefined;
    if (named && isObjectStoreUri(named)) return named;
    const remote = this.datasets
      .list()
      .map((d) => ({ d, uri: this.datasets.dbDirFor(d.root) }))
      .filter((x) => isObjectStoreUri(x.uri));
    if (remote.length === 1) return remote[0].uri;
    if (remote.length > 1) {
      const picked = await vscode.window.showQuickPick(
        remote.map((x) => ({ label: shownUri(x.uri), description: x.d.name, uri: x.uri })),
        { title: 'Set Storage Credentials', placeHolder: 'The database to set credentials for' },
      );
      return picked?.uri;
    }
    const typed = await vscode.window.showInputBox({
      title: 'Set Storage Credentials',
      prompt: 'The object-store URI of the database (name it for a dataset in the patchlens.databases setting)',
      placeHolder: 's3://bucket/prefix',
      ignoreFocusOut: true,
      validateInput: (v) => (storeOf(v.trim()) ? undefined : 'An object-store URI such as s3://bucket/prefix'),
    });
    return typed?.trim();
  }

  async setCredentials(root?: string): Promise<boolean> {
    const uri = await this.pickUri(root);
    const store = uri ? storeOf(uri) : undefined;
    if (!store) return false;
    const azure = isAzureStore(store);
    if (!/^s3/i.test(store) && !azure) {
      void vscode.window.showInformationMessage(
        `Patch Lens: ${store} is neither S3 nor Azure; LanceDB reads its credentials from the environment of VS Code (see the README's Database section).`,
      );
      return false;
    }
    const old = parseCredentials(await this.context.secrets.get(secretKey(store)));
    const title = `Storage credentials for ${store}`;
    const ask = (o: vscode.InputBoxOptions) => vscode.window.showInputBox({ title, ignoreFocusOut: true, ...o });
    const required = (what: string) => (v: string) => (v.trim() ? undefined : `The ${what} is required`);
    const creds = azure ? await this.askAzure(ask, required, old && isAzureCredentials(old) ? old : undefined) : await this.askS3(ask, required, old);
    if (!creds) return false;
    await this.context.secrets.store(secretKey(store), JSON.stringify(creds));
    const stores = this.context.globalState.get<string[]>(STORES_KEY, []);
    if (!stores.includes(store)) await this.context.globalState.update(STORES_KEY, [...stores, store]);
    this.forgetShown();
    this.log.info(`Storage credentials for ${store} kept in VS Code's secret storage`);
    void vscode.window.showInformationMessage(`Patch Lens: credentials for ${store} saved in VS Code's secret storage.`);
    return true;
  }

  /** An Azure storage account's name, shared key and (for Azurite or a sovereign cloud) blob endpoint. */
  private async askAzure(
    ask: (o: vscode.InputBoxOptions) => Thenable<string | undefined>,
    required: (what: string) => (v: string) => string | undefined,
    old: AzureCredentials | undefined,
  ): Promise<StoreCredentials | undefined> {
    const accountName = await ask({
      prompt: 'Storage account name',
      value: old?.accountName ?? process.env.AZURE_STORAGE_ACCOUNT_NAME,
      validateInput: required('account name'),
    });
    if (accountName === undefined) return undefined;
    const accountKey = await ask({ prompt: 'Account key (Access keys in the Azure portal)', password: true, validateInput: accountKeyProblem });
    if (accountKey === undefined) return undefined;
    const endpoint = await ask({
      prompt: `Blob endpoint (empty: https://${accountName.trim()}.blob.core.windows.net)`,
      value: old?.endpoint ?? '',
      placeHolder: 'http://127.0.0.1:10000/devstoreaccount1',
      validateInput: endpointProblem,
    });
    if (endpoint === undefined) return undefined;
    return { accountName: accountName.trim(), accountKey: accountKey.trim(), ...(endpoint.trim() ? { endpoint: endpoint.trim() } : {}) };
  }

  private async askS3(
    ask: (o: vscode.InputBoxOptions) => Thenable<string | undefined>,
    required: (what: string) => (v: string) => string | undefined,
    stored: StoreCredentials | undefined,
  ): Promise<StoreCredentials | undefined> {
    const old = stored && !isAzureCredentials(stored) ? stored : undefined;
    const accessKeyId = await ask({ prompt: 'Access key ID', value: old?.accessKeyId, validateInput: required('access key ID') });
    if (accessKeyId === undefined) return undefined;
    const secretAccessKey = await ask({ prompt: 'Secret access key', password: true, validateInput: required('secret access key') });
    if (secretAccessKey === undefined) return undefined;
    const region = await ask({ prompt: 'Region', value: old?.region ?? process.env.AWS_REGION ?? 'us-east-1' });
    if (region === undefined) return undefined;
    const endpoint = await ask({
      prompt: "Endpoint URL of an S3-compatible store (empty: AWS's own)",
      value: old?.endpoint ?? '',
      placeHolder: 'https://s3.example.com',
      validateInput: endpointProblem,
    });
    if (endpoint === undefined) return undefined;
    return {
      accessKeyId: accessKeyId.trim(),
      secretAccessKey: secretAccessKey.trim(),
      ...(region.trim() ? { region: region.trim() } : {}),
      ...(endpoint.trim() ? { endpoint: endpoint.trim() } : {}),
    };
  }

  async clearCredentials(): Promise<boolean> {
    const stores = this.context.globalState.get<string[]>(STORES_KEY, []);
    if (stores.length === 0) {
      void vscode.window.showInformationMessage('Patch Lens: no storage credentials are kept.');
      return false;
    }
    const store =
      stores.length === 1
        ? stores[0]
        : await vscode.window.showQuickPick(stores, { title: 'Clear Storage Credentials', placeHolder: 'The store whose credentials to forget' });
    if (!store) return false;
    await this.context.secrets.delete(secretKey(store));
    await this.context.globalState.update(
      STORES_KEY,
      stores.filter((s) => s !== store),
    );
    this.forgetShown();
    this.log.info(`Storage credentials for ${store} removed from VS Code's secret storage`);
    void vscode.window.showInformationMessage(
      `Patch Lens: credentials for ${store} removed; the ${isAzureStore(store) ? 'AZURE' : 'AWS'}_* environment variables apply again.`,
    );
    return true;
  }

  private forgetShown(): void {
    this.shown.clear();
    this.told.clear();
  }

  dispose(): void {
    this.engine.setBeforeRequest(undefined);
    for (const s of this.subs) s.dispose();
  }
}

export function registerStorageCommands(c: StorageConnections): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('patchlens.setStorageCredentials', (arg?: unknown) => c.setCredentials(rootFromArg(arg))),
    vscode.commands.registerCommand('patchlens.clearStorageCredentials', () => c.clearCredentials()),
  ];
}
