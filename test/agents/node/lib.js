// Shared plumbing of the Node peers: command-line flags, the receiver's record file, JSON-line
// output, and a fetch that adds the caller's headers and logs what crosses the wire.
import fs from 'node:fs';

// parseArgs reads `--flag value` pairs and bare words. Repeated flags collect into arrays when
// listed in `multi`; `bool` flags take no value.
export function parseArgs(argv, { multi = [], bool = [] } = {}) {
  const flags = {};
  const rest = [];
  for (const m of multi) flags[m] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      rest.push(a);
      continue;
    }
    const name = a.slice(2);
    if (bool.includes(name)) {
      flags[name] = true;
      continue;
    }
    if (i + 1 >= argv.length) throw new Error(`flag ${a} needs a value`);
    const v = argv[++i];
    if (multi.includes(name)) flags[name].push(v);
    else flags[name] = v;
  }
  return { flags, rest };
}

// headerList turns ["Name: value", ...] into [[name, value], ...].
export function headerList(list) {
  return (list || []).map((h) => {
    const i = h.indexOf(':');
    if (i <= 0) throw new Error(`header ${JSON.stringify(h)} is not "Name: value"`);
    return [h.slice(0, i).trim(), h.slice(i + 1).trim()];
  });
}

const started = Date.now();

// out prints one JSON line on stdout; every line carries t, milliseconds since start.
export function out(obj) {
  process.stdout.write(JSON.stringify({ t: Date.now() - started, ...obj }) + '\n');
}

// Recorder appends what a receiver saw as JSON lines, synchronously, so a line is in the file
// before the answer that follows it leaves the process.
export class Recorder {
  constructor(path) {
    this.path = path;
    if (path) fs.writeFileSync(path, '');
  }
  write(obj) {
    const line = JSON.stringify({ at: new Date().toISOString(), ...obj }) + '\n';
    if (this.path) fs.appendFileSync(this.path, line);
    else process.stderr.write(line);
  }
}

// httpRecord is what a receiver records of one HTTP request: method, path with query, every
// header as received (names lowercase, repeated headers as Node joins them), and the body.
export function httpRecord(req, body) {
  return { kind: 'http', method: req.method, url: req.originalUrl || req.url, headers: { ...req.headers }, body };
}

// errorInfo flattens an SDK error into what the test asserts on: class and name, message, the
// JSON-RPC code (MCP's McpError.code, the A2A SDK's envelopeCode), data, the A2A SDK's own
// reason, and the same of its cause.
export function errorInfo(err, depth = 0) {
  if (!err || typeof err !== 'object') return { message: String(err) };
  const info = { class: err.constructor?.name, name: err.name, message: err.message };
  for (const k of ['code', 'envelopeCode', 'data', 'status', 'statusCode']) {
    if (err[k] !== undefined) info[k] = err[k];
  }
  if (typeof err.reason === 'string') info.sdkReason = err.reason;
  if (err.cause && typeof err.cause === 'object' && depth < 3) info.cause = errorInfo(err.cause, depth + 1);
  return info;
}

// wireFetch returns a fetch that adds extra headers to every request and prints what crosses
// the wire: {"event":"http"} with each response's status and headers, and, when bodies is true,
// {"event":"wire"} with JSON-RPC bodies both ways (request bodies as sent; response bodies, JSON
// or each SSE event's data, as received). pending() resolves when every body has been printed.
export function wireFetch(extra, { bodies = true } = {}) {
  const inflight = new Set();
  const f = async (input, init = {}) => {
    const headers = new Headers(init.headers || (input instanceof Request ? input.headers : undefined));
    for (const [k, v] of extra) headers.set(k, v);
    init = { ...init, headers };
    if (bodies && typeof init.body === 'string') logBody('send', init.body);
    const res = await fetch(input, init);
    out({ event: 'http', method: init.method || 'GET', url: String(input instanceof Request ? input.url : input), status: res.status, headers: Object.fromEntries(res.headers) });
    const ct = res.headers.get('content-type') || '';
    if (bodies && res.body && (ct.includes('json') || ct.includes('text/event-stream'))) {
      const copy = res.clone();
      const p = (async () => {
        try {
          const text = await copy.text();
          if (ct.includes('text/event-stream')) {
            for (const block of text.split(/\r?\n\r?\n/)) {
              const data = block.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
              if (data) logBody('recv', data, res.status);
            }
          } else {
            logBody('recv', text, res.status);
          }
        } catch (e) {
          out({ event: 'wire-error', message: String(e) });
        }
      })();
      inflight.add(p);
      p.finally(() => inflight.delete(p));
    }
    return res;
  };
  f.pending = () => Promise.all([...inflight]);
  return f;
}

function logBody(dir, text, status) {
  let message;
  try {
    message = JSON.parse(text);
  } catch {
    return;
  }
  out({ event: 'wire', dir, status, message });
}

// sleep waits ms milliseconds.
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// watchdog ends the process after ms: a peer never outlives its test.
export function watchdog(ms, what) {
  const t = setTimeout(() => {
    out({ event: 'fatal', message: `${what}: watchdog after ${ms} ms` });
    process.exit(3);
  }, ms);
  t.unref();
}
