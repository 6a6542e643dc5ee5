// The page of a side-panel webview (Codebook, Duplicates): scripts on, resources
// only from the bundle folder, the shared CSP shell with the named bundle.

import * as vscode from 'vscode';
import { makeNonce, webviewHtml } from '../webviewHtml';

/** Sets up `view` to show dist/<bundle>.js and .css. */
export function sideWebviewPage(view: vscode.WebviewView, extensionUri: vscode.Uri, bundle: string, title: string): void {
  const dist = vscode.Uri.joinPath(extensionUri, 'dist');
  view.webview.options = { enableScripts: true, localResourceRoots: [dist] };
  const uri = (f: string) => view.webview.asWebviewUri(vscode.Uri.joinPath(dist, f)).toString();
  view.webview.html = webviewHtml({
    cspSource: view.webview.cspSource,
    nonce: makeNonce(),
    script: uri(`${bundle}.js`),
    style: uri(`${bundle}.css`),
    codicons: uri('codicons/codicon.css'),
    title,
  });
}
