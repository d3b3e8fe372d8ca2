#!/usr/bin/env node
// openai_check.mjs - Baton's OpenAI-compatible gateway (/v1) checked with the official `openai`
// SDK: models, chat completions streamed and not (the same answer both ways), a conversation,
// tool definitions, embeddings in both encodings, OpenAI-shaped errors, and the calls priced in
// the gateway's ledger (GET /api/v1/status "gateway").
//
//   node openai_check.mjs BASE_URL          (the server's base, e.g. http://127.0.0.1:41231)
//   node openai_check.mjs BASE_URL limited  (a server whose daily limit is spent: 429s)
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { checks } from '../fakes/checks.mjs';

const [base, mode] = process.argv.slice(2);
if (!base) {
  console.error('usage: node openai_check.mjs BASE_URL [limited]');
  process.exit(2);
}
const { check, finish } = checks({ watchdogMs: 60_000 });
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'not-needed', maxRetries: 0 });
const status = async () => (await fetch(`${base}/api/v1/status`)).json();
const hello = [
  { role: 'system', content: 'You are brief.' },
  { role: 'user', content: 'Plan a picnic for four people.' },
];

if (mode === 'limited') {
  await check('a spent daily limit refuses the call: 429 insufficient_quota', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'auto', messages: hello }),
      e => e.status === 429 && e.error?.type === 'insufficient_quota' && /limit|budget|exceed/i.test(e.message));
  });
  finish();
}

await check('models: auto and the offline model', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.ok(ids.includes('auto'), ids.join());
  assert.ok(ids.includes('offline/offline-1'), ids.join());
});

let plain;
await check('chat completion: an answer, its model and usage', async () => {
  plain = await client.chat.completions.create({ model: 'auto', messages: hello });
  assert.equal(plain.object, 'chat.completion');
  assert.match(plain.id, /^chatcmpl-/);
  assert.equal(plain.choices[0].message.role, 'assistant');
  assert.ok(plain.choices[0].message.content.length > 20, plain.choices[0].message.content);
  assert.equal(plain.choices[0].finish_reason, 'stop');
  assert.equal(plain.model, 'offline/offline-1');
  assert.ok(plain.usage.prompt_tokens > 0 && plain.usage.completion_tokens > 0);
  assert.equal(plain.usage.total_tokens, plain.usage.prompt_tokens + plain.usage.completion_tokens);
});

await check('streamed: chunks that add up to the same answer, then usage', async () => {
  const stream = await client.chat.completions.create({
    model: 'offline/offline-1', messages: hello, stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  let finish_reason = null;
  let usage = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    for (const c of chunk.choices) {
      text += c.delta.content ?? '';
      finish_reason = c.finish_reason ?? finish_reason;
    }
    usage = chunk.usage ?? usage;
  }
  assert.equal(text, plain.choices[0].message.content);
  assert.equal(finish_reason, 'stop');
  assert.ok(usage && usage.total_tokens > 0);
});

await check('a conversation and tool definitions are taken', async () => {
  const r = await client.chat.completions.create({
    model: 'auto',
    messages: [...hello, { role: 'assistant', content: 'Sandwiches.' }, { role: 'user', content: [{ type: 'text', text: 'And drinks?' }] }],
    tools: [{ type: 'function', function: { name: 'weather', description: 'The forecast', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
  });
  assert.ok(r.choices[0].message.content || r.choices[0].message.tool_calls);
});

await check('embeddings: base64 (the SDK default) and float agree', async () => {
  const b = await client.embeddings.create({ model: 'auto', input: ['picnic', 'thunderstorm'] });
  const f = await client.embeddings.create({ model: 'auto', input: ['picnic', 'thunderstorm'], encoding_format: 'float' });
  assert.equal(b.data.length, 2);
  assert.equal(b.model, 'offline/offline-embed-1');
  const [v1, v2] = [b.data[0].embedding, f.data[0].embedding];
  assert.ok(v1.length > 10 && v1.length === v2.length);
  for (let i = 0; i < v1.length; i++) assert.ok(Math.abs(v1[i] - v2[i]) < 1e-6, `component ${i}`);
  assert.ok(b.usage.prompt_tokens > 0);
});

await check('errors: unknown model 404, bad request 400, in OpenAI\'s shape', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'gpt-17', messages: hello }),
    e => e.status === 404 && e.code === 'model_not_found' && /gpt-17/.test(e.message));
  await assert.rejects(client.chat.completions.create({ model: 'auto', messages: [] }),
    e => e.status === 400 && e.type === 'invalid_request_error');
  await assert.rejects(client.embeddings.create({ model: 'auto', input: [] }), e => e.status === 400);
});

await check('every call is priced in the gateway ledger', async () => {
  const g = (await status()).gateway;
  // 1 plain + 1 streamed (may be a cache hit) + 1 conversation + 2 embeddings, at least
  assert.ok(g.calls >= 5, JSON.stringify(g));
  assert.ok(g.input_tokens > 0, JSON.stringify(g));
});

finish();
