#!/usr/bin/env node
// Checks fake_server.mjs against each provider's official SDK (openai, @anthropic-ai/sdk,
// @google/genai, ollama): if a fake drifts from the real wire protocol, the SDK that real
// users run fails to read it, and so does this script. Starts its own fake on a free loopback
// port, prints one line per check and "N passed, M failed", exits non-zero on any failure.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { ChatCompletionStream } from 'openai/lib/ChatCompletionStream.mjs';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI, ApiError as GeminiApiError, Type } from '@google/genai';
import { Ollama } from 'ollama';
import { checks } from './checks.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SLOW_MS = 400;

// ---------------------------------------------------------------------------------------------
// The fake under test

async function startFake() {
  const child = spawn(process.execPath, [path.join(here, 'fake_server.mjs'), '--port', '0', '--max-seconds', '120'], {
    env: { ...process.env, FAKE_SLOW_MS: String(SLOW_MS) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('fake_server did not print its port within 10 s')), 10_000);
    lines.once('line', (l) => { clearTimeout(timer); resolve(l); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`fake_server exited early (${code})`)); });
  });
  const { port } = JSON.parse(first);
  assert.ok(Number.isInteger(port) && port > 0, `bad first line ${first}`);
  return { child, base: `http://127.0.0.1:${port}` };
}

const { child, base } = await startFake();
process.on('exit', () => child.kill('SIGTERM'));
// A hung stream must fail the check, not the ctest timeout.
const { check, finish } = checks({ watchdogMs: 60_000 });

async function rejects(promise, test) {
  let error;
  try { await promise; } catch (e) { error = e; }
  assert.ok(error, 'expected an error, got success');
  if (test) test(error);
  return error;
}

const ctl = {
  async script(list) {
    const r = await fetch(`${base}/_fake/script`, { method: 'POST', body: JSON.stringify(list) });
    assert.equal(r.status, 200);
  },
  async requests(since = 0) { return (await fetch(`${base}/_fake/requests?since=${since}`)).json(); },
  async reset() { assert.equal((await fetch(`${base}/_fake/reset`, { method: 'POST' })).status, 200); },
  async last() { const all = await this.requests(); return all[all.length - 1]; },
};

const tok = (s) => Math.ceil(s.length / 4);
const weatherTool = { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1 } }, required: ['city', 'days'] };
const personSchema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } } },
  required: ['name', 'age', 'tags'], additionalProperties: false };

// ---------------------------------------------------------------------------------------------
// OpenAI

const oa = new OpenAI({ apiKey: 'sk-fake-openai', baseURL: `${base}/v1`, maxRetries: 0, timeout: 10_000 });
const hello = [{ role: 'user', content: 'Hello there' }];

await check('openai: chat non-stream (content, usage)', async () => {
  const c = await oa.chat.completions.create({ model: 'gpt-4o-mini', messages: hello });
  assert.equal(c.object, 'chat.completion');
  assert.equal(c.choices[0].message.content, 'Fake reply to: Hello there');
  assert.equal(c.choices[0].finish_reason, 'stop');
  assert.equal(c.usage.prompt_tokens, tok('Hello there'));
  assert.equal(c.usage.completion_tokens, tok('Fake reply to: Hello there'));
  assert.equal(c.usage.total_tokens, c.usage.prompt_tokens + c.usage.completion_tokens);
});

await check('openai: chat stream (deltas, include_usage chunk, [DONE])', async () => {
  const s = await oa.chat.completions.create({ model: 'gpt-4o-mini', messages: hello, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let usage = null;
  let deltas = 0;
  let finish = null;
  for await (const ch of s) {
    assert.equal(ch.object, 'chat.completion.chunk');
    if (ch.choices.length) {
      if (ch.choices[0].delta.content) { text += ch.choices[0].delta.content; deltas++; }
      finish = ch.choices[0].finish_reason ?? finish;
      assert.equal(ch.usage, null);
    } else usage = ch.usage;
  }
  assert.equal(text, 'Fake reply to: Hello there');
  assert.ok(deltas > 1, 'expected several deltas');
  assert.equal(finish, 'stop');
  assert.equal(usage?.prompt_tokens, tok('Hello there'));
  assert.equal(usage?.completion_tokens, tok(text));
});

await check('openai: streamed tool-call fragments assemble (SDK ChatCompletionStream)', async () => {
  const tools = [{ type: 'function', function: { name: 'get_weather', parameters: weatherTool } }, { type: 'function', function: { name: 'other', parameters: { type: 'object' } } }];
  const messages = [{ role: 'user', content: 'Weather in Paris?' }];
  const s = ChatCompletionStream.createChatCompletion(oa, { model: 'tool-call', messages, tools, stream: true });
  let fragments = 0;
  s.on('chunk', (ch) => { if (ch.choices[0]?.delta?.tool_calls?.[0]?.function?.arguments) fragments++; });
  const final = await s.finalChatCompletion();
  const call = final.choices[0].message.tool_calls[0];
  assert.ok(fragments > 1, 'arguments should arrive in several fragments');
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
  assert.equal(call.function.name, 'get_weather');
  assert.match(call.id, /^call_/);
  const args = JSON.parse(call.function.arguments);
  assert.equal(typeof args.city, 'string');
  assert.ok(Number.isInteger(args.days) && args.days >= 1);
  // Second turn carries the tool result: the fake answers in text.
  const c2 = await oa.chat.completions.create({ model: 'tool-call', tools, messages: [...messages,
    { role: 'assistant', content: null, tool_calls: [call] },
    { role: 'tool', tool_call_id: call.id, content: '{"temp_c":21}' }] });
  assert.equal(c2.choices[0].finish_reason, 'stop');
  assert.equal(c2.choices[0].message.content, 'The get_weather tool returned: {"temp_c":21}');
});

await check('openai: response_format json_schema yields matching JSON', async () => {
  const c = await oa.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Describe Ada' }],
    response_format: { type: 'json_schema', json_schema: { name: 'person', schema: personSchema, strict: true } } });
  const v = JSON.parse(c.choices[0].message.content);
  assert.deepEqual(Object.keys(v).sort(), ['age', 'name', 'tags']);
  assert.equal(typeof v.name, 'string');
  assert.ok(Number.isInteger(v.age));
  assert.ok(Array.isArray(v.tags) && typeof v.tags[0] === 'string');
});

await check('openai: embeddings (SDK default base64 and float)', async () => {
  const e = await oa.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha', 'beta'] });
  assert.equal(e.data.length, 2);
  assert.equal(e.data[0].embedding.length, 64);
  const f = await oa.embeddings.create({ model: 'text-embedding-3-small', input: 'alpha', encoding_format: 'float', dimensions: 64 });
  assert.ok(Array.isArray(f.data[0].embedding));
  for (let i = 0; i < 64; i++) assert.ok(Math.abs(f.data[0].embedding[i] - e.data[0].embedding[i]) < 1e-6);
  const norm = Math.sqrt(f.data[0].embedding.reduce((a, x) => a + x * x, 0));
  assert.ok(Math.abs(norm - 1) < 1e-3);
  assert.equal(e.usage.prompt_tokens, tok('alpha') + tok('beta'));
});

await check('openai: embeddings errors (429, insufficient_quota, cut body, empty input) and scripted usage', async () => {
  await rejects(oa.embeddings.create({ model: 'fail-429', input: 'x' }), (e) => {
    assert.ok(e instanceof OpenAI.RateLimitError, e.constructor.name);
    assert.equal(e.headers.get('retry-after'), '1');
  });
  await rejects(oa.embeddings.create({ model: 'budget-refusal', input: 'x' }), (e) => assert.equal(e.code, 'insufficient_quota'));
  await rejects(oa.embeddings.create({ model: 'cut-stream', input: 'x', encoding_format: 'float' }));
  await rejects(oa.embeddings.create({ model: 'malformed', input: 'x', encoding_format: 'float' }));
  await rejects(oa.embeddings.create({ model: 'text-embedding-3-small', input: ['ok', ''] }), (e) => assert.ok(e instanceof OpenAI.BadRequestError));
  await ctl.script([{ route: 'openai-embeddings', usage: { input: 77 } }]);
  const e = await oa.embeddings.create({ model: 'text-embedding-3-small', input: 'alpha', encoding_format: 'float' });
  assert.equal(e.usage.prompt_tokens, 77);
});

await check('openai: models list', async () => {
  const ids = [];
  for await (const m of oa.models.list()) ids.push(m.id);
  assert.ok(ids.includes('gpt-4o-mini'));
});

await check('openai: 429 -> RateLimitError with Retry-After', async () => {
  await rejects(oa.chat.completions.create({ model: 'fail-429', messages: hello }), (e) => {
    assert.ok(e instanceof OpenAI.RateLimitError, e.constructor.name);
    assert.equal(e.status, 429);
    assert.equal(e.headers.get('retry-after'), '1');
    assert.equal(e.code, 'rate_limit_exceeded');
  });
});

await check('openai: budget-refusal -> insufficient_quota', async () => {
  await rejects(oa.chat.completions.create({ model: 'budget-refusal', messages: hello }), (e) => {
    assert.equal(e.status, 429);
    assert.equal(e.code, 'insufficient_quota');
    assert.equal(e.type, 'insufficient_quota');
    assert.equal(e.headers.get('retry-after'), null);
  });
});

await check('openai: overloaded -> 503, fail-500 -> InternalServerError', async () => {
  await rejects(oa.chat.completions.create({ model: 'overloaded', messages: hello }), (e) => assert.equal(e.status, 503));
  await rejects(oa.chat.completions.create({ model: 'fail-500', messages: hello }), (e) => {
    assert.ok(e instanceof OpenAI.InternalServerError);
    assert.equal(e.type, 'server_error');
  });
});

await check('openai: cut stream surfaces as an error', async () => {
  const s = await oa.chat.completions.create({ model: 'cut-stream', messages: hello, stream: true });
  let got = '';
  await rejects((async () => { for await (const ch of s) got += ch.choices[0]?.delta?.content ?? ''; })());
  assert.ok(got.length > 0 && got !== 'Fake reply to: Hello there', 'some but not all content before the cut');
});

await check('openai: malformed body and in-stream error surface as errors', async () => {
  await rejects(oa.chat.completions.create({ model: 'malformed', messages: hello }));
  const s = await oa.chat.completions.create({ model: 'stream-error', messages: hello, stream: true });
  await rejects((async () => { for await (const _ of s); })(), (e) => assert.ok(e instanceof OpenAI.APIError));
});

await check('openai: invalid key -> AuthenticationError; missing key -> 401 body', async () => {
  const bad = new OpenAI({ apiKey: 'invalid-key', baseURL: `${base}/v1`, maxRetries: 0 });
  await rejects(bad.chat.completions.create({ model: 'gpt-4o-mini', messages: hello }), (e) => {
    assert.ok(e instanceof OpenAI.AuthenticationError);
    assert.equal(e.code, 'invalid_api_key');
  });
  const r = await fetch(`${base}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'x', messages: hello }) });
  assert.equal(r.status, 401);
  assert.equal((await r.json()).error.type, 'invalid_request_error');
});

await check('openai: slow-first-byte trips the SDK timeout, then succeeds', async () => {
  await rejects(oa.chat.completions.create({ model: 'slow-first-byte', messages: hello }, { timeout: 100 }),
    (e) => assert.ok(e instanceof OpenAI.APIConnectionTimeoutError, e.constructor.name));
  const t0 = Date.now();
  const c = await oa.chat.completions.create({ model: 'slow-first-byte', messages: hello });
  assert.ok(Date.now() - t0 >= SLOW_MS - 20);
  assert.equal(c.choices[0].message.content, 'Fake reply to: Hello there');
});

await check('openai: fail-once-<id> fails then succeeds', async () => {
  await rejects(oa.chat.completions.create({ model: 'fail-once-a1', messages: hello }), (e) => assert.equal(e.status, 500));
  const c = await oa.chat.completions.create({ model: 'fail-once-a1', messages: hello });
  assert.equal(c.model, 'fail-once-a1');
});

await check('control: script FIFO, requests log without key values, reset', async () => {
  await ctl.reset();
  await ctl.script([{ text: 'first scripted' }, { route: 'anthropic', text: 'for anthropic only' }, { behavior: 'fail-429' }, { status: 418, body: { teapot: true } }]);
  const c1 = await oa.chat.completions.create({ model: 'gpt-4o-mini', messages: hello });
  assert.equal(c1.choices[0].message.content, 'first scripted');
  await rejects(oa.chat.completions.create({ model: 'gpt-4o-mini', messages: hello }), (e) => assert.equal(e.status, 429));
  await rejects(oa.chat.completions.create({ model: 'gpt-4o-mini', messages: hello }), (e) => assert.equal(e.status, 418));
  const left = await (await fetch(`${base}/_fake/script`)).json();
  assert.equal(left.length, 1);
  assert.equal(left[0].route, 'anthropic');
  const reqs = await ctl.requests();
  assert.equal(reqs.length, 3);
  assert.equal(reqs[0].path, '/v1/chat/completions');
  assert.equal(reqs[0].auth.header, 'authorization');
  assert.equal(reqs[0].auth.scheme, 'Bearer');
  assert.equal(reqs[0].headers.authorization, undefined);
  assert.deepEqual(reqs[0].body.messages, hello);
  assert.ok(!JSON.stringify(reqs).includes('sk-fake-openai'), 'key value leaked into the log');
  await ctl.reset();
  assert.equal((await ctl.requests()).length, 0);
  assert.equal((await (await fetch(`${base}/_fake/script`)).json()).length, 0);
});

// ---------------------------------------------------------------------------------------------
// Anthropic

const an = new Anthropic({ apiKey: 'sk-ant-fake', authToken: null, baseURL: base, maxRetries: 0, timeout: 10_000 });
const system = [{ type: 'text', text: 'You are a careful assistant. '.repeat(40), cache_control: { type: 'ephemeral' } }];

await check('anthropic: messages.create non-stream (text, usage)', async () => {
  const m = await an.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 256, messages: hello });
  assert.equal(m.type, 'message');
  assert.equal(m.content[0].type, 'text');
  assert.equal(m.content[0].text, 'Fake reply to: Hello there');
  assert.equal(m.stop_reason, 'end_turn');
  assert.equal(m.usage.input_tokens, tok('Hello there'));
  assert.equal(m.usage.output_tokens, tok(m.content[0].text));
  assert.equal(m.usage.cache_read_input_tokens, 0);
  const rec = await ctl.last();
  // This SDK sends the key as Authorization: Bearer; the classic form is x-api-key. Both work.
  assert.ok(['x-api-key', 'authorization'].includes(rec.auth.header), rec.auth.header);
  assert.ok(rec.headers['anthropic-version']);
  const raw = await fetch(`${base}/v1/messages`, { method: 'POST', headers: { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 16, messages: hello }) });
  assert.equal(raw.status, 200);
  assert.equal((await ctl.last()).auth.header, 'x-api-key');
  const noKey = await fetch(`${base}/v1/messages`, { method: 'POST', headers: { 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 16, messages: hello }) });
  assert.equal(noKey.status, 401);
  assert.equal((await noKey.json()).error.type, 'authentication_error');
});

await check('anthropic: stream finalMessage usage incl. cache write then cache read', async () => {
  const params = { model: 'claude-sonnet-4-6', max_tokens: 256, system, messages: [{ role: 'user', content: 'Summarise' }] };
  const s1 = an.messages.stream(params);
  let text = '';
  s1.on('text', (t) => { text += t; });
  const m1 = await s1.finalMessage();
  assert.equal(text, 'Fake reply to: Summarise');
  assert.equal(m1.content[0].text, text);
  const sysTokens = tok(system[0].text);
  assert.equal(m1.usage.cache_creation_input_tokens, sysTokens);
  assert.equal(m1.usage.cache_read_input_tokens, 0);
  assert.equal(m1.usage.input_tokens, tok(system[0].text + 'Summarise') - sysTokens);
  assert.equal(m1.usage.output_tokens, tok(text));
  const m2 = await an.messages.stream(params).finalMessage();
  assert.equal(m2.usage.cache_read_input_tokens, sysTokens);
  assert.equal(m2.usage.cache_creation_input_tokens, 0);
  assert.equal(m2.stop_reason, 'end_turn');
});

await check('anthropic: tool_use (stream input_json_delta assembled) and tool_result turn', async () => {
  const tools = [{ name: 'get_weather', description: 'weather', input_schema: weatherTool }];
  const messages = [{ role: 'user', content: 'Weather in Oslo?' }];
  const s = an.messages.stream({ model: 'tool-call', max_tokens: 256, tools, messages });
  let jsonDeltas = 0;
  s.on('streamEvent', (ev) => { if (ev.type === 'content_block_delta' && ev.delta.type === 'input_json_delta') jsonDeltas++; });
  const m = await s.finalMessage();
  assert.ok(jsonDeltas > 1);
  assert.equal(m.stop_reason, 'tool_use');
  const use = m.content.find((b) => b.type === 'tool_use');
  assert.equal(use.name, 'get_weather');
  assert.match(use.id, /^toolu_/);
  assert.equal(typeof use.input.city, 'string');
  const nonStream = await an.messages.create({ model: 'tool-call', max_tokens: 256, tools, messages });
  assert.deepEqual(nonStream.content.find((b) => b.type === 'tool_use').input, use.input);
  const m2 = await an.messages.create({ model: 'tool-call', max_tokens: 256, tools, messages: [...messages,
    { role: 'assistant', content: m.content },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny' }] }] });
  assert.equal(m2.stop_reason, 'end_turn');
  assert.equal(m2.content[0].text, 'The get_weather tool returned: sunny');
});

await check('anthropic: output_config json_schema yields matching JSON', async () => {
  const m = await an.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 512, messages: [{ role: 'user', content: 'Describe Ada' }],
    output_config: { format: { type: 'json_schema', schema: personSchema } } });
  const v = JSON.parse(m.content[0].text);
  assert.ok(Number.isInteger(v.age) && typeof v.name === 'string');
});

await check('anthropic: models list', async () => {
  const ids = [];
  for await (const m of an.models.list()) { assert.equal(m.type, 'model'); ids.push(m.id); }
  assert.ok(ids.includes('claude-sonnet-4-6'));
});

await check('anthropic: 529 -> OverloadedError (overloaded_error)', async () => {
  await rejects(an.messages.create({ model: 'overloaded', max_tokens: 16, messages: hello }), (e) => {
    assert.ok(e instanceof Anthropic.OverloadedError, e.constructor.name);
    assert.equal(e.status, 529);
    assert.equal(e.type, 'overloaded_error');
  });
});

await check('anthropic: 429 RateLimitError with retry-after; budget-refusal 400', async () => {
  await rejects(an.messages.create({ model: 'fail-429', max_tokens: 16, messages: hello }), (e) => {
    assert.ok(e instanceof Anthropic.RateLimitError);
    assert.equal(e.headers.get('retry-after'), '1');
    assert.equal(e.type, 'rate_limit_error');
  });
  await rejects(an.messages.create({ model: 'budget-refusal', max_tokens: 16, messages: hello }), (e) => {
    assert.ok(e instanceof Anthropic.BadRequestError);
    assert.match(e.message, /credit balance/);
  });
});

await check('anthropic: in-stream error event, cut stream, invalid key', async () => {
  await rejects(an.messages.stream({ model: 'stream-error', max_tokens: 64, messages: hello }).finalMessage(),
    (e) => { assert.ok(e instanceof Anthropic.APIError); assert.equal(e.type, 'overloaded_error'); });
  await rejects(an.messages.stream({ model: 'cut-stream', max_tokens: 64, messages: hello }).finalMessage());
  const bad = new Anthropic({ apiKey: 'invalid-key', authToken: null, baseURL: base, maxRetries: 0 });
  await rejects(bad.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 16, messages: hello }),
    (e) => assert.ok(e instanceof Anthropic.AuthenticationError));
});

// ---------------------------------------------------------------------------------------------
// Google Gemini

const gm = new GoogleGenAI({ vertexai: false, apiKey: 'fake-gemini-key', httpOptions: { baseUrl: base, timeout: 10_000 } });

await check('gemini: generateContent (text, usageMetadata)', async () => {
  const r = await gm.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hello there',
    config: { systemInstruction: 'Be brief.' } });
  assert.equal(r.text, 'Fake reply to: Hello there');
  assert.equal(r.candidates[0].finishReason, 'STOP');
  assert.equal(r.usageMetadata.promptTokenCount, tok('Be brief.' + 'Hello there'));
  assert.equal(r.usageMetadata.candidatesTokenCount, tok(r.text));
  assert.equal(r.usageMetadata.totalTokenCount, r.usageMetadata.promptTokenCount + r.usageMetadata.candidatesTokenCount);
  const rec = await ctl.last();
  assert.match(rec.path, /^\/v1(beta)?\/models\/gemini-2\.5-flash:generateContent$/);
  assert.equal(rec.auth.header, 'x-goog-api-key');
});

await check('gemini: generateContentStream (SSE chunks, final usageMetadata)', async () => {
  const s = await gm.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Stream please' });
  let text = '';
  let n = 0;
  let last;
  for await (const ch of s) { text += ch.text ?? ''; n++; last = ch; }
  assert.ok(n > 1);
  assert.equal(text, 'Fake reply to: Stream please');
  assert.equal(last.candidates[0].finishReason, 'STOP');
  assert.equal(last.usageMetadata.candidatesTokenCount, tok(text));
  assert.equal(last.usageMetadata.promptTokenCount, tok('Stream please'));
  assert.equal((await ctl.last()).query.alt, 'sse');
});

await check('gemini: responseSchema JSON', async () => {
  const r = await gm.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Describe Ada', config: {
    responseMimeType: 'application/json',
    responseSchema: { type: Type.OBJECT, properties: { name: { type: Type.STRING }, age: { type: Type.INTEGER } }, required: ['name', 'age'] } } });
  const v = JSON.parse(r.text);
  assert.equal(typeof v.name, 'string');
  assert.ok(Number.isInteger(v.age));
});

await check('gemini: function call and functionResponse turn', async () => {
  const tools = [{ functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: weatherTool }] }];
  const r = await gm.models.generateContent({ model: 'tool-call', contents: 'Weather in Rome?', config: { tools } });
  const call = r.functionCalls[0];
  assert.equal(call.name, 'get_weather');
  assert.equal(typeof call.args.city, 'string');
  const r2 = await gm.models.generateContent({ model: 'tool-call', config: { tools }, contents: [
    { role: 'user', parts: [{ text: 'Weather in Rome?' }] },
    { role: 'model', parts: [{ functionCall: call }] },
    { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp_c: 25 } } }] }] });
  assert.equal(r2.text, 'The get_weather tool returned: {"temp_c":25}');
});

await check('gemini: embedContent (batchEmbedContents on the wire)', async () => {
  const r = await gm.models.embedContent({ model: 'gemini-embedding-001', contents: ['alpha', 'beta'], config: { outputDimensionality: 32 } });
  assert.equal(r.embeddings.length, 2);
  assert.equal(r.embeddings[0].values.length, 32);
  assert.match((await ctl.last()).path, /:batchEmbedContents$/);
});

await check('gemini: embedContent errors (500, 429, cut body) and a batch naming another model', async () => {
  await rejects(gm.models.embedContent({ model: 'fail-500', contents: ['x'] }), (e) => {
    assert.ok(e instanceof GeminiApiError, e.constructor.name);
    assert.equal(e.status, 500);
  });
  await rejects(gm.models.embedContent({ model: 'fail-429', contents: ['x'] }), (e) => assert.equal(e.status, 429));
  await rejects(gm.models.embedContent({ model: 'cut-stream', contents: ['x', 'y'] }));
  const r = await fetch(`${base}/v1beta/models/gemini-embedding-001:batchEmbedContents`, { method: 'POST', headers: { 'x-goog-api-key': 'k' },
    body: JSON.stringify({ requests: [{ model: 'models/other', content: { parts: [{ text: 'x' }] } }] }) });
  assert.equal(r.status, 400);
  assert.equal((await r.json()).error.status, 'INVALID_ARGUMENT');
});

await check('gemini: 429 and 503 surface as ApiError', async () => {
  await rejects(gm.models.generateContent({ model: 'fail-429', contents: 'x' }), (e) => {
    assert.ok(e instanceof GeminiApiError, e.constructor.name);
    assert.equal(e.status, 429);
    assert.match(e.message, /RESOURCE_EXHAUSTED/);
  });
  await rejects(gm.models.generateContent({ model: 'overloaded', contents: 'x' }), (e) => assert.equal(e.status, 503));
});

await check('gemini: cut stream and missing key', async () => {
  await rejects((async () => {
    for await (const _ of await gm.models.generateContentStream({ model: 'cut-stream', contents: 'Hello there my friend' }));
  })());
  const r = await fetch(`${base}/v1beta/models/gemini-2.5-flash:generateContent`, { method: 'POST', body: JSON.stringify({ contents: [{ parts: [{ text: 'x' }] }] }) });
  assert.equal(r.status, 403);
  assert.equal((await r.json()).error.status, 'PERMISSION_DENIED');
});

// ---------------------------------------------------------------------------------------------
// Ollama

const ol = new Ollama({ host: base });

await check('ollama: chat non-stream (content, counts)', async () => {
  const r = await ol.chat({ model: 'llama3.2', messages: hello, stream: false });
  assert.equal(r.message.content, 'Fake reply to: Hello there');
  assert.equal(r.done, true);
  assert.equal(r.done_reason, 'stop');
  assert.equal(r.prompt_eval_count, tok('Hello there'));
  assert.equal(r.eval_count, tok(r.message.content));
  assert.equal((await ctl.last()).auth.header, null);
});

await check('ollama: chat stream (NDJSON, final done chunk)', async () => {
  const s = await ol.chat({ model: 'llama3.2', messages: hello, stream: true });
  let text = '';
  let n = 0;
  let last;
  for await (const part of s) { text += part.message.content; n++; last = part; }
  assert.ok(n > 2);
  assert.equal(text, 'Fake reply to: Hello there');
  assert.equal(last.done, true);
  assert.equal(last.eval_count, tok(text));
});

await check('ollama: tool call, format schema, tags, embed', async () => {
  const tools = [{ type: 'function', function: { name: 'get_weather', parameters: weatherTool } }];
  const r = await ol.chat({ model: 'tool-call', messages: [{ role: 'user', content: 'Weather?' }], tools, stream: false });
  assert.equal(r.message.tool_calls[0].function.name, 'get_weather');
  assert.equal(typeof r.message.tool_calls[0].function.arguments.city, 'string');
  const f = await ol.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'Ada' }], format: personSchema, stream: false });
  assert.ok(Number.isInteger(JSON.parse(f.message.content).age));
  assert.ok((await ol.list()).models.length > 0);
  const e = await ol.embed({ model: 'nomic-embed-text', input: ['one', 'two'] });
  assert.equal(e.embeddings.length, 2);
  assert.equal(e.embeddings[0].length, 64);
  assert.equal(e.prompt_eval_count, tok('one') + tok('two'));
});

await check('ollama: embed dimensions, errors (404, 503) and a cut body', async () => {
  const e = await ol.embed({ model: 'nomic-embed-text', input: 'one', dimensions: 16 });
  assert.equal(e.embeddings[0].length, 16);
  assert.deepEqual((await ctl.last()).body, { model: 'nomic-embed-text', input: 'one', dimensions: 16 });
  await rejects(ol.embed({ model: 'not-found', input: 'x' }), (err) => {
    assert.equal(err.status_code, 404);
    assert.match(err.error, /not found, try pulling it first/);
  });
  await rejects(ol.embed({ model: 'overloaded', input: 'x' }), (err) => assert.equal(err.status_code, 503));
  await rejects(ol.embed({ model: 'cut-stream', input: 'x' }));
});

await check('ollama: errors surface as ResponseError; cut stream throws', async () => {
  await rejects(ol.chat({ model: 'overloaded', messages: hello, stream: false }), (e) => {
    assert.equal(e.status_code, 503);
    assert.match(e.error, /server busy/);
  });
  await rejects((async () => { for await (const _ of await ol.chat({ model: 'cut-stream', messages: hello, stream: true })); })());
});

// ---------------------------------------------------------------------------------------------
// Scripted tool calls (what tests/cli/test_tools.sh queues), streamed as Baton asks for them,
// read back by each official SDK: the call's name and arguments arrive intact.

await check('scripted tool_call: streamed by all four protocols, read by each SDK', async () => {
  await ctl.reset();
  const args = { name: 'notes.md', note: 'a "quoted" value, long enough to be split into fragments' };
  const rtool = { type: 'object', properties: { name: { type: 'string' }, note: { type: 'string' } } };
  await ctl.script(['openai', 'anthropic', 'gemini', 'ollama'].map((route) => ({ route, tool_call: { name: 'read_artifact', arguments: args } })));
  const s = ChatCompletionStream.createChatCompletion(oa, { model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'x' }],
    tools: [{ type: 'function', function: { name: 'read_artifact', parameters: rtool } }] });
  const oc = (await s.finalChatCompletion()).choices[0].message.tool_calls[0];
  assert.equal(oc.function.name, 'read_artifact');
  assert.deepEqual(JSON.parse(oc.function.arguments), args);
  const am = await an.messages.stream({ model: 'claude-test', max_tokens: 100, messages: [{ role: 'user', content: 'x' }],
    tools: [{ name: 'read_artifact', description: 'read', input_schema: rtool }] }).finalMessage();
  const use = am.content.find((b) => b.type === 'tool_use');
  assert.equal(use.name, 'read_artifact');
  assert.deepEqual(use.input, args);
  let gcall;
  for await (const ch of await gm.models.generateContentStream({ model: 'gemini-test', contents: 'x',
    config: { tools: [{ functionDeclarations: [{ name: 'read_artifact', parametersJsonSchema: rtool }] }] } })) {
    if (ch.functionCalls?.length) gcall = ch.functionCalls[0];
  }
  assert.equal(gcall.name, 'read_artifact');
  assert.deepEqual(gcall.args, args);
  let ocall;
  for await (const part of await ol.chat({ model: 'llama-test', stream: true, messages: [{ role: 'user', content: 'x' }],
    tools: [{ type: 'function', function: { name: 'read_artifact', parameters: rtool } }] })) {
    if (part.message?.tool_calls?.length) ocall = part.message.tool_calls[0];
  }
  assert.equal(ocall.function.name, 'read_artifact');
  assert.deepEqual(ocall.function.arguments, args);
});

child.kill('SIGTERM');
await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
finish();
