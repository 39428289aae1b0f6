// An A2A client built with the official JavaScript SDK (@a2a-js/sdk). It resolves the agent's
// card, then runs the operations given as JSON arguments in order and prints JSON lines:
// {"event":"card"}, {"event":"result"} or {"event":"error"} per operation, {"event":"stream"}
// for each streamed event as it arrives, {"event":"wire"} for every JSON-RPC body sent and
// received, and {"event":"done"}. Errors of an operation are results, not failures: the exit
// status is 0 unless the client could not run at all.
//
//   node a2a-client.js --url http://127.0.0.3:PORT [--proto 1.0|0.3] [--header "Name: value"]...
//       '{"op":"send","text":"hi","contextId":"ctx-1","messageId":"m-1","metadata":{...},"messageMetadata":{...}}'
//       '{"op":"stream", ...same keys...}'  '{"op":"get","taskId":"$last"}'
//
// --proto 1.0 (default) reads /.well-known/agent-card.json and speaks A2A 1.0 (SendMessage,
// SendStreamingMessage, GetTask); --proto 0.3 reads /.well-known/agent.json and speaks v0.3
// (message/send, message/stream, tasks/get) through the SDK's v0.3 transport. --card FILE uses
// that card (as the agent serves it) instead of fetching one, as an agent configured with its
// peer's card does.
import { Role, taskStateToJSON } from '@a2a-js/sdk';
import { Client, ClientFactory, ClientFactoryOptions, DefaultAgentCardResolver, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import { LegacyJsonRpcTransport, parseLegacyAgentCard } from '@a2a-js/sdk/compat/v0_3/client';
import fs from 'node:fs';
import { errorInfo, headerList, out, parseArgs, watchdog, wireFetch } from './lib.js';

watchdog(60_000, 'a2a-client');
const { flags, rest } = parseArgs(process.argv.slice(2), { multi: ['header'] });
const ops = rest.map((s) => JSON.parse(s));
const proto = flags.proto || '1.0';
const fetchImpl = wireFetch(headerList(flags.header));

let client;
try {
  client = proto === '0.3' ? await legacyClient() : await modernClient();
} catch (err) {
  out({ event: 'error', op: 'card', error: errorInfo(err) });
  await fetchImpl.pending();
  out({ event: 'done' });
  process.exit(0);
}

let lastTaskId = '';
let n = 0;
for (const op of ops) {
  const signal = AbortSignal.timeout(20_000);
  try {
    switch (op.op) {
      case 'send': {
        const r = await client.sendMessage(request(op), { signal });
        const s = summarize(r);
        if (s.kind === 'task') lastTaskId = s.taskId;
        out({ event: 'result', op: 'send', result: s });
        break;
      }
      case 'stream': {
        const events = [];
        for await (const ev of client.sendMessageStream(request(op), { signal })) {
          const s = summarize(ev.payload?.value, ev.payload?.$case);
          if (s.taskId) lastTaskId = s.taskId;
          events.push(s);
          out({ event: 'stream', ...s });
        }
        out({ event: 'result', op: 'stream', result: { events: events.length } });
        break;
      }
      case 'get': {
        const taskId = op.taskId === '$last' ? lastTaskId : op.taskId;
        const r = await client.getTask({ tenant: '', id: taskId, historyLength: 10 }, { signal });
        out({ event: 'result', op: 'get', result: summarize(r, 'task') });
        break;
      }
      default:
        throw new Error(`unknown op ${JSON.stringify(op)}`);
    }
  } catch (err) {
    out({ event: 'error', op: op.op, error: errorInfo(err) });
  }
}
await fetchImpl.pending();
out({ event: 'done' });
process.exit(0);

function request(op) {
  n++;
  return {
    tenant: '',
    message: {
      messageId: op.messageId || `client-msg-${process.pid}-${n}`,
      contextId: op.contextId || '',
      taskId: op.taskId || '',
      role: Role.ROLE_USER,
      parts: [{ content: { $case: 'text', value: op.text || '' }, metadata: undefined, filename: '', mediaType: 'text/plain' }],
      metadata: op.messageMetadata,
      extensions: [],
      referenceTaskIds: [],
    },
    configuration: undefined,
    metadata: op.metadata,
  };
}

async function modernClient() {
  const factory = new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      cardResolver: new DefaultAgentCardResolver({ fetchImpl }),
      transports: [new JsonRpcTransportFactory({ fetchImpl })],
    }),
  );
  const c = flags.card ? await factory.createFromAgentCard(JSON.parse(fs.readFileSync(flags.card, 'utf8'))) : await factory.createFromUrl(flags.url);
  const card = await c.getAgentCard();
  out({ event: 'card', proto: c.protocolVersion, name: card.name, url: card.supportedInterfaces?.[0]?.url });
  return c;
}

async function legacyClient() {
  let raw;
  if (flags.card) {
    raw = JSON.parse(fs.readFileSync(flags.card, 'utf8'));
  } else {
    const res = await fetchImpl(new URL('/.well-known/agent.json', flags.url), { headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error(`agent card: HTTP ${res.status}: ${await res.text()}`);
    raw = await res.json();
  }
  const card = parseLegacyAgentCard(raw);
  const transport = new LegacyJsonRpcTransport({ endpoint: raw.url, fetchImpl });
  const c = new Client(transport, card);
  out({ event: 'card', proto: c.protocolVersion, name: raw.name, url: raw.url, protocolVersion: raw.protocolVersion });
  return c;
}

// summarize turns an SDK object (Task, Message, status or artifact update) into what the test
// reads: ids, state and the text of its parts.
function summarize(v, kind) {
  if (!v) return { kind: kind || 'empty' };
  kind ||= 'status' in v && 'artifacts' in v ? 'task' : 'messageId' in v && 'parts' in v ? 'message' : 'unknown';
  const text = (parts) => (parts || []).map((p) => (p.content?.$case === 'text' ? p.content.value : JSON.stringify(p.content?.value ?? null))).join(' ');
  const msg = (m) => m && { messageId: m.messageId, contextId: m.contextId, taskId: m.taskId, role: m.role, text: text(m.parts), metadata: m.metadata };
  const state = (s) => (s ? taskStateToJSON(s.state) : undefined);
  switch (kind) {
    case 'task':
      return {
        kind,
        taskId: v.id,
        contextId: v.contextId,
        state: state(v.status),
        statusMessage: msg(v.status?.message),
        artifacts: (v.artifacts || []).map((a) => ({ artifactId: a.artifactId, name: a.name, text: text(a.parts), metadata: a.metadata })),
        history: (v.history || []).map(msg),
        metadata: v.metadata,
      };
    case 'message':
      return { kind, ...msg(v) };
    case 'statusUpdate':
      return { kind, taskId: v.taskId, contextId: v.contextId, state: state(v.status), statusMessage: msg(v.status?.message), metadata: v.metadata };
    case 'artifactUpdate':
      return {
        kind,
        taskId: v.taskId,
        contextId: v.contextId,
        artifactId: v.artifact?.artifactId,
        name: v.artifact?.name,
        text: text(v.artifact?.parts),
        append: v.append,
        lastChunk: v.lastChunk,
        metadata: v.metadata,
      };
  }
  return { kind, value: v };
}
