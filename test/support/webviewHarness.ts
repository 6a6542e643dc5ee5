// Runs a webview bundle in Chromium (playwright-core, Debian's /usr/bin/chromium)
// the way VS Code hosts it: the page the extension builds (webviewHtml, with
// its CSP and nonce), VS Code's default webview styles ahead of the page's own,
// a theme's body class and --vscode-* variables, and a fake
// acquireVsCodeApi whose postMessage reaches the test (the "host") and whose
// getState/setState survive a reload. The test answers as the host would:
// scripted, or by passing messages to a real InspectorSession.
//
//   const w = await openWebview({ name: 'grid', bundle: 'inspector' });
//   w.onMessage((m) => { if (m.type === 'ready') void w.post({ type: 'init', ... }); });
//   await w.page.locator('[data-testid="patch-grid"][data-rows]').waitFor();
//   await w.close();
//
// Typed arrays cross the page boundary base64-tagged and come out as the same
// typed arrays on the other side, like the structured clone VS Code uses.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { webviewHtml } from '../../src/extension/webviewHtml';
import { themeFor, VSCODE_DEFAULT_STYLES, type TestTheme } from './vscodeTheme';
import { CHROMIUM, CHROMIUM_ARGS, repoRoot } from './chromium';
import { cellPoint, clickCell } from './patchGrid';

export { CHROMIUM };
export const ORIGIN = 'https://webview.test';

// ------------------------------------------------------------ encoding across the page boundary

type Tagged = { __typed: string; b64: string };
const TYPED: Record<string, new (buf: ArrayBuffer) => ArrayBufferView> = {
  Uint8Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  Int8Array,
  Int16Array,
  Uint16Array,
};

export function encode(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return { __typed: v.constructor.name, b64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') } satisfies Tagged;
  if (Array.isArray(v)) return v.map(encode);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)]));
  return v;
}

export function decode(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (v && typeof v === 'object') {
    const t = v as Tagged;
    if (typeof t.__typed === 'string' && typeof t.b64 === 'string' && Object.keys(v).length === 2) {
      const bytes = Buffer.from(t.b64, 'base64');
      const buf = new ArrayBuffer(bytes.length);
      new Uint8Array(buf).set(bytes);
      return new TYPED[t.__typed](buf);
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));
  }
  return v;
}

/**
 * Runs in the page before its scripts: the fake VS Code API, the theme
 * variables, CSP violation capture. Plain JavaScript in a string: a function's
 * source would carry the test transpiler's helpers into the page.
 */
const PAGE_SETUP = String.raw`
(() => {
  const arg = __ARG__;
  const enc = (v) => {
    if (ArrayBuffer.isView(v)) {
      const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return { __typed: v.constructor.name, b64: btoa(s) };
    }
    if (Array.isArray(v)) return v.map(enc);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, enc(x)]));
    return v;
  };
  const TY = { Uint8Array, Int32Array, Uint32Array, Float32Array, Float64Array, Int8Array, Int16Array, Uint16Array };
  const dec = (v) => {
    if (Array.isArray(v)) return v.map(dec);
    if (v && typeof v === 'object') {
      if (typeof v.__typed === 'string' && typeof v.b64 === 'string' && Object.keys(v).length === 2) {
        const s = atob(v.b64);
        const buf = new ArrayBuffer(s.length);
        const u = new Uint8Array(buf);
        for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
        return new TY[v.__typed](buf);
      }
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, dec(x)]));
    }
    return v;
  };
  window.__patchlensFromHost = (m) => window.dispatchEvent(new MessageEvent('message', { data: dec(m) }));
  // As in VS Code: the state is JSON, kept by the host across reloads of the webview.
  if (arg.state !== null && sessionStorage.getItem('patchlens-state-set') === null) {
    sessionStorage.setItem('patchlens-state', arg.state);
    sessionStorage.setItem('patchlens-state-set', '1');
  }
  let acquired = false;
  window.acquireVsCodeApi = () => {
    if (acquired) throw new Error('An instance of the VS Code API has already been acquired');
    acquired = true;
    return {
      postMessage: (m) => void window.__patchlensToHost(enc(m)),
      getState: () => {
        const s = sessionStorage.getItem('patchlens-state');
        return s === null ? undefined : JSON.parse(s);
      },
      setState: (s) => {
        const json = JSON.stringify(s);
        sessionStorage.setItem('patchlens-state', json);
        sessionStorage.setItem('patchlens-state-set', '1');
        void window.__patchlensState(json);
      },
    };
  };
  const violations = [];
  window.__cspViolations = violations;
  document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective + ' ' + e.blockedURI));
  const applyVars = () => {
    for (const [k, v] of Object.entries(arg.vars)) document.documentElement.style.setProperty(k, v);
  };
  if (document.documentElement) applyVars();
  else {
    const obs = new MutationObserver(() => {
      if (document.documentElement) {
        obs.disconnect();
        applyVars();
      }
    });
    obs.observe(document, { childList: true });
  }
})();
`;

function pageSetup(arg: { vars: Record<string, string>; state: string | null }): string {
  return PAGE_SETUP.replace('__ARG__', JSON.stringify(arg));
}

// ------------------------------------------------------------ browser

let browser: Promise<Browser> | undefined;
let built = false;

function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install it with apt-get install -y chromium (or set PATCHLENS_CHROMIUM)`);
  browser ??= chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  return browser;
}

/** Closes the shared browser (call from the test file's `after`). */
export async function closeBrowser(): Promise<void> {
  const b = browser;
  browser = undefined;
  if (b) await (await b).close();
}

/** Bundles the webviews once per process so a lone test run is never stale. */
function buildWebviews(): void {
  if (built || process.env.PATCHLENS_E2E_NO_BUILD === '1') return;
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'build.mjs'), '--only=webview'], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the webviews failed:\n${r.stdout}${r.stderr}`);
  built = true;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.ttf': 'font/ttf',
  '.map': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.html': 'text/html',
};

export interface WebviewOptions {
  /** Names the screenshots: test-results/webview/<name>-<shot>.png */
  readonly name: string;
  /** The bundle: dist/<bundle>.js and dist/<bundle>.css. */
  readonly bundle: string;
  readonly theme?: TestTheme;
  readonly viewport?: { width: number; height: number };
  /** Files served at https://webview.test/res/<name> (images for `src`). */
  readonly resources?: Record<string, Uint8Array>;
  /** The webview's saved state at first load (as VS Code would restore it). */
  readonly state?: unknown;
}

export interface WebviewPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Every message the webview posted, decoded, in order. */
  readonly sent: Record<string, unknown>[];
  /** Console errors and uncaught exceptions of the page. */
  readonly errors: string[];
  /** Sets the host: called with every message the webview posts, those already posted first. */
  onMessage(handler: (m: Record<string, unknown>) => void): void;
  /** Delivers a message to the webview as the host's postMessage does. */
  post(message: unknown): Promise<void>;
  /** Resolves with the first posted message (from `sent`, or later) that matches. */
  waitForMessage<T = Record<string, unknown>>(match: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<T>;
  /** The last state the webview saved with setState. */
  savedState(): unknown;
  /** Reloads the page (a hidden webview shown again); the saved state stays. */
  reload(): Promise<void>;
  cspViolations(): Promise<string[]>;
  screenshot(shot: string): Promise<string>;
  /** The centre of a grid cell in page coordinates (from the patch-grid hooks). */
  cellPoint(row: number, col: number): Promise<{ x: number; y: number }>;
  clickCell(row: number, col: number): Promise<void>;
  close(): Promise<void>;
}

export async function openWebview(opts: WebviewOptions): Promise<WebviewPage> {
  buildWebviews();
  const b = await launchBrowser();
  const theme = themeFor(opts.theme ?? 'dark');
  const context = await b.newContext({ viewport: opts.viewport ?? { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const sent: Record<string, unknown>[] = [];
  const errors: string[] = [];
  const waiters: { match: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];
  let handler: (m: Record<string, unknown>) => void = () => {};
  let state: unknown = opts.state;
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`[console] ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`[pageerror] ${e.message}`));
  await page.exposeFunction('__patchlensToHost', (raw: unknown) => {
    const m = decode(raw) as Record<string, unknown>;
    sent.push(m);
    for (const w of [...waiters]) {
      if (w.match(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
    try {
      handler(m);
    } catch (e) {
      errors.push(`[host] ${(e as Error).stack ?? e}`);
    }
  });
  await page.exposeFunction('__patchlensState', (json: string) => {
    state = JSON.parse(json);
  });
  await page.addInitScript({ content: pageSetup({ vars: theme.vars, state: opts.state === undefined ? null : JSON.stringify(opts.state) }) });
  const nonce = 'harness' + Math.random().toString(36).slice(2);
  await context.route(`${ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/index.html') {
      const html = webviewHtml({
        title: opts.bundle,
        cspSource: ORIGIN,
        nonce,
        script: `${ORIGIN}/dist/${opts.bundle}.js`,
        style: `${ORIGIN}/dist/${opts.bundle}.css`,
        codicons: `${ORIGIN}/dist/codicons/codicon.css`,
      })
        .replace('<head>', `<head>\n<style id="_defaultStyles" nonce="${nonce}">${VSCODE_DEFAULT_STYLES}</style>`)
        .replace('<body>', `<body class="${theme.bodyClass}" data-vscode-theme-kind="${theme.kind}">`);
      return route.fulfill({ status: 200, contentType: 'text/html', body: html });
    }
    if (url.pathname.startsWith('/res/')) {
      const body = opts.resources?.[decodeURIComponent(url.pathname.slice(5))];
      if (!body) return route.fulfill({ status: 404, body: 'not found' });
      return route.fulfill({ status: 200, contentType: CONTENT_TYPES[path.extname(url.pathname)] ?? 'application/octet-stream', body: Buffer.from(body) });
    }
    if (url.pathname.startsWith('/dist/')) {
      const file = path.join(repoRoot, 'dist', ...url.pathname.slice(6).split('/'));
      if (!file.startsWith(path.join(repoRoot, 'dist')) || !fs.existsSync(file)) return route.fulfill({ status: 404, body: 'not found' });
      return route.fulfill({ status: 200, contentType: CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream', body: fs.readFileSync(file) });
    }
    return route.fulfill({ status: 404, body: 'not found' });
  });
  await page.goto(`${ORIGIN}/index.html`);

  const resultsDir = path.join(repoRoot, 'test-results', 'webview');
  return {
    page,
    context,
    sent,
    errors,
    onMessage: (h) => {
      handler = h;
      // Messages posted before the host was attached (the webview's `ready` comes during page load).
      for (const m of sent) h(m);
    },
    post: async (m) => {
      await page.evaluate(`window.__patchlensFromHost(${JSON.stringify(encode(m))})`);
    },
    waitForMessage: <T>(match: (m: Record<string, unknown>) => boolean, timeoutMs = 10_000) => {
      const found = sent.find(match);
      if (found) return Promise.resolve(found as T);
      return new Promise<T>((resolve, reject) => {
        const w = { match, resolve: resolve as (m: Record<string, unknown>) => void };
        waiters.push(w);
        setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) {
            waiters.splice(i, 1);
            reject(new Error(`no matching message from the webview within ${timeoutMs} ms; sent: ${JSON.stringify(sent.map((m) => m.type))}`));
          }
        }, timeoutMs);
      });
    },
    savedState: () => state,
    reload: async () => {
      await page.reload();
    },
    cspViolations: () => page.evaluate(() => [...((window as unknown as { __cspViolations: string[] }).__cspViolations ?? [])]),
    screenshot: async (shot) => {
      fs.mkdirSync(resultsDir, { recursive: true });
      const file = path.join(resultsDir, `${opts.name}-${shot}.png`.replace(/[^A-Za-z0-9._-]+/g, '-'));
      await page.screenshot({ path: file });
      return file;
    },
    cellPoint: (row, col) => cellPoint(page, row, col),
    clickCell: (row, col) => clickCell(page, page, row, col),
    close: () => context.close(),
  };
}
