// An MCP tool server built with the official TypeScript SDK: Streamable HTTP at /mcp (stateful,
// with Mcp-Session-Id) and the legacy HTTP+SSE transport at /sse + /messages. It records every
// HTTP request it receives (headers, JSON-RPC bodies) and every tool call as JSON lines in the
// --record file, and prints {"listening":"ip:port"} once it accepts connections.
//
//   node mcp-server.js --listen 127.0.0.2:0 --record /tmp/mcp.jsonl
//
// Tools:
//   echo             returns its arguments as JSON text
//   lookup_customer  {customer_id}: a customer record whose text holds an SSN
//   count            {n, delay_ms}: n progress notifications delay_ms apart, then "counted n"
import { randomUUID } from 'node:crypto';
import express from 'express';
import * as z from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { Recorder, httpRecord, parseArgs, sleep } from './lib.js';

const { flags } = parseArgs(process.argv.slice(2));
const [host, port] = splitHostPort(flags.listen || '127.0.0.1:0');
const rec = new Recorder(flags.record);

// The customer record lookup_customer returns: its SSN is what response classification finds.
const CUSTOMER_SSN = '219-09-9999';

function newServer(transport) {
  const server = new McpServer({ name: 'meshwarden-test-tools', version: '1.0.0' }, { capabilities: { logging: {} } });
  server.registerTool(
    'echo',
    { description: 'Returns its arguments as JSON text.', inputSchema: z.object({}).passthrough() },
    async (args, extra) => {
      rec.write({ kind: 'tool', transport, tool: 'echo', arguments: args, meta: extra._meta, requestId: extra.requestId, sessionId: extra.sessionId });
      return { content: [{ type: 'text', text: JSON.stringify(args) }] };
    },
  );
  server.registerTool(
    'lookup_customer',
    { description: 'Looks a customer up.', inputSchema: { customer_id: z.string() } },
    async (args, extra) => {
      rec.write({ kind: 'tool', transport, tool: 'lookup_customer', arguments: args, meta: extra._meta, requestId: extra.requestId, sessionId: extra.sessionId });
      return { content: [{ type: 'text', text: `customer ${args.customer_id}: plan gold, ssn ${CUSTOMER_SSN}` }] };
    },
  );
  server.registerTool(
    'count',
    { description: 'Counts to n, reporting progress.', inputSchema: { n: z.number().int(), delay_ms: z.number().int() } },
    async (args, extra) => {
      rec.write({ kind: 'tool', transport, tool: 'count', arguments: args, meta: extra._meta, requestId: extra.requestId, sessionId: extra.sessionId });
      const token = extra._meta?.progressToken;
      for (let i = 1; i <= args.n; i++) {
        if (token !== undefined) {
          await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: args.n, message: `step ${i}` } });
          rec.write({ kind: 'progress-sent', progress: i });
        }
        await sleep(args.delay_ms);
      }
      return { content: [{ type: 'text', text: `counted ${args.n}` }] };
    },
  );
  return server;
}

const app = express();
app.use(express.json({ limit: '4mb', type: () => true }));
app.use((req, _res, next) => {
  rec.write(httpRecord(req, req.body && Object.keys(req.body).length ? req.body : undefined));
  next();
});

// Streamable HTTP: one transport and one McpServer per session.
const sessions = new Map();
app.all('/mcp', async (req, res) => {
  const sid = req.headers['mcp-session-id'];
  let transport = sid ? sessions.get(sid) : undefined;
  if (!transport) {
    if (sid || req.method !== 'POST' || !isInitializeRequest(req.body)) {
      rec.write({ kind: 'refused', reason: sid ? 'unknown session' : 'no session', sessionId: sid });
      res.status(sid ? 404 : 400).json({ jsonrpc: '2.0', error: { code: -32000, message: sid ? 'Session not found' : 'Bad Request: no session' }, id: null });
      return;
    }
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, transport);
        rec.write({ kind: 'session', transport: 'streamable', sessionId: id });
      },
    });
    transport.onclose = () => transport.sessionId && sessions.delete(transport.sessionId);
    await newServer('streamable').connect(transport);
  }
  await transport.handleRequest(req, res, req.body);
});

// Legacy HTTP+SSE: GET /sse opens the event stream, POST /messages?sessionId= carries requests.
const sseSessions = new Map();
app.get('/sse', async (req, res) => {
  const transport = new SSEServerTransport('/messages', res);
  sseSessions.set(transport.sessionId, transport);
  rec.write({ kind: 'session', transport: 'sse', sessionId: transport.sessionId });
  res.on('close', () => sseSessions.delete(transport.sessionId));
  await newServer('sse').connect(transport);
});
app.post('/messages', async (req, res) => {
  const transport = sseSessions.get(String(req.query.sessionId));
  if (!transport) {
    rec.write({ kind: 'refused', reason: 'unknown sse session', sessionId: req.query.sessionId });
    res.status(404).send('unknown session');
    return;
  }
  await transport.handlePostMessage(req, res, req.body);
});

const listener = app.listen(port, host, () => {
  const a = listener.address();
  process.stdout.write(JSON.stringify({ listening: `${a.address}:${a.port}` }) + '\n');
});
listener.on('error', (e) => {
  process.stderr.write(`listen: ${e}\n`);
  process.exit(1);
});
process.on('SIGTERM', () => process.exit(0));

function splitHostPort(s) {
  const i = s.lastIndexOf(':');
  return [s.slice(0, i).replace(/^\[|\]$/g, ''), Number(s.slice(i + 1))];
}
