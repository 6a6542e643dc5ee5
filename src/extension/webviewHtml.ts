// The HTML shell of a Patch Lens webview: a strict Content-Security-Policy
// (scripts only with this page's nonce, styles/fonts/images only from the
// webview's resource origin, images also from blob: URLs the page makes
// itself), the bundle's CSS and script, and the codicon stylesheet that
// vscode-elements looks up by id. No vscode import: the browser tests build
// the same page.

import { randomBytes } from 'node:crypto';

export interface WebviewPage {
  /** Document title (the tab shows the editor's own title). */
  readonly title: string;
  /** webview.cspSource */
  readonly cspSource: string;
  readonly nonce: string;
  /** Webview URIs of the bundle and its stylesheet. */
  readonly script: string;
  readonly style: string;
  /** Webview URI of codicon.css. */
  readonly codicons: string;
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[+/=]/g, '');
}

function attr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} blob: data:`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

export function webviewHtml(p: WebviewPage): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(p.cspSource, p.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${attr(p.title)}</title>
<link rel="stylesheet" id="vscode-codicon-stylesheet" href="${attr(p.codicons)}" nonce="${attr(p.nonce)}">
<link rel="stylesheet" href="${attr(p.style)}" nonce="${attr(p.nonce)}">
</head>
<body>
<div id="root"></div>
<script nonce="${attr(p.nonce)}" src="${attr(p.script)}"></script>
</body>
</html>`;
}
