// `patchlens serve`: one database kept open for scripts and notebooks, so that
// they pay the open (and the model load) once instead of on every call.
//
// Protocol: newline-delimited JSON over a Unix socket or TCP on the loopback
// interface. A request is one line, at most MAX_REQUEST_BYTES:
//   {"id": 1, "argv": ["query", "img.png", "--at", "5,5", "--json"], "cwd": "/data"}
// argv is what follows `patchlens` on a command line (query, tokens or stats);
// relative paths resolve against cwd (default: the server's folder). The reply
// is one line with the same id:
//   {"id": 1, "result": <what the CLI prints: the --json document, or its text>}
//   {"id": 1, "error": {"message": "one line", "exitCode": 1}}
// Replies on one connection come in the order of its requests.

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { MANIFEST_FILE } from '../core/dbManifest';
import { DatabaseError, type PatchDatabase } from '../engine/database';
import type { PatchStore } from '../engine/patchStore';
import { datasetRootOf } from '../engine/locations';
import { Tokenizer } from '../engine/tokenizer';

/** Longest request line accepted; a longer one is answered with an error and the connection closed. */
export const MAX_REQUEST_BYTES = 1 << 20;
/** The commands a server answers. */
export const SERVED_COMMANDS = ['query', 'tokens', 'stats'] as const;
export type ServedCommand = (typeof SERVED_COMMANDS)[number];

/**
 * Where a query, tokens or stats command runs: a one-shot CLI call opens the
 * database and loads the model for itself; a server keeps both open across
 * requests and resolves a client's paths against the client's folder.
 */
export interface CommandContext {
  /** The folder relative paths are resolved against. */
  readonly cwd: string;
  /** The database named by --db, or found from `near` (a folder) upwards; `verify`: hash every file first (--verify). */
  openDb(dbOpt: string | undefined, near: string, verify: boolean, storage?: readonly string[]): Promise<{ db: PatchStore; root: string }>;
  /** A loaded tokenizer for a model manifest path. */
  tokenizer(manifestPath: string): Promise<Tokenizer>;
  /** Whether tokenizers stay loaded for later commands (else a command releases what it loaded). */
  readonly keepsModels: boolean;
}

export type ServedCommands = Record<ServedCommand, (args: string[], ctx: CommandContext) => Promise<unknown>>;

export interface ServeOptions {
  readonly dbDir: string;
  /** A Unix socket path, or a TCP port on 127.0.0.1 (0: any free one). */
  readonly listen: { socket: string } | { port: number };
  readonly commands: ServedCommands;
  /** The one-line message and exit code the CLI gives for an error. */
  readonly describeError: (err: unknown) => { message: string; exitCode: number };
  /** Opens the database (hashing everything first when verify is set). */
  readonly open: (dbDir: string, verify: boolean) => { db: PatchDatabase; root: string };
  readonly log?: (line: string) => void;
}

export interface Server {
  /** The socket path, or 127.0.0.1:<port>. */
  readonly address: string;
  readonly db: PatchDatabase;
  close(): Promise<void>;
}

interface Request {
  readonly id?: unknown;
  readonly argv: string[];
  readonly cwd?: string;
}

function parseRequest(line: string): Request {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    throw new RequestError(`the request is not JSON (${(err as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new RequestError('the request must be a JSON object with "argv"');
  const { id, argv, cwd } = raw as Record<string, unknown>;
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string'))
    throw new RequestError('"argv" must be a non-empty array of strings');
  if (!(SERVED_COMMANDS as readonly string[]).includes(argv[0] as string))
    throw new RequestError(`this server answers ${SERVED_COMMANDS.join(', ')}, not ${JSON.stringify(argv[0])}`, id);
  if (argv.some((a) => a === '--server' || a.startsWith('--server='))) throw new RequestError('--server is for clients, not inside a request', id);
  if (cwd !== undefined && (typeof cwd !== 'string' || !path.isAbsolute(cwd))) throw new RequestError('"cwd" must be an absolute path', id);
  return { id, argv: argv as string[], cwd: cwd as string | undefined };
}

class RequestError extends Error {
  constructor(
    message: string,
    readonly id?: unknown,
  ) {
    super(message);
  }
}

/** Listens on a Unix socket, replacing a stale one (no server behind it) but never another file. */
async function listenOnSocket(server: net.Server, socket: string): Promise<void> {
  const st = fs.lstatSync(socket, { throwIfNoEntry: false });
  if (st && !st.isSocket()) throw new DatabaseError(`cannot serve on ${socket}: it exists and is not a socket`, 'Choose another --socket');
  if (st) {
    const alive = await new Promise<boolean>((resolve) => {
      const c = net.connect(socket);
      c.once('connect', () => (c.destroy(), resolve(true)));
      c.once('error', () => resolve(false));
    });
    if (alive) throw new DatabaseError(`cannot serve on ${socket}: another server is listening there`, 'Stop it, or choose another --socket');
    fs.rmSync(socket, { force: true });
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => (server.off('error', reject), resolve()));
  });
  fs.chmodSync(socket, 0o600); // only this user may query
}

export async function startServer(opts: ServeOptions): Promise<Server> {
  const log = opts.log ?? (() => undefined);
  const dbDir = opts.dbDir;
  const manifestPath = path.join(dbDir, MANIFEST_FILE);
  let current: { db: PatchDatabase; root: string; mtimeMs: number; size: number; checking: AbortController } | undefined;

  /** The open database; reopened when a build replaced its manifest. Refuses to answer from one found damaged. */
  const database = (verify: boolean): { db: PatchDatabase; root: string } => {
    const st = fs.statSync(manifestPath, { throwIfNoEntry: false });
    if (!st) throw new DatabaseError(`no patch database in ${dbDir} (it was removed)`, 'Build one with patchlens index <dir>');
    if (!current || current.mtimeMs !== st.mtimeMs || current.size !== st.size || verify) {
      current?.checking.abort();
      const opened = opts.open(dbDir, verify);
      const checking = new AbortController();
      current = { ...opened, root: datasetRootOf(dbDir, opened.db.manifest), mtimeMs: st.mtimeMs, size: st.size, checking };
      if (opened.db.checked !== 'full') {
        void opened.db.verifyContents(checking.signal).then((damage) => damage && log(`patchlens: ${damage.message}`));
      }
    }
    current.db.assertIntact();
    return current;
  };

  const tokenizers = new Map<string, Promise<Tokenizer>>();
  const tokenizer = (manifest: string): Promise<Tokenizer> => {
    let t = tokenizers.get(manifest);
    if (!t) {
      t = Tokenizer.load(manifest);
      t.catch(() => tokenizers.delete(manifest));
      tokenizers.set(manifest, t);
    }
    return t;
  };

  const contextFor = (cwd: string): CommandContext => ({
    cwd,
    keepsModels: true,
    tokenizer,
    openDb: async (dbOpt, _near, verify) => {
      if (dbOpt !== undefined && path.resolve(cwd, dbOpt) !== dbDir)
        throw new DatabaseError(`this server serves ${dbDir}, not ${path.resolve(cwd, dbOpt)}`, 'Leave out --db, or start a server for that database');
      return database(verify);
    },
  });

  const answer = async (line: string): Promise<string> => {
    let id: unknown = null;
    try {
      const req = parseRequest(line);
      id = req.id ?? null;
      const [cmd, ...args] = req.argv;
      const result = await opts.commands[cmd as ServedCommand](args, contextFor(req.cwd ?? process.cwd()));
      return JSON.stringify({ id, result });
    } catch (err) {
      if (err instanceof RequestError) return JSON.stringify({ id: err.id ?? id, error: { message: err.message, exitCode: 2 } });
      const { message, exitCode } = opts.describeError(err);
      return JSON.stringify({ id, error: { message, exitCode } });
    }
  };

  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setEncoding('utf8');
    let buffered = '';
    let chain = Promise.resolve();
    let closed = false;
    let discarding = false;
    socket.on('close', () => {
      closed = true;
      sockets.delete(socket);
    });
    socket.on('error', () => socket.destroy());
    const send = (reply: string) => {
      if (!closed) socket.write(reply + '\n');
    };
    socket.on('data', (chunk: string) => {
      if (discarding) return;
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line === '') continue;
        if (Buffer.byteLength(line) > MAX_REQUEST_BYTES) {
          tooLarge();
          return;
        }
        chain = chain.then(() => answer(line)).then(send);
      }
      if (Buffer.byteLength(buffered) > MAX_REQUEST_BYTES) tooLarge();
    });
    const tooLarge = () => {
      // The rest of what the client sends is read and dropped, so that its write can finish and it sees the reply.
      buffered = '';
      discarding = true;
      chain = chain.then(() => {
        send(JSON.stringify({ id: null, error: { message: `request larger than ${MAX_REQUEST_BYTES} bytes; the connection is closed`, exitCode: 2 } }));
        socket.end();
        setTimeout(() => socket.destroy(), 5000).unref();
      });
    };
  });
  server.on('error', (err) => log(`patchlens: server error: ${err.message}`));

  database(false); // fails now, not at the first request, when there is no database or it is damaged
  let address: string;
  if ('socket' in opts.listen) {
    await listenOnSocket(server, opts.listen.socket);
    address = opts.listen.socket;
  } else {
    const port = opts.listen.port;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => (server.off('error', reject), resolve()));
    });
    address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  }

  let closing: Promise<void> | undefined;
  return {
    address,
    get db() {
      return database(false).db;
    },
    close: () =>
      (closing ??= (async () => {
        current?.checking.abort();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const s of sockets) s.destroy();
        });
        if ('socket' in opts.listen) fs.rmSync(opts.listen.socket, { force: true });
        for (const t of tokenizers.values()) await t.then((tok) => tok.release()).catch(() => undefined);
      })()),
  };
}

/** Parses a --server value: a port or 127.0.0.1:<port> / localhost:<port> for TCP, anything else a socket path. */
export function serverAddress(value: string, cwd: string): { socket: string } | { port: number; host: string } {
  const m = /^(?:(127\.0\.0\.1|localhost|\[::1\]):)?(\d{1,5})$/.exec(value);
  if (m) {
    const port = Number(m[2]);
    if (port < 1 || port > 65535) throw new RangeError(`--server port must be from 1 to 65535, got ${value}`);
    return { port, host: m[1] === '[::1]' ? '::1' : '127.0.0.1' };
  }
  return { socket: path.resolve(cwd, value) };
}

/** Sends one request to a server and returns its reply. */
export async function requestFromServer(
  server: string,
  argv: string[],
  cwd = process.cwd(),
): Promise<{ result?: unknown; error?: { message: string; exitCode: number } }> {
  const where = serverAddress(server, cwd);
  const socket = 'socket' in where ? net.connect(where.socket) : net.connect(where.port, where.host);
  socket.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let buffered = '';
    socket.once('connect', () => socket.write(JSON.stringify({ id: 1, argv, cwd }) + '\n'));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      socket.destroy();
      try {
        resolve(JSON.parse(buffered.slice(0, nl)));
      } catch (err) {
        reject(new DatabaseError(`the server at ${server} sent a reply that is not JSON (${(err as Error).message})`));
      }
    });
    socket.once('error', (err: NodeJS.ErrnoException) =>
      reject(new DatabaseError(`cannot reach a patchlens server at ${server} (${err.code ?? err.message})`, 'Start one with patchlens serve')),
    );
    socket.once('close', () => reject(new DatabaseError(`the server at ${server} closed the connection without a reply`)));
  });
}
