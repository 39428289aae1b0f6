// An A2A agent built with the official JavaScript SDK (@a2a-js/sdk, A2A 1.0, with the v0.3
// compatibility layer on): the Agent Card at /.well-known/agent-card.json (and the v0.3 path
// /.well-known/agent.json), JSON-RPC at /a2a/jsonrpc (SendMessage / SendStreamingMessage /
// GetTask, and message/send / message/stream / tasks/get from v0.3 clients). It records every
// HTTP request it receives and every message its executor is handed as JSON lines in the
// --record file, and prints {"listening":"ip:port"} once it accepts connections.
//
//   node a2a-server.js --listen 127.0.0.3:0 --record /tmp/a2a.jsonl
//
// For each message the agent publishes, in order: the task (submitted), a status update
// (working, with an agent message), --chunks artifact updates of one artifact --delay-ms apart
// (each chunk's text quotes the request), and a final status update (completed, with an agent
// message). Words in the request text change that:
//   #ssn      the artifact's first chunk also holds an SSN (response classification)
//   #message  the agent answers with one Message instead of a task
import express from 'express';
import { A2A_PROTOCOL_VERSION, Role, TaskState } from '@a2a-js/sdk';
import { DefaultRequestHandler, InMemoryTaskStore } from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler, UserBuilder } from '@a2a-js/sdk/server/express';
import { Recorder, httpRecord, parseArgs, sleep } from './lib.js';

const { flags } = parseArgs(process.argv.slice(2));
const [host, port] = splitHostPort(flags.listen || '127.0.0.1:0');
const chunks = Number(flags.chunks || 3);
const delayMs = Number(flags['delay-ms'] || 300);
const rec = new Recorder(flags.record);
const ARTIFACT_SSN = '219-09-9999';

let seq = 0;
const id = (p) => `${p}-${process.pid}-${++seq}`;

const textPart = (text) => ({ content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' });
const agentMessage = (taskId, contextId, text) => ({
  messageId: id('srv-msg'),
  contextId,
  taskId,
  role: Role.ROLE_AGENT,
  parts: [textPart(text)],
  metadata: undefined,
  extensions: [],
  referenceTaskIds: [],
});
const status = (state, message) => ({ state, message, timestamp: new Date().toISOString() });

function textOf(message) {
  return (message?.parts || [])
    .map((p) => (p.content?.$case === 'text' ? p.content.value : ''))
    .join(' ');
}

const executor = {
  async execute(ctx, bus) {
    const msg = ctx.userMessage;
    const text = textOf(msg);
    rec.write({
      kind: 'execute',
      taskId: ctx.taskId,
      contextId: ctx.contextId,
      messageId: msg.messageId,
      messageContextId: msg.contextId,
      messageTaskId: msg.taskId,
      text,
      messageMetadata: msg.metadata,
      requestMetadata: ctx.request.metadata,
      parts: msg.parts,
    });
    if (text.includes('#message')) {
      bus.publish({ kind: 'message', data: agentMessage('', ctx.contextId, `reply to: ${text}`) });
      bus.finished();
      return;
    }
    const { taskId, contextId } = ctx;
    if (!ctx.task) {
      bus.publish({
        kind: 'task',
        data: { id: taskId, contextId, status: status(TaskState.TASK_STATE_SUBMITTED, undefined), artifacts: [], history: [msg], metadata: undefined },
      });
    }
    bus.publish({
      kind: 'statusUpdate',
      data: { taskId, contextId, status: status(TaskState.TASK_STATE_WORKING, agentMessage(taskId, contextId, 'working on it')), metadata: undefined },
    });
    const artifactId = id('artifact');
    for (let i = 0; i < chunks; i++) {
      await sleep(delayMs);
      let chunk = `chunk ${i} of ${chunks}: ${text}`;
      if (i === 0 && text.includes('#ssn')) chunk += ` customer ssn ${ARTIFACT_SSN}`;
      bus.publish({
        kind: 'artifactUpdate',
        data: {
          taskId,
          contextId,
          artifact: { artifactId, name: 'report', description: 'what the agent found', parts: [textPart(chunk)], metadata: undefined, extensions: [] },
          append: i > 0,
          lastChunk: i === chunks - 1,
          metadata: undefined,
        },
      });
      rec.write({ kind: 'artifact-sent', index: i });
    }
    await sleep(delayMs);
    bus.publish({
      kind: 'statusUpdate',
      data: { taskId, contextId, status: status(TaskState.TASK_STATE_COMPLETED, agentMessage(taskId, contextId, `done: ${text}`)), metadata: undefined },
    });
    bus.finished();
  },
  async cancelTask() {},
};

const app = express();
// Record every request as received; the SDK's own body parser finds the body already parsed.
app.use(express.json({ limit: '4mb', type: () => true }));
app.use((req, _res, next) => {
  rec.write(httpRecord(req, req.body && Object.keys(req.body).length ? req.body : undefined));
  next();
});

const listener = app.listen(port, host, () => {
  const a = listener.address();
  const base = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  const card = {
    name: 'meshwarden-test-agent',
    description: 'Echoes what it is asked through a task, status updates and an artifact.',
    // One endpoint for both versions; the SDK's v0.3 layer needs the v0.3 interface declared.
    supportedInterfaces: [
      { url: `${base}/a2a/jsonrpc`, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: A2A_PROTOCOL_VERSION },
      { url: `${base}/a2a/jsonrpc`, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '0.3' },
    ],
    provider: { organization: 'Meshwarden tests', url: base },
    version: '1.0.0',
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: [{ id: 'echo', name: 'Echo', description: 'Echoes the request.', tags: ['test'], examples: ['hello'], inputModes: ['text/plain'], outputModes: ['text/plain'], securityRequirements: [] }],
    signatures: [],
  };
  const handler = new DefaultRequestHandler(card, new InMemoryTaskStore(), executor);
  const cards = agentCardHandler({ agentCardProvider: handler, legacyCompat: { enabled: true } });
  app.use('/.well-known/agent-card.json', cards);
  app.use('/.well-known/agent.json', cards);
  app.use('/a2a/jsonrpc', jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication, legacyCompat: { enabled: true } }));
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
