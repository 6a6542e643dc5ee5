// Connects an inspector webview in the harness to a real InspectorSession and
// engine (what the extension does, minus VS Code): the page's messages go to
// session.receive, the session's posts go to the page. Dataset files are
// served to the page as https://webview.test/res/<dataset path>.

import * as path from 'node:path';
import type { EngineClient } from '../../src/engine/engineClient';
import { toDatasetPath } from '../../src/extension/inspector/datasetPaths';
import { InspectorSession, type InspectorHost } from '../../src/extension/inspector/inspectorSession';
import type { InspectorSettings } from '../../src/protocol';
import type { ExportTable } from '../../src/core/exportTable';
import { ORIGIN, type WebviewPage } from '../support/webviewHarness';

export interface BridgeOptions {
  readonly engine: EngineClient;
  readonly root: string;
  readonly dbDir: string;
  readonly model: string;
  readonly settings?: Partial<InspectorSettings>;
}

export interface Bridge {
  readonly session: InspectorSession;
  /** openPatch calls the session made (a retrieved patch was activated). */
  readonly opened: { file: string; row: number; col: number }[];
  readonly logs: { level: string; message: string }[];
  /** Exports the session asked to save (the save dialog's seam): the table and the file name offered. */
  readonly exports: { table: ExportTable; defaultName: string }[];
  /** Resolves once the session has opened `count` patches: a single click opens after the double-click wait. */
  waitForOpened(count?: number): Promise<Bridge['opened']>;
}

export function bridgeSession(w: WebviewPage, file: string, o: BridgeOptions): Bridge {
  const opened: Bridge['opened'] = [];
  const logs: Bridge['logs'] = [];
  const exports: Bridge['exports'] = [];
  const settings: InspectorSettings = { topK: 10, excludeSelf: true, temperature: 1, queryKeys: 'latent', ...o.settings };
  const host: InspectorHost = {
    engine: o.engine,
    log: {
      info: (m) => logs.push({ level: 'info', message: m }),
      warn: (m) => logs.push({ level: 'warn', message: m }),
      error: (m) => logs.push({ level: 'error', message: m }),
    },
    post: (m) => w.post(m).catch((e: Error) => logs.push({ level: 'error', message: `post: ${e.message}` })),
    locate: () => ({ dbDir: o.dbDir, root: o.root, datasetName: path.basename(o.root), buildRoot: o.root }),
    settings: () => settings,
    model: () => o.model,
    imageSrc: (f) => {
      const rel = toDatasetPath(o.root, f);
      return rel ? `${ORIGIN}/res/${rel.split('/').map(encodeURIComponent).join('/')}` : '';
    },
    isBuilding: () => false,
    build: async () => undefined,
    rebuildWithKeys: async () => undefined,
    openPatch: (f, row, col) => opened.push({ file: f, row, col }),
    showLog: () => {},
    saveExport: async (table, defaultName) => void exports.push({ table, defaultName }),
  };
  const session = new InspectorSession(file, host);
  w.onMessage((m) => session.receive(m));
  const waitForOpened = async (count = 1) => {
    for (const deadline = Date.now() + 10_000; opened.length < count;) {
      if (Date.now() > deadline) throw new Error(`the session opened ${opened.length} patches, not ${count}, within 10 s`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return opened;
  };
  return { session, opened, logs, exports, waitForOpened };
}
