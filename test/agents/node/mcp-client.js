// An MCP client built with the official TypeScript SDK. It connects (Streamable HTTP, or the
// legacy HTTP+SSE transport), then runs the operations given as JSON arguments in order, and
// prints JSON lines: {"event":"connected"}, one {"event":"result"} or {"event":"error"} per
// operation, {"event":"progress"} per progress notification, {"event":"wire"} for every JSON-RPC
// message the SDK sent or received, and {"event":"done"} at the end. Errors of an operation are
// results, not failures: the exit status is 0 unless the client could not run at all.
//
//   node mcp-client.js --url http://127.0.0.2:PORT/mcp [--transport streamable|sse]
//       [--header "Name: value"]... [--client-version V]
//       '{"op":"list"}' '{"op":"call","name":"echo","arguments":{...},"meta":{...},"progress":true}'
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { errorInfo, headerList, out, parseArgs, watchdog, wireFetch } from './lib.js';

watchdog(60_000, 'mcp-client');
const { flags, rest } = parseArgs(process.argv.slice(2), { multi: ['header'] });
const ops = rest.map((s) => JSON.parse(s));
// The SDK's JSON-RPC messages are printed at the transport (logTransport), which also sees what
// arrives on SSE streams; the fetch adds the caller's headers and prints response headers.
const plainFetch = wireFetch(headerList(flags.header), { bodies: false });

const url = new URL(flags.url);
const transport =
  (flags.transport || 'streamable') === 'sse'
    ? new SSEClientTransport(url, { fetch: plainFetch, eventSourceInit: { fetch: plainFetch } })
    : new StreamableHTTPClientTransport(url, { fetch: plainFetch });
logTransport(transport);

const client = new Client({ name: 'meshwarden-test-client', version: flags['client-version'] || '9.9.9-test' });
const timeout = 20_000;

try {
  await client.connect(transport, { timeout });
} catch (err) {
  out({ event: 'error', op: 'connect', error: errorInfo(err) });
  out({ event: 'done' });
  await close();
  process.exit(0);
}
out({
  event: 'connected',
  sessionId: transport.sessionId,
  protocolVersion: transport.protocolVersion,
  server: client.getServerVersion(),
});

for (const op of ops) {
  try {
    switch (op.op) {
      case 'list': {
        const r = await client.listTools(undefined, { timeout });
        out({ event: 'result', op: 'list', result: r });
        break;
      }
      case 'call': {
        const params = { name: op.name, arguments: op.arguments || {} };
        if (op.meta) params._meta = op.meta;
        const options = { timeout };
        if (op.progress) options.onprogress = (p) => out({ event: 'progress', name: op.name, ...p });
        const r = await client.callTool(params, undefined, options);
        out({ event: 'result', op: 'call', name: op.name, result: r });
        break;
      }
      default:
        throw new Error(`unknown op ${JSON.stringify(op)}`);
    }
  } catch (err) {
    out({ event: 'error', op: op.op, name: op.name, error: errorInfo(err) });
  }
}
out({ event: 'done', sessionId: transport.sessionId });
await close();
process.exit(0);

async function close() {
  try {
    if (transport instanceof StreamableHTTPClientTransport && transport.sessionId) await transport.terminateSession();
  } catch {
    // the session may already be gone; nothing to report
  }
  await client.close().catch(() => {});
}

// logTransport prints every JSON-RPC message the transport sends or delivers to the SDK.
function logTransport(t) {
  const send = t.send.bind(t);
  t.send = async (message, options) => {
    out({ event: 'wire', dir: 'send', message });
    return send(message, options);
  };
  let handler;
  Object.defineProperty(t, 'onmessage', {
    configurable: true,
    get: () => handler,
    set: (h) => {
      handler = h && ((message, extra) => {
        out({ event: 'wire', dir: 'recv', message });
        h(message, extra);
      });
    },
  });
}
