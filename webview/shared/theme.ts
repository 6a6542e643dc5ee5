// The VS Code theme as a webview sees it: body classes (vscode-light,
// vscode-dark, vscode-high-contrast, vscode-high-contrast-light) and --vscode-*
// CSS variables, which VS Code updates in place when the user switches theme.
// Canvas and SVG drawing read colours here; CSS uses the variables directly.

export type ThemeKind = 'light' | 'dark' | 'highContrast' | 'highContrastLight';

export function themeKind(): ThemeKind {
  const c = document.body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'highContrastLight';
  if (c.contains('vscode-high-contrast')) return 'highContrast';
  if (c.contains('vscode-light')) return 'light';
  return 'dark';
}

export function isHighContrast(kind = themeKind()): boolean {
  return kind === 'highContrast' || kind === 'highContrastLight';
}

/** The value of a theme colour variable, e.g. cssVar('--vscode-focusBorder'), or the fallback when the theme lacks it. */
export function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim() || getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

/** Calls back when the theme changes (VS Code swaps the body classes and the variables). */
export function onThemeChange(callback: (kind: ThemeKind) => void): () => void {
  let last = themeKind();
  const observer = new MutationObserver(() => {
    const now = themeKind();
    if (now !== last) {
      last = now;
      callback(now);
    }
  });
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  return () => observer.disconnect();
}
