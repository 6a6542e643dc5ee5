// The HTML shell of a side-panel webview: a strict Content Security Policy
// (scripts only with the page's nonce, styles/fonts/images only from the
// extension's own resources), the bundle's script and styles, nothing inline
// but the nonce'd script tag. Pure: no `vscode` import.

import { randomBytes } from 'node:crypto';

export interface WebviewShell {
  /** webview.cspSource */
  readonly cspSource: string;
  readonly nonce: string;
  /** asWebviewUri(...) strings. */
  readonly scriptUri: string;
  readonly styleUri: string;
  readonly codiconUri: string;
  readonly title: string;
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

function attr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data: blob:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

export function webviewHtml(s: WebviewShell): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(s.cspSource, s.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(s.codiconUri)}" id="vscode-codicon-stylesheet">
<link rel="stylesheet" href="${attr(s.styleUri)}">
<title>${attr(s.title)}</title>
</head>
<body>
<div id="app" aria-busy="true"></div>
<script nonce="${attr(s.nonce)}" src="${attr(s.scriptUri)}"></script>
</body>
</html>`;
}
