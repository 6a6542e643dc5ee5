// package.json's copies of the domain vocabulary (setting enums and limits,
// the explorer menu's `when` clause, the custom editor's selector), written
// from src/core/vocabulary.ts. `npm run vocabulary` rewrites package.json;
// test/unit/vocabulary.test.ts fails while it is stale.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { SUPPORTED_EXTENSIONS } from '../src/core/imageTypes';
import { DEFAULT_MAX_MEMBER_BYTES } from '../src/core/datasetLayout';
import {
  BORDERS,
  DATABASE_BACKENDS,
  DATABASE_FOLDER,
  DATABASE_LOCATIONS,
  DEFAULT_K,
  DEFAULT_KEYS,
  KEY_SHAPES,
  KEY_SOURCES,
  MAX_HOPS,
  MAX_K,
  MIN_HOPS,
} from '../src/core/vocabulary';

export const INSPECT_COMMAND = 'patchlens.inspectPatches';
export const INSPECTOR_VIEW_TYPE = 'patchlens.inspector';

const bare = SUPPORTED_EXTENSIONS.map((e) => e.slice(1));

/** The explorer menu's clause: an image the engine reads (VS Code matches the regex on the extension, any case). */
export const IMAGE_WHEN = `resourceExtname =~ /^\\.(${bare.join('|')})$/i`;
/** The custom editor's selector (a glob is case-sensitive: both cases are listed). */
export const IMAGE_FILENAME_PATTERN = `*.{${[...bare, ...bare.map((e) => e.toUpperCase())].join(',')}}`;

/** The fields of each setting that the vocabulary decides. */
export const SETTING_FIELDS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  'patchlens.hops': { minimum: MIN_HOPS, maximum: MAX_HOPS, default: DEFAULT_KEYS.hops },
  'patchlens.shape': { enum: [...KEY_SHAPES], default: DEFAULT_KEYS.shape },
  'patchlens.border': { enum: [...BORDERS], default: DEFAULT_KEYS.border },
  'patchlens.keySource': { enum: [...KEY_SOURCES], default: DEFAULT_KEYS.source },
  'patchlens.queryKeySource': { enum: [...KEY_SOURCES], default: DEFAULT_KEYS.source },
  'patchlens.topK': { minimum: 1, maximum: MAX_K, default: DEFAULT_K },
  'patchlens.databaseLocation': { enum: [...DATABASE_LOCATIONS], default: DATABASE_LOCATIONS[0] },
  'patchlens.backend': { enum: [...DATABASE_BACKENDS], default: DATABASE_BACKENDS[0] },
  'patchlens.maxMemberBytes': { default: DEFAULT_MAX_MEMBER_BYTES },
};

/** Hidden from the Explorer by default (users turn it off in files.exclude): build output, not dataset content. */
export const FILES_EXCLUDE = { [`**/${DATABASE_FOLDER}`]: true };

interface MenuItem {
  command: string;
  when?: string;
}
interface PackageJson {
  contributes: {
    menus: Record<string, MenuItem[]>;
    customEditors: { viewType: string; selector: { filenamePattern: string }[] }[];
    configuration: { properties: Record<string, Record<string, unknown>> };
    configurationDefaults?: Record<string, unknown>;
  };
}

/** package.json with the vocabulary's fields written in (a copy; the rest untouched). */
export function withVocabulary(pkg: unknown): unknown {
  const out = structuredClone(pkg) as PackageJson;
  const c = out.contributes;
  for (const item of c.menus['explorer/context'] ?? []) {
    if (item.command === INSPECT_COMMAND) item.when = IMAGE_WHEN;
  }
  for (const editor of c.customEditors) {
    if (editor.viewType === INSPECTOR_VIEW_TYPE) editor.selector = [{ filenamePattern: IMAGE_FILENAME_PATTERN }];
  }
  c.configurationDefaults = { ...c.configurationDefaults, 'files.exclude': { ...FILES_EXCLUDE } };
  for (const [key, fields] of Object.entries(SETTING_FIELDS)) {
    const setting = c.configuration.properties[key];
    if (!setting) throw new Error(`package.json has no setting ${key}`);
    Object.assign(setting, structuredClone(fields));
  }
  return out;
}

/** package.json's text as npm and this script write it. */
export function packageText(pkg: unknown): string {
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

export const PACKAGE_JSON = path.join(__dirname, '..', 'package.json');

if (require.main === module) {
  const before = fs.readFileSync(PACKAGE_JSON, 'utf8');
  const after = packageText(withVocabulary(JSON.parse(before)));
  if (after === before) {
    console.log('package.json: up to date with src/core/vocabulary.ts');
  } else {
    fs.writeFileSync(PACKAGE_JSON, after);
    console.log('package.json: rewritten from src/core/vocabulary.ts');
  }
}
