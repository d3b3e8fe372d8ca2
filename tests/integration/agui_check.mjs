#!/usr/bin/env node
// agui_check.mjs - Baton's AG-UI stream checked with @ag-ui/client's HttpAgent, a client
// nobody here wrote (it validates the event sequence, applies the state snapshot and deltas,
// and builds the conversation from the text messages): a new thread starts the sdlc template
// from the user's message and stops at the architecture approval as an interrupt; the next run
// on the thread resumes it with the answer and finishes; GET /api/v1/runs/{id}/agui replays the
// run after a Last-Event-ID.
//
//   node agui_check.mjs BASE_URL
import assert from 'node:assert/strict';
import { HttpAgent } from '@ag-ui/client';
import { checks } from '../fakes/checks.mjs';

const base = process.argv[2];
if (!base) {
  console.error('usage: node agui_check.mjs BASE_URL');
  process.exit(2);
}
const { check, finish } = checks({ watchdogMs: 90_000 });

const agent = new HttpAgent({
  url: `${base}/api/v1/agui`,
  threadId: 'thread-1',
  initialMessages: [{ id: 'u1', role: 'user', content: 'A todo app for families' }],
});
const run = async params => {
  const events = [];
  const result = await agent.runAgent(params, { onEvent: ({ event }) => { events.push(event); } });
  return { events, result };
};
const types = events => events.map(e => e.type);

let first, interruptId;
await check('a new thread runs the workflow up to its approval: an interrupt', async () => {
  first = await run({ runId: 'agui-1', forwardedProps: { workflow: 'sdlc' } });
  const t = types(first.events);
  assert.equal(t[0], 'RUN_STARTED');
  assert.equal(first.events[0].threadId, 'thread-1');
  assert.equal(first.events[0].runId, 'agui-1');
  assert.equal(t[1], 'STATE_SNAPSHOT');
  const last = first.events.at(-1);
  assert.equal(last.type, 'RUN_FINISHED');
  assert.equal(last.outcome.type, 'interrupt');
  interruptId = last.outcome.interrupts[0].id;
  assert.match(interruptId, /^r-[0-9a-z]+\.architecture$/);
  assert.ok(t.includes('STEP_STARTED') && t.includes('STEP_FINISHED') && t.includes('TEXT_MESSAGE_CONTENT'), t.join());
  assert.ok(t.includes('CUSTOM'), 'the approval request as a CUSTOM event');
});

await check('the client applied the state: the run as Baton reports it', async () => {
  assert.equal(agent.state.tasks.architecture.status, 'waiting_human');
  assert.equal(agent.state.tasks.requirements.status, 'completed');
  const rest = await (await fetch(`${base}/api/v1/runs/${interruptId.split('.')[0]}`)).json();
  assert.equal(rest.status, 'waiting_human');
  assert.equal(rest.inputs?.project_brief ?? 'A todo app for families', 'A todo app for families');
});

await check('the agents\' outputs became assistant messages', async () => {
  const said = agent.messages.filter(m => m.role === 'assistant');
  assert.ok(said.length >= 3, `${said.length} assistant messages`);
  assert.match(said[0].content, /todo app for families/i);
});

await check('resuming the interrupt with an answer finishes the run', async () => {
  const second = await run({ runId: 'agui-2', resume: [{ interruptId, status: 'resolved', payload: { decision: 'approve', feedback: 'ok' } }] });
  const last = second.events.at(-1);
  assert.equal(second.events[0].type, 'RUN_STARTED');
  assert.equal(last.type, 'RUN_FINISHED');
  assert.equal(last.outcome.type, 'success');
  assert.equal(last.result.status, 'completed');
  assert.equal(agent.state.tasks.delivery_summary.status, 'completed');
  const rest = await (await fetch(`${base}/api/v1/runs/${interruptId.split('.')[0]}`)).json();
  assert.equal(rest.status, 'completed');
});

await check('GET /api/v1/runs/{id}/agui after a Last-Event-ID: the rest of the run, in order', async () => {
  const id = interruptId.split('.')[0];
  const res = await fetch(`${base}/api/v1/runs/${id}/agui`, { headers: { 'Last-Event-ID': '40' } });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const frames = (await res.text()).split('\n\n').filter(Boolean).map(f => ({
    id: Number((f.match(/^id: (\d+)$/m) || [])[1] ?? 0),
    ev: JSON.parse(f.match(/^data: (.*)$/m)[1]),
  }));
  assert.equal(frames[0].ev.type, 'RUN_STARTED');
  const ids = frames.slice(1).map(f => f.id);
  assert.ok(ids.length > 10 && ids[0] > 40, ids.slice(0, 3).join());
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i] >= ids[i - 1], 'ids never go back');
  assert.equal(frames.at(-1).ev.type, 'RUN_FINISHED');
});

await check('a body that is not a RunAgentInput is a 400, a new thread without a workflow too', async () => {
  let r = await fetch(`${base}/api/v1/agui`, { method: 'POST', body: '{}' });
  assert.equal(r.status, 400);
  r = await fetch(`${base}/api/v1/agui`, { method: 'POST', body: JSON.stringify({ threadId: 'x', runId: 'y', messages: [] }) });
  assert.equal(r.status, 400);
  assert.match((await r.json()).error.message, /forwardedProps.workflow/);
});

finish();
