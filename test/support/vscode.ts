// End-to-end test support: a real VS Code (code-server, provisioned offline into
// .cache/code-server/) with this checkout's extension installed, driven through
// Debian's Chromium by playwright-core. See test/support/README.md.
//
//   const vs = await launchVSCode({ name: t.name, files: { 'cat.png': png } });
//   try {
//     await vs.waitForLog(/Native modules loaded/);
//     await vs.rightClickExplorerItem('cat.png', 'Inspect Patches');
//     await vs.webview().locator('canvas').waitFor();
//   } finally {
//     await vs.close(); // screenshot + logs into test-results/<name>/, stops everything
//   }
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type FrameLocator, type Locator, type Page } from 'playwright-core';
import type { CodeServer } from '../../scripts/code-server.mjs' with { 'resolution-mode': 'import' };
import { CHROMIUM, CHROMIUM_ARGS, repoRoot } from './chromium';

export { CHROMIUM };
export const resultsRoot = path.join(repoRoot, 'test-results');

export interface LaunchOptions {
  /** Names the artifacts folder test-results/<name>/ (pass the test's `t.name`). */
  name: string;
  /** Folder to open. Default: a fresh empty folder in the run's temp dir. */
  workspace?: string;
  /** Files written into the workspace before VS Code starts (relative path -> content). */
  files?: Record<string, string | Uint8Array>;
  /** false: workspace trust stays on and the folder opens in Restricted Mode. Default true. */
  trusted?: boolean;
  /** User settings merged over the harness defaults (scripts/code-server.mjs). */
  settings?: Record<string, unknown>;
  /** How long the workbench may take to appear. Default 90 s. */
  timeoutMs?: number;
}

export interface Logs {
  /** The "Patch Lens" output channel (a log channel, so it is a file under the user-data-dir logs). */
  patchLens: string;
  /** The extension host's own log (activation events, extension errors). */
  exthost: string;
  /** code-server's stdout/stderr. */
  codeServer: string;
  /** Browser console messages and page errors of the workbench. */
  browser: string;
}

export type LogName = keyof Logs;

export interface VSCode {
  page: Page;
  context: BrowserContext;
  server: CodeServer;
  /** The opened folder (absolute). */
  workspace: string;
  /** test-results/<name>/ */
  resultsDir: string;
  /** The logs as they are on disk now. */
  logs(): Logs;
  /** Polls a log until a line matches; returns that line. Default log 'patchLens', 30 s. */
  waitForLog(pattern: RegExp | string, opts?: { log?: LogName; timeoutMs?: number }): Promise<string>;
  /** Saves test-results/<name>/<shot>.png and returns its path. */
  screenshot(shot: string): Promise<string>;
  /** The explorer row of a workspace-relative path ('a/b/cat.png'), expanding its folders. */
  explorerItem(relPath: string): Promise<Locator>;
  /**
   * Right-clicks an explorer item and returns the labels of its context menu, leaving
   * the menu open (close it with closeMenu()). With `waitFor`, retries (Escape, 500 ms,
   * right-click again; bounded by timeoutMs, default 20 s) until that entry is there:
   * the explorer is drawn before extensions' menu entries are registered.
   */
  openExplorerContextMenu(relPath: string, opts?: { waitFor?: string; timeoutMs?: number }): Promise<string[]>;
  /** openExplorerContextMenu with waitFor, then clicks the entry. */
  rightClickExplorerItem(relPath: string, menuItem: string, opts?: { timeoutMs?: number }): Promise<void>;
  /** Opens a workspace file in the editor (clicks it in the explorer) and waits for its tab. */
  openFile(relPath: string): Promise<void>;
  /** Presses Escape until no context menu is shown. */
  closeMenu(): Promise<void>;
  /**
   * Runs a command palette entry by its title ("Patch Lens: Rebuild" or "Rebuild"); reopens
   * the palette (bounded by timeoutMs, default 20 s) while the command is not listed yet.
   */
  runCommand(title: string, opts?: { timeoutMs?: number }): Promise<void>;
  /** Shows an output channel in the panel (e.g. 'Patch Lens'). */
  showOutputChannel(name: string): Promise<void>;
  /**
   * The document inside a visible webview (panel or view). With several visible, narrow it
   * down by the owning extension (e.g. 'patchlens.patch-lens') and/or by index in DOM order;
   * otherwise Playwright's strict mode reports the ambiguity.
   */
  webview(opts?: { extensionId?: string; index?: number }): FrameLocator;
  /** Saves final.png and the logs into resultsDir, closes the browser, stops code-server. Idempotent; always call it. */
  close(): Promise<void>;
}

let provisionReported = false;

/** Provisions code-server once per process and prints how long it took. */
async function ensureCodeServer(): Promise<void> {
  const { provisionCodeServer } = await import('../../scripts/provision-code-server.mjs');
  const r = await provisionCodeServer({ log: (l) => process.stderr.write(`# [code-server] ${l}\n`) });
  if (!provisionReported) {
    provisionReported = true;
    process.stderr.write(`# code-server ${r.version} provisioning: ${r.installed ? 'installed' : 'already present'} in ${r.seconds.toFixed(1)} s\n`);
  }
}

let built = false;

/** Bundles the extension once per process (esbuild, well under a second) so a lone e2e run is never stale. */
async function buildOnce(): Promise<void> {
  if (built || process.env.PATCHLENS_E2E_NO_BUILD === '1') return;
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'build.mjs')], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}${r.stderr}`);
  built = true;
}

function sanitize(name: string): string {
  return (
    name
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 120) || 'unnamed'
  );
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Files under dir (recursively) whose base name matches. */
function findFiles(dir: string, match: (base: string) => boolean): string[] {
  if (!dir || !fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true })
    .map((f) => path.join(dir, String(f)))
    .filter((f) => match(path.basename(f)) && fs.statSync(f).isFile());
}

async function poll<T>(
  what: string,
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const RUN_PREFIX = 'pl-e2e-';

/** Removes run dirs left by interrupted runs (their owner process is gone). */
function sweepStaleRunDirs(): void {
  for (const d of fs.readdirSync(os.tmpdir())) {
    if (!d.startsWith(RUN_PREFIX)) continue;
    const dir = path.join(os.tmpdir(), d);
    try {
      const owner = Number(fs.readFileSync(path.join(dir, 'owner.pid'), 'utf8'));
      try {
        process.kill(owner, 0);
        continue; // still running
      } catch {}
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {}
  }
}

/** PIDs of processes whose command line contains `needle` (to kill a browser we started, by its unique profile dir). */
function pidsWithArg(needle: string): number[] {
  const pids: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle)) pids.push(Number(d));
    } catch {}
  }
  return pids;
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts code-server and Chromium on a fresh profile, opens the workspace and waits for the workbench. */
export async function launchVSCode(opts: LaunchOptions): Promise<VSCode> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: the e2e tests need it. Install it with: apt-get install -y chromium (or set PATCHLENS_CHROMIUM)`);
  }
  const resultsDir = path.join(resultsRoot, sanitize(opts.name));
  fs.rmSync(resultsDir, { recursive: true, force: true });
  fs.mkdirSync(resultsDir, { recursive: true });
  sweepStaleRunDirs();
  // Short temp path: code-server puts a unix socket in the user-data-dir (108-byte limit).
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), RUN_PREFIX));
  fs.writeFileSync(path.join(runDir, 'owner.pid'), String(process.pid));
  const workspace = path.resolve(opts.workspace ?? path.join(runDir, 'workspace'));
  fs.mkdirSync(workspace, { recursive: true });
  for (const [rel, content] of Object.entries(opts.files ?? {})) {
    const f = path.join(workspace, rel);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, content);
  }

  const consoleLines: string[] = [];
  let server: CodeServer | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  const browserDir = path.join(runDir, 'browser');

  const readLogs = (): Logs => {
    const logsDir = server ? path.join(server.userDataDir, 'logs') : '';
    const read = (files: string[]) =>
      files
        .sort()
        .map((f) => fs.readFileSync(f, 'utf8'))
        .join('');
    return {
      patchLens: read(findFiles(logsDir, (b) => b === 'Patch Lens.log')),
      exthost: read(findFiles(logsDir, (b) => b === 'remoteexthost.log' || b === 'exthost.log')),
      codeServer: server && fs.existsSync(server.logFile) ? fs.readFileSync(server.logFile, 'utf8') : '',
      browser: consoleLines.join('\n'),
    };
  };

  const screenshot = async (shot: string): Promise<string> => {
    const file = path.join(resultsDir, `${sanitize(shot)}.png`);
    if (page && !page.isClosed()) await page.screenshot({ path: file, timeout: 10_000 });
    return file;
  };

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const errors: unknown[] = [];
      try {
        await withTimeout(screenshot('final'), 15_000);
      } catch (e) {
        errors.push(e);
      }
      if (context) {
        if (
          (await withTimeout(
            context.close().catch(() => {}),
            15_000,
          )) === 'timeout'
        ) {
          for (const pid of pidsWithArg(browserDir)) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {}
          }
        }
      }
      if (server) await server.stop();
      try {
        const logs = readLogs();
        fs.writeFileSync(path.join(resultsDir, 'patch-lens.log'), logs.patchLens);
        fs.writeFileSync(path.join(resultsDir, 'exthost.log'), logs.exthost);
        fs.writeFileSync(path.join(resultsDir, 'code-server.log'), logs.codeServer);
        fs.writeFileSync(path.join(resultsDir, 'browser-console.log'), logs.browser);
        if (server && fs.existsSync(path.join(server.userDataDir, 'logs'))) {
          fs.cpSync(path.join(server.userDataDir, 'logs'), path.join(resultsDir, 'vscode-logs'), { recursive: true });
        }
      } catch (e) {
        errors.push(e);
      }
      if (process.env.PATCHLENS_E2E_KEEP === '1') process.stderr.write(`# kept ${runDir}\n`);
      else fs.rmSync(runDir, { recursive: true, force: true, maxRetries: 3 });
      if (errors.length) process.stderr.write(`# close(${opts.name}): ${errors.map(String).join('; ')}\n`);
    })());

  const t0 = performance.now();
  const marks: string[] = [];
  const mark = (what: string) => marks.push(`${what} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  try {
    await buildOnce();
    await ensureCodeServer();
    mark('provisioned');
    const { startCodeServer } = await import('../../scripts/code-server.mjs');
    server = await startCodeServer({
      runDir,
      workspace,
      trusted: opts.trusted,
      settings: opts.settings,
    });
    mark('code-server up');
    context = await chromium.launchPersistentContext(browserDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: CHROMIUM_ARGS,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(30_000);
    page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
    mark('chromium up');
    const timeout = opts.timeoutMs ?? 90_000;
    await page.goto(server.folderUrl, { timeout });
    await page.locator('.monaco-workbench').waitFor({ timeout });
    // The folder's tree is shown (the explorer is the default view of a new profile).
    await page.locator('.explorer-folders-view .monaco-list').first().waitFor({ timeout });
    mark('workbench ready');
    process.stderr.write(`# launchVSCode(${opts.name}): ${marks.join(', ')}\n`);
  } catch (e) {
    await close();
    throw e;
  }
  const p = page;

  const explorerItem = async (relPath: string): Promise<Locator> => {
    const parts = relPath.split('/').filter(Boolean);
    const tree = p.locator('.explorer-folders-view');
    for (const [i, part] of parts.entries()) {
      const row = tree.getByRole('treeitem', { name: part, exact: true }).first();
      await row.waitFor();
      if (i < parts.length - 1 && (await row.getAttribute('aria-expanded')) === 'false') await row.click();
      if (i === parts.length - 1) return row;
    }
    throw new Error(`empty explorer path: ${relPath}`);
  };

  const openFile = async (relPath: string): Promise<void> => {
    await (await explorerItem(relPath)).click();
    const base = relPath.split('/').pop()!;
    await p.locator('.tabs-container .tab.active').filter({ hasText: base }).first().waitFor();
  };

  const menu = p.locator('.context-view .monaco-menu');
  const menuLabels = async (): Promise<string[]> => (await menu.getByRole('menuitem').allInnerTexts()).map((t) => t.split('\n')[0].trim());

  const closeMenu = async (): Promise<void> => {
    for (let i = 0; i < 5 && (await menu.isVisible()); i++) {
      await p.keyboard.press('Escape');
      await menu.waitFor({ state: 'hidden', timeout: 2000 }).catch(() => {});
    }
  };

  const openExplorerContextMenu = async (relPath: string, o: { waitFor?: string; timeoutMs?: number } = {}): Promise<string[]> => {
    const deadline = Date.now() + (o.timeoutMs ?? 20_000);
    for (;;) {
      await closeMenu();
      const row = await explorerItem(relPath);
      await row.click({ button: 'right' });
      await menu.waitFor({ state: 'visible', timeout: 5000 });
      const labels = await menuLabels();
      if (!o.waitFor || labels.includes(o.waitFor)) return labels;
      if (Date.now() > deadline) {
        await screenshot(`menu-missing-${relPath}`).catch(() => {});
        throw new Error(`context menu of ${relPath} has no "${o.waitFor}" after ${o.timeoutMs ?? 20_000} ms: ${JSON.stringify(labels)}`);
      }
      await p.keyboard.press('Escape');
      await p.waitForTimeout(500); // the recipe's back-off while extensions register their menus
    }
  };

  const rightClickExplorerItem = async (relPath: string, menuItem: string, o: { timeoutMs?: number } = {}): Promise<void> => {
    await openExplorerContextMenu(relPath, { waitFor: menuItem, timeoutMs: o.timeoutMs });
    const item = menu.getByRole('menuitem', { name: menuItem, exact: true }).first();
    await item.click();
    // The menu sometimes drops a click that comes right after it opened (the entry is
    // highlighted, the menu stays): Enter runs the highlighted entry then.
    const closed = () =>
      menu.waitFor({ state: 'hidden', timeout: 2000 }).then(
        () => true,
        () => false,
      );
    for (let i = 0; i < 3; i++) {
      if (await closed()) return;
      // Only while the menu is still open: a late close means the click did run, and Enter
      // would then go to the explorer.
      if (
        !(await item.hover({ timeout: 2000 }).then(
          () => true,
          () => false,
        ))
      )
        continue;
      if (!(await menu.isVisible())) return;
      await p.keyboard.press('Enter');
    }
    if (await closed()) return;
    await screenshot(`menu-stuck-${relPath}`).catch(() => {});
    throw new Error(`the context menu of ${relPath} stayed open after choosing "${menuItem}"`);
  };

  const quickInput = p.locator('.quick-input-widget');

  const quickInputText = quickInput.locator('input[type="text"], input.input').first();

  /** Types into the open quick pick and clicks the entry; false if the entry did not show within optionTimeoutMs. */
  const pick = async (label: string, prefix: string, optionTimeoutMs = 30_000): Promise<boolean> => {
    await quickInputText.waitFor({ state: 'visible' });
    await quickInputText.fill(prefix + label);
    const option = quickInput.getByRole('option', { name: new RegExp(`(^|: )${escapeRegExp(label)}(,|$|\\s)`) }).first();
    if (
      !(await option.waitFor({ state: 'visible', timeout: optionTimeoutMs }).then(
        () => true,
        () => false,
      ))
    )
      return false;
    await option.click();
    // Done when the picker closed or moved on to another question (a command's own quick pick).
    await poll(
      `the quick pick to accept "${label}"`,
      async () => !(await quickInputText.isVisible()) || (await quickInputText.inputValue()) !== prefix + label,
      10_000,
      50,
    );
    return true;
  };

  const runCommand = async (title: string, o: { timeoutMs?: number } = {}): Promise<void> => {
    const timeoutMs = o.timeoutMs ?? 20_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await closeMenu();
      await p.keyboard.press('F1');
      if (
        !(await quickInput.waitFor({ state: 'visible', timeout: 3000 }).then(
          () => true,
          () => false,
        ))
      ) {
        // Keyboard focus was outside the workbench: focus the editor area and ask again.
        await p.locator('.part.editor').click();
        await p.keyboard.press('F1');
      }
      // The palette lists what was registered (and enabled) when it opened: while extensions
      // are still starting, close it and ask again, like the explorer menu retry.
      if (await pick(title, '>', 3000)) return;
      if (Date.now() > deadline) {
        await screenshot(`command-missing-${title}`).catch(() => {});
        throw new Error(`command palette has no "${title}" after ${timeoutMs} ms`);
      }
      await p.keyboard.press('Escape');
      await quickInput.waitFor({ state: 'hidden', timeout: 2000 }).catch(() => {});
      await p.waitForTimeout(500);
    }
  };

  const showOutputChannel = async (name: string): Promise<void> => {
    await runCommand('Output: Show Output Channels...');
    if (!(await pick(name, ''))) throw new Error(`no output channel named "${name}"`);
    await p.locator('.part.panel .monaco-editor').first().waitFor();
  };

  const waitForLog = async (pattern: RegExp | string, o: { log?: LogName; timeoutMs?: number } = {}): Promise<string> => {
    const which = o.log ?? 'patchLens';
    const test = (line: string) => (typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line));
    return poll(`${which} log line ${String(pattern)}`, () => readLogs()[which].split('\n').find(test), o.timeoutMs ?? 30_000);
  };

  return {
    page: p,
    context: context!,
    server: server!,
    workspace,
    resultsDir,
    logs: readLogs,
    waitForLog,
    screenshot,
    explorerItem,
    openExplorerContextMenu,
    rightClickExplorerItem,
    closeMenu,
    openFile,
    runCommand,
    showOutputChannel,
    webview: (o = {}) => {
      const byExtension = o.extensionId ? `[src*="extensionId=${o.extensionId}"]` : '';
      let frame = p.locator(`iframe.webview.ready${byExtension} >> visible=true`);
      if (o.index !== undefined) frame = frame.nth(o.index);
      return frame.contentFrame().frameLocator('#active-frame');
    },
    close,
  };
}

/** The side bar pane of a view, by its title. */
export function sideBarPane(page: Page, title: string): Locator {
  return page.locator('.part.sidebar .pane').filter({ has: page.locator('.pane-header', { hasText: new RegExp(`^\\s*${title}`, 'i') }) });
}

/**
 * VS Code web (code-server 4.100) can leave a webview blank when several start at once: its host
 * page waits for a `controllerchange` of the webview service worker that never comes (the browser
 * console says "Found unexpected service worker controller … Waiting for controllerchange"; the
 * platform's race, reworked upstream in microsoft/vscode#312020). Nothing an extension does can wake
 * it; a user runs Developer: Reload Webviews, and so does this watch, once (per watch) a visible
 * webview has stayed without its content frame for `afterMs`.
 */
export class StuckWebviewWatch {
  private since?: number;
  private reloaded = false;
  constructor(
    private readonly vs: VSCode,
    private readonly afterMs = 10_000,
  ) {}

  /** Call while polling for a webview: reloads the webviews once if one has been blank too long. */
  async check(): Promise<void> {
    if (this.reloaded) return;
    const frames = this.vs.page.locator('iframe.webview.ready >> visible=true');
    let blank = 0;
    for (let i = 0, n = await frames.count(); i < n; i++) {
      const content = await frames
        .nth(i)
        .contentFrame()
        .locator('#active-frame, #pending-frame')
        .count()
        .catch(() => 1);
      if (content === 0) blank++;
    }
    if (blank === 0) {
      this.since = undefined;
      return;
    }
    this.since ??= Date.now();
    if (Date.now() - this.since < this.afterMs) return;
    this.reloaded = true;
    process.stderr.write(`# harness: ${blank} webview(s) blank for ${this.afterMs / 1000} s (VS Code web's service-worker race): Developer: Reload Webviews\n`);
    await this.vs.screenshot('webview-blank').catch(() => {});
    await this.vs.runCommand('Developer: Reload Webviews');
  }
}

/**
 * The first visible webview whose document has `selector` (with `hasText`, one holding that
 * text), polled until `timeout`: several webviews may be visible, and which one is which is
 * known only by their content.
 * A webview left blank by the platform is reloaded once (StuckWebviewWatch).
 */
export async function webviewWith(vs: VSCode, selector: string, opts: { hasText?: string | RegExp; timeout?: number } = {}): Promise<FrameLocator> {
  const deadline = Date.now() + (opts.timeout ?? 60_000);
  const stuck = new StuckWebviewWatch(vs);
  for (;;) {
    const frames = await vs.page.locator('iframe.webview.ready >> visible=true').count();
    for (let i = 0; i < frames; i++) {
      const doc = vs.webview({ index: i });
      const found = await doc
        .locator(selector, opts.hasText === undefined ? {} : { hasText: opts.hasText })
        .count()
        .catch(() => 0);
      if (found) return doc;
    }
    if (Date.now() > deadline) throw new Error(`no visible webview has ${selector}${opts.hasText === undefined ? '' : ` with ${String(opts.hasText)}`}`);
    await stuck.check();
    await vs.page.waitForTimeout(250);
  }
}

/**
 * Runs a command that asks in a quick pick and returns its text box once it shows. A webview taking
 * focus as it loads (an inspector a moment ago opened) closes a quick pick, as VS Code closes one on
 * focus loss; then this asks again, as a user would.
 */
export async function commandQuickInput(vs: VSCode, title: string, attempts = 3): Promise<Locator> {
  const input = vs.page.locator('.quick-input-widget input').first();
  for (let i = 1; ; i++) {
    await vs.runCommand(title);
    const shown = await input.waitFor({ state: 'visible', timeout: 10_000 }).then(
      () => true,
      () => false,
    );
    if (shown) return input;
    if (i === attempts) throw new Error(`"${title}" showed no quick pick in ${attempts} tries`);
  }
}

/**
 * Answers the save dialog VS Code shows for `showSaveDialog`. In code-server that is the simple
 * file dialog: a quick input whose text box holds the proposed path (the folder it opened in and
 * the default name). `fileName` is written into that folder (or is an absolute path) and accepted
 * with Enter; resolves with the path chosen once the dialog has closed. With `title`, first checks
 * the dialog is the one expected (its title).
 */
export async function answerSaveDialog(vs: VSCode, fileName: string, opts: { title?: string | RegExp; timeoutMs?: number } = {}): Promise<string> {
  const widget = vs.page.locator('.quick-input-widget');
  const input = widget.locator('.quick-input-box input').first();
  const timeout = opts.timeoutMs ?? 30_000;
  await input.waitFor({ state: 'visible', timeout });
  // The dialog fills its box in a moment after it shows: wait for the proposed path.
  const proposed = await poll(
    'the save dialog to propose a path',
    async () => {
      const v = await input.inputValue().catch(() => '');
      return v.startsWith('/') && !v.endsWith('/') ? v : undefined;
    },
    timeout,
    100,
  );
  if (opts.title !== undefined) {
    const title = (await widget.locator('.quick-input-title').innerText()).trim();
    if (typeof opts.title === 'string' ? title !== opts.title : !opts.title.test(title)) {
      throw new Error(`the save dialog's title is "${title}", not ${String(opts.title)}`);
    }
  }
  const file = path.posix.isAbsolute(fileName) ? fileName : path.posix.join(path.posix.dirname(proposed), fileName);
  await input.fill(file);
  // The dialog completes the typed path against the folder's entries as one types; accept once it shows ours.
  await poll('the save dialog to take the typed path', async () => (await input.inputValue()) === file, 5000, 50);
  await input.press('Enter');
  await widget.waitFor({ state: 'hidden', timeout });
  return file;
}
