#!/usr/bin/env node
// Fake model providers for Baton's tests: one loopback HTTP server that speaks four wire
// protocols (OpenAI-compatible Chat Completions, Anthropic Messages, Google Gemini, Ollama
// native) on one port. sdk_check.mjs drives it with each provider's official npm SDK, so a
// drift from the real protocols fails the build instead of hiding inside Baton's own tests.
//
// Written by hand on node:http on purpose: the tests need byte-level control of the wire
// (streams cut mid-way, malformed bodies, exact SSE framing, delayed first byte) that a web
// framework or a mocking library would hide or "fix".
//
// Usage: node fake_server.mjs [--port 0] [--host 127.0.0.1] [--latency-ms N] [--max-seconds 300]
//                             [--slow-ms 2000] [--chunk-ms 0] [--no-auth] [--record-max 100000]
//                             [--cache-min-tokens 0]
//   The first line on stdout is {"port": N}. The server exits on SIGTERM/SIGINT and by itself
//   after --max-seconds. Environment: FAKE_SLOW_MS, FAKE_LATENCY_MS, FAKE_MAX_SECONDS,
//   FAKE_CHUNK_MS, FAKE_AUTH=off, FAKE_RECORD_MAX, FAKE_CACHE_MIN_TOKENS (flags win).
//
// Routes
//   OpenAI:    POST /v1/chat/completions, POST /v1/embeddings, GET /v1/models
//   Anthropic: POST /v1/messages, GET /v1/models (when anthropic-version or x-api-key is sent)
//   Gemini:    POST /v1beta/models/{model}:generateContent, :streamGenerateContent[?alt=sse],
//              :embedContent, :batchEmbedContents, GET /v1beta/models   (also under /v1/)
//   Ollama:    POST /api/chat, POST /api/embed, POST /api/embeddings, GET /api/tags, /api/version
//
// Behaviour switches, chosen by the model name (exact match):
//   fail-429        429 + Retry-After: 1, the provider's rate-limit error body
//   fail-500        500, the provider's server error body
//   overloaded      Anthropic 529 overloaded_error; OpenAI/Gemini/Ollama 503
//   budget-refusal  non-retryable quota/billing refusal as each provider sends it: OpenAI 429
//                   insufficient_quota (no Retry-After), Anthropic 400 "credit balance is too
//                   low", Gemini 429 RESOURCE_EXHAUSTED (QuotaFailure, no RetryInfo), Ollama 402
//   not-found       404 model not found in the provider's format
//   malformed       200 whose body (or one stream event) is not valid JSON
//   cut-stream      the connection closes mid-body: streams stop before [DONE]/message_stop/done,
//                   an embeddings answer stops half-way
//   stream-error    a stream that carries the provider's in-stream error event half-way
//                   (streaming requests only; a non-streaming one gets a normal answer)
//   slow-first-byte waits FAKE_SLOW_MS (default 2000) before the status line
//   tool-call       calls the first tool of the request; once the request carries the tool's
//                   result, answers in text quoting it
//   fail-once-<id>  the first request for <id> gets fail-500, later ones succeed
//   echo-key        the provider's invalid-key refusal quoting the whole key it was sent and
//                   the header that carried it (OpenAI once wrote "Incorrect API key provided:
//                   sk-..."; proxies and gateways still echo headers): for secret redaction tests
// Any other model answers "Fake reply to: <last user message>" (JSON that fits the schema when
// structured output is asked for; a tool call whenever tool_choice forces one).
// An API key whose value starts with "invalid" gets the provider's invalid-key error.
//
// Control endpoints (no auth, never recorded, never delayed)
//   POST /_fake/script    JSON list (or one object) of canned responses, served FIFO. Entry:
//     { route?: "openai"|"anthropic"|"gemini"|"ollama"|"openai-embeddings"|"gemini-embed"|
//               "ollama-embed"|"openai-models"|... (default: any of the four chat routes),
//       model?: only for requests naming this model,
//       behavior?: any switch above, text?: reply text, json?: value replied as JSON text,
//       tool_call?: {name, arguments}, usage?: {input, output, cache_read, cache_creation}
//       (embeddings: usage.input replaces the prompt token count),
//       delay_ms?: before the first byte, chunk_ms?: between stream frames (as --chunk-ms),
//       status?, headers?, body?: served verbatim (body: string, or JSON-encoded) }
//   GET  /_fake/script    what is still queued
//   GET  /_fake/requests  every request received: {seq, time, method, path, query, headers
//                         (no auth headers, no cookies), auth: {header, scheme}, route, model,
//                         stream, body}. ?since=N returns those with seq > N.
//   POST /_fake/reset     forget script, requests, fail-once ids and prompt caches
//   GET  /_fake/health    {"ok": true}

import http from 'node:http';
import { createHash } from 'node:crypto';

// ---------------------------------------------------------------------------------------------
// Options

function parseOptions(argv) {
  const env = process.env;
  const num = (v, d) => (v === undefined || v === '' || !Number.isFinite(Number(v)) ? d : Number(v));
  const o = {
    host: env.FAKE_HOST || '127.0.0.1',
    port: num(env.FAKE_PORT, 0),
    latencyMs: num(env.FAKE_LATENCY_MS, 0),
    maxSeconds: num(env.FAKE_MAX_SECONDS, 300),
    slowMs: num(env.FAKE_SLOW_MS, 2000),
    chunkMs: num(env.FAKE_CHUNK_MS, 0),
    auth: env.FAKE_AUTH !== 'off',
    recordMax: num(env.FAKE_RECORD_MAX, 100000),
    cacheMinTokens: num(env.FAKE_CACHE_MIN_TOKENS, 0),
  };
  const names = {
    '--host': 'host', '--port': 'port', '--latency-ms': 'latencyMs', '--max-seconds': 'maxSeconds',
    '--slow-ms': 'slowMs', '--chunk-ms': 'chunkMs', '--record-max': 'recordMax',
    '--cache-min-tokens': 'cacheMinTokens',
  };
  for (let i = 0; i < argv.length; i++) {
    let [flag, value] = argv[i].split(/=(.*)/s);
    if (flag === '--no-auth') { o.auth = false; continue; }
    if (flag === '--help' || flag === '-h') {
      process.stdout.write('usage: node fake_server.mjs [--port N] [--host H] [--latency-ms N] '
        + '[--max-seconds N] [--slow-ms N] [--chunk-ms N] [--no-auth] [--record-max N] '
        + '[--cache-min-tokens N]\n');
      process.exit(0);
    }
    const key = names[flag];
    if (!key) { process.stderr.write(`fake_server: unknown option ${flag}\n`); process.exit(2); }
    if (value === undefined) value = argv[++i];
    if (key === 'host') { o.host = value; continue; }
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < 0) {
      process.stderr.write(`fake_server: ${flag} needs a number\n`); process.exit(2);
    }
    o[key] = n;
  }
  return o;
}

const opt = parseOptions(process.argv.slice(2));

// ---------------------------------------------------------------------------------------------
// Shared state (one test run = one server process; /_fake/reset starts over)

const state = {
  script: [],
  requests: [],
  seq: 0,
  failedOnce: new Set(),
  promptCache: new Set(),
};

// ---------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());
const tokensOf = (chars) => Math.ceil(chars / 4);
const sha = (s) => createHash('sha256').update(s).digest('hex');
let idCounter = 0;
const makeId = (prefix, len) => prefix + sha(`${process.pid}:${++idCounter}`).slice(0, len);
const clip = (s, n = 200) => (s.length > n ? s.slice(0, n) : s);
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// Deterministic unit vector from the text, so equal inputs embed equally.
function embedVector(text, dims) {
  const out = new Array(dims);
  let block = '';
  for (let i = 0; i < dims; i++) {
    if (i % 16 === 0) block = sha(`${text}#${i / 16}`);
    const h = parseInt(block.slice((i % 16) * 4, (i % 16) * 4 + 4), 16);
    out[i] = h / 32767.5 - 1;
  }
  const norm = Math.sqrt(out.reduce((a, v) => a + v * v, 0)) || 1;
  return out.map((v) => Math.round((v / norm) * 1e6) / 1e6);
}

// Split a reply into stream pieces: word by word, at most 64 pieces.
function pieces(text) {
  if (text === '') return [''];
  let parts = text.match(/\s*\S+\s*|\s+/g) || [text];
  if (parts.length > 64) {
    const per = Math.ceil(parts.length / 64);
    const merged = [];
    for (let i = 0; i < parts.length; i += per) merged.push(parts.slice(i, i + per).join(''));
    parts = merged;
  }
  return parts;
}

function fragments(s, size = 12) {
  const out = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out.length ? out : [''];
}

// A JSON value that fits the schema (JSON Schema, or Gemini's OpenAPI subset with upper-case
// types). Seeded by the prompt so it is deterministic and still looks related to it.
function instance(schema, seed, root = schema, depth = 0, key = '') {
  if (!isObj(schema) || depth > 8) return seed;
  if (typeof schema.$ref === 'string') {
    const path = schema.$ref.replace(/^#\/?/, '').split('/').filter(Boolean);
    let target = root;
    for (const p of path) target = isObj(target) ? target[p] : undefined;
    return instance(target, seed, root, depth + 1, key);
  }
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  for (const alt of ['anyOf', 'oneOf']) {
    if (Array.isArray(schema[alt]) && schema[alt].length) {
      const pick = schema[alt].find((s) => !(isObj(s) && String(s.type).toLowerCase() === 'null'));
      return instance(pick ?? schema[alt][0], seed, root, depth + 1, key);
    }
  }
  if (Array.isArray(schema.allOf)) {
    const merged = { type: 'object', properties: {}, required: [] };
    for (const s of schema.allOf) {
      if (isObj(s?.properties)) Object.assign(merged.properties, s.properties);
    }
    return instance(merged, seed, root, depth + 1, key);
  }
  let type = schema.type;
  if (Array.isArray(type)) type = type.find((t) => String(t).toLowerCase() !== 'null') ?? type[0];
  type = type ? String(type).toLowerCase() : (isObj(schema.properties) ? 'object' : 'string');
  switch (type) {
    case 'object': {
      const out = {};
      const props = isObj(schema.properties) ? schema.properties : {};
      for (const [k, s] of Object.entries(props)) out[k] = instance(s, seed, root, depth + 1, k);
      return out;
    }
    case 'array': {
      const n = Math.max(1, schema.minItems ?? 1);
      return Array.from({ length: n }, () => instance(schema.items, seed, root, depth + 1, key));
    }
    case 'integer':
    case 'number': {
      let v = seed.length % 100;
      if (typeof schema.minimum === 'number') v = Math.max(v, Math.ceil(schema.minimum));
      if (typeof schema.maximum === 'number') v = Math.min(v, Math.floor(schema.maximum));
      return v;
    }
    case 'boolean': return true;
    case 'null': return null;
    default: {
      const fmt = { 'date-time': '2025-01-01T00:00:00Z', date: '2025-01-01', email: 'fake@example.com',
        uri: 'https://example.com/fake', uuid: '00000000-0000-4000-8000-000000000000' }[schema.format];
      if (fmt) return fmt;
      let s = key ? `${key}: ${clip(seed, 60)}` : clip(seed, 60);
      if (typeof schema.maxLength === 'number') s = s.slice(0, schema.maxLength);
      if (typeof schema.minLength === 'number') s = s.padEnd(schema.minLength, '.');
      return s;
    }
  }
}

function textOfParts(content) {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (typeof p === 'string' ? p : typeof p?.text === 'string' ? p.text : '')).join('');
}

// ---------------------------------------------------------------------------------------------
// Prompt accounting and caching
//
// Every protocol turns its request into "segments" (tools, system, one per message/block) with a
// character count. Prompt tokens are ceil(chars / 4). Anthropic caches explicitly at
// cache_control breakpoints (first sight writes the prefix, later sights read it); OpenAI and
// Gemini cache implicitly: a repeated prefix (everything but the last message) of at least 1024
// tokens is reported as cached, rounded down to 128 tokens like OpenAI does.

function promptUsage(norm) {
  const segs = norm.segments;
  const total = segs.reduce((a, s) => a + s.chars, 0);
  const prompt = Math.max(1, tokensOf(total));
  let cacheRead = 0;
  let cacheCreation = 0;
  const model = norm.model;
  if (norm.protocol === 'anthropic') {
    const points = [];
    let chars = 0;
    const h = createHash('sha256');
    for (const s of segs) {
      chars += s.chars;
      h.update(s.key);
      if (s.cc) points.push({ key: `${model}|${h.copy().digest('hex')}`, tokens: tokensOf(chars) });
    }
    const usable = points.filter((p) => p.tokens >= opt.cacheMinTokens && p.tokens > 0);
    if (usable.length) {
      const hit = [...usable].reverse().find((p) => state.promptCache.has(p.key));
      cacheRead = hit ? hit.tokens : 0;
      cacheCreation = usable[usable.length - 1].tokens - cacheRead;
      for (const p of usable) state.promptCache.add(p.key);
    }
    cacheRead = Math.min(cacheRead, prompt);
    cacheCreation = Math.min(cacheCreation, prompt - cacheRead);
  } else if (norm.protocol === 'openai' || norm.protocol === 'gemini') {
    const prefix = segs.slice(0, -1);
    const prefixTokens = tokensOf(prefix.reduce((a, s) => a + s.chars, 0));
    if (prefixTokens >= 1024) {
      const key = `${norm.protocol}|${model}|${sha(prefix.map((s) => s.key).join('\u0000'))}`;
      if (state.promptCache.has(key)) cacheRead = prefixTokens - (prefixTokens % 128);
      state.promptCache.add(key);
    }
  }
  return { prompt, cacheRead, cacheCreation };
}

// ---------------------------------------------------------------------------------------------
// Deciding the reply (protocol-independent)

function planReply(norm, behavior, entry) {
  const seed = norm.lastUserText || '';
  if (entry?.tool_call) {
    return { kind: 'tool', name: entry.tool_call.name, args: entry.tool_call.arguments ?? {}, scripted: true };
  }
  if (typeof entry?.text === 'string') return { kind: 'text', text: entry.text, scripted: true };
  if (entry && 'json' in entry) return { kind: 'text', text: JSON.stringify(entry.json), scripted: true };

  const choice = norm.toolChoice;
  const forced = norm.tools.length > 0 && (choice === 'required' || isObj(choice));
  const wanted = norm.tools.length > 0 && choice !== 'none' && behavior === 'tool-call' && !norm.toolResult;
  if (forced || wanted) {
    const tool = (isObj(choice) && norm.tools.find((t) => t.name === choice.name)) || norm.tools[0];
    return { kind: 'tool', name: tool.name, args: instance(tool.schema ?? { type: 'object' }, seed) };
  }
  if (norm.json) {
    const value = norm.json.schema ? instance(norm.json.schema, seed) : { reply: `Fake reply to: ${clip(seed)}` };
    return { kind: 'text', text: JSON.stringify(value) };
  }
  if (norm.toolResult) {
    return { kind: 'text', text: `The ${norm.toolResult.name || 'tool'} tool returned: ${clip(norm.toolResult.text)}` };
  }
  return { kind: 'text', text: `Fake reply to: ${clip(seed)}` };
}

function finishPlan(norm, plan, entry) {
  const usage = promptUsage(norm);
  plan.finish = plan.kind === 'tool' ? 'tool' : 'stop';
  if (plan.kind === 'text' && norm.maxTokens > 0 && tokensOf(plan.text.length) > norm.maxTokens) {
    plan.text = plan.text.slice(0, norm.maxTokens * 4);
    plan.finish = 'length';
  }
  const outChars = plan.kind === 'tool' ? plan.name.length + JSON.stringify(plan.args).length : plan.text.length;
  usage.output = Math.max(1, tokensOf(outChars));
  const u = entry?.usage;
  if (isObj(u)) {
    if (Number.isFinite(u.input)) usage.prompt = u.input;
    if (Number.isFinite(u.output)) usage.output = u.output;
    if (Number.isFinite(u.cache_read)) usage.cacheRead = u.cache_read;
    if (Number.isFinite(u.cache_creation)) usage.cacheCreation = u.cache_creation;
  }
  plan.usage = usage;
  return plan;
}

// ---------------------------------------------------------------------------------------------
// Protocol: OpenAI Chat Completions (and /v1/embeddings, /v1/models)

const openai = {
  name: 'openai',
  err(status, message, type, code = null, param = null) {
    return { status, body: { error: { message, type, param, code } } };
  },
  error(kind, norm) {
    const m = norm?.model ?? '';
    switch (kind) {
      case 'rate_limit':
        return { ...this.err(429, `Rate limit reached for ${m} in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 1s.`, 'requests', 'rate_limit_exceeded'),
          headers: { 'retry-after': '1', 'x-ratelimit-limit-requests': '3', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1s' } };
      case 'server': return this.err(500, 'The server had an error while processing your request. Sorry about that!', 'server_error');
      case 'overloaded': return this.err(503, 'The engine is currently overloaded, please try again later.', 'server_error');
      case 'budget': return this.err(429, 'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.', 'insufficient_quota', 'insufficient_quota');
      case 'not_found': return this.err(404, `The model \`${m}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found');
      case 'auth_missing': return this.err(401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username. You can obtain an API key from https://platform.openai.com/account/api-keys.", 'invalid_request_error');
      case 'auth_invalid': return this.err(401, 'Incorrect API key provided: inval***. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', 'invalid_api_key');
      case 'auth_echo': return this.err(401, `Incorrect API key provided: ${norm.key} (sent as ${norm.sent}). You can find your API key at https://platform.openai.com/account/api-keys.`, 'invalid_request_error', 'invalid_api_key');
      case 'bad_json': return this.err(400, 'We could not parse the JSON body of your request. (HINT: This likely means you aren\'t using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)', 'invalid_request_error');
      default: return this.err(400, String(kind), 'invalid_request_error');
    }
  },
  auth(headers) {
    const a = headers.authorization;
    if (!a) return { header: null, scheme: null, ok: false };
    const m = /^Bearer\s+(\S.*)$/i.exec(a);
    return { header: 'authorization', scheme: m ? 'Bearer' : a.split(/\s/)[0], ok: !!m, invalid: !!m && m[1].startsWith('invalid') };
  },
  parse(body) {
    if (typeof body.model !== 'string' || !body.model) return { error: 'you must provide a model parameter' };
    if (!Array.isArray(body.messages)) return { error: "Missing required parameter: 'messages'." };
    const tools = [];
    for (const t of body.tools ?? []) {
      if (t?.type === 'function' && t.function?.name) tools.push({ name: t.function.name, schema: t.function.parameters });
    }
    for (const f of body.functions ?? []) if (f?.name) tools.push({ name: f.name, schema: f.parameters });
    const segments = [];
    if (tools.length) segments.push({ chars: JSON.stringify(body.tools ?? body.functions).length, key: JSON.stringify(body.tools ?? body.functions) });
    const callNames = {};
    let lastUserText = '';
    for (const msg of body.messages) {
      let chars = textOfParts(msg?.content).length;
      for (const c of msg?.tool_calls ?? []) {
        chars += (c.function?.name ?? '').length + (c.function?.arguments ?? '').length;
        if (c.id) callNames[c.id] = c.function?.name;
      }
      segments.push({ chars, key: JSON.stringify(msg) });
      if (msg?.role === 'user') lastUserText = textOfParts(msg.content);
    }
    const last = body.messages[body.messages.length - 1];
    const toolResult = last?.role === 'tool' || last?.role === 'function'
      ? { name: callNames[last.tool_call_id] ?? last.name, text: textOfParts(last.content) } : null;
    let toolChoice = body.tool_choice ?? 'auto';
    if (isObj(toolChoice)) toolChoice = { name: toolChoice.function?.name };
    const rf = body.response_format;
    let json = null;
    if (rf?.type === 'json_schema') json = { schema: rf.json_schema?.schema ?? null };
    else if (rf?.type === 'json_object') json = { schema: null };
    return {
      protocol: 'openai', model: body.model, stream: body.stream === true, segments, lastUserText, toolResult,
      tools, toolChoice, json, maxTokens: body.max_completion_tokens ?? body.max_tokens ?? 0,
      includeUsage: body.stream_options?.include_usage === true,
      obfuscation: body.stream_options?.include_obfuscation !== false,
    };
  },
  usage(u) {
    return {
      prompt_tokens: u.prompt, completion_tokens: u.output, total_tokens: u.prompt + u.output,
      prompt_tokens_details: { cached_tokens: u.cacheRead, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    };
  },
  finish: { stop: 'stop', length: 'length', tool: 'tool_calls' },
  complete(norm, plan) {
    const message = plan.kind === 'tool'
      ? { role: 'assistant', content: null, tool_calls: [{ id: plan.callId, type: 'function', function: { name: plan.name, arguments: JSON.stringify(plan.args) } }], refusal: null, annotations: [] }
      : { role: 'assistant', content: plan.text, refusal: null, annotations: [] };
    return {
      id: makeId('chatcmpl-', 29), object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: norm.model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: this.finish[plan.finish] }],
      usage: this.usage(plan.usage), service_tier: 'default', system_fingerprint: 'fp_fake0000',
    };
  },
  contentType: 'text/event-stream; charset=utf-8',
  frames(norm, plan) {
    const base = { id: makeId('chatcmpl-', 29), object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000),
      model: norm.model, service_tier: 'default', system_fingerprint: 'fp_fake0000' };
    const chunk = (delta, finish = null) => {
      const c = { ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
      if (norm.includeUsage) c.usage = null;
      if (norm.obfuscation) c.obfuscation = 'x'.repeat(1 + (JSON.stringify(delta).length % 7));
      return `data: ${JSON.stringify(c)}\n\n`;
    };
    const out = [];
    if (plan.kind === 'tool') {
      out.push(chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: plan.callId, type: 'function', function: { name: plan.name, arguments: '' } }], refusal: null }));
      for (const f of fragments(JSON.stringify(plan.args))) out.push(chunk({ tool_calls: [{ index: 0, function: { arguments: f } }] }));
    } else {
      out.push(chunk({ role: 'assistant', content: '', refusal: null }));
      for (const p of pieces(plan.text)) out.push(chunk({ content: p }));
    }
    out.push(chunk({}, this.finish[plan.finish]));
    if (norm.includeUsage) {
      const c = { ...base, choices: [], usage: this.usage(plan.usage) };
      if (norm.obfuscation) c.obfuscation = 'xxxx';
      out.push(`data: ${JSON.stringify(c)}\n\n`);
    }
    out.push('data: [DONE]\n\n');
    return out;
  },
  streamError() {
    return `data: ${JSON.stringify({ error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } })}\n\n`;
  },
  malformedFrame: 'data: {"id":"chatcmpl-malformed","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel\n\n',
  malformedBody: '{"id":"chatcmpl-malformed","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hel',
};

// ---------------------------------------------------------------------------------------------
// Protocol: Anthropic Messages

const anthropic = {
  name: 'anthropic',
  err(status, type, message) {
    return { status, body: { type: 'error', error: { type, message }, request_id: makeId('req_011', 21) } };
  },
  error(kind, norm) {
    switch (kind) {
      case 'rate_limit':
        return { ...this.err(429, 'rate_limit_error', 'This request would exceed the rate limit for your organization of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.'),
          headers: { 'retry-after': '1', 'anthropic-ratelimit-requests-limit': '50', 'anthropic-ratelimit-requests-remaining': '0', 'anthropic-ratelimit-requests-reset': new Date(Date.now() + 1000).toISOString().replace(/\.\d+Z$/, 'Z') } };
      case 'server': return this.err(500, 'api_error', 'Internal server error');
      case 'overloaded': return this.err(529, 'overloaded_error', 'Overloaded');
      case 'budget': return this.err(400, 'invalid_request_error', 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.');
      case 'not_found': return this.err(404, 'not_found_error', `model: ${norm?.model ?? ''}`);
      case 'auth_missing': return this.err(401, 'authentication_error', 'x-api-key header is required');
      case 'auth_invalid': return this.err(401, 'authentication_error', 'invalid x-api-key');
      case 'auth_echo': return this.err(401, 'authentication_error', `invalid x-api-key: ${norm.key} (sent as ${norm.sent})`);
      case 'bad_json': return this.err(400, 'invalid_request_error', 'There was an issue with the JSON body of your request. Please ensure your JSON is valid.');
      default: return this.err(400, 'invalid_request_error', String(kind));
    }
  },
  auth(headers) {
    if (headers['x-api-key']) return { header: 'x-api-key', scheme: null, ok: true, invalid: headers['x-api-key'].startsWith('invalid') };
    const m = /^Bearer\s+(\S.*)$/i.exec(headers.authorization ?? '');
    if (m) return { header: 'authorization', scheme: 'Bearer', ok: true, invalid: m[1].startsWith('invalid') };
    return { header: headers.authorization ? 'authorization' : null, scheme: null, ok: false };
  },
  parse(body, req) {
    if (!req.headers['anthropic-version']) return { error: 'anthropic-version: header is required' };
    if (typeof body.model !== 'string' || !body.model) return { error: 'model: Field required' };
    if (!Number.isInteger(body.max_tokens)) return { error: 'max_tokens: Field required' };
    if (!Array.isArray(body.messages) || body.messages.length === 0) return { error: 'messages: at least one message is required' };
    const segments = [];
    const tools = [];
    for (const t of body.tools ?? []) {
      const s = JSON.stringify(t);
      segments.push({ chars: s.length, key: s, cc: !!t?.cache_control });
      if (t?.name && (t.input_schema || !t.type || t.type === 'custom')) tools.push({ name: t.name, schema: t.input_schema });
    }
    if (typeof body.system === 'string') segments.push({ chars: body.system.length, key: body.system, cc: false });
    else for (const b of body.system ?? []) segments.push({ chars: (b?.text ?? '').length, key: JSON.stringify(b), cc: !!b?.cache_control });
    const useNames = {};
    let lastUserText = '';
    for (const msg of body.messages) {
      const blocks = typeof msg?.content === 'string' ? [{ type: 'text', text: msg.content }] : (msg?.content ?? []);
      for (const b of blocks) {
        let chars = 0;
        if (b?.type === 'text') chars = (b.text ?? '').length;
        else if (b?.type === 'tool_use') { chars = (b.name ?? '').length + JSON.stringify(b.input ?? {}).length; useNames[b.id] = b.name; }
        else if (b?.type === 'tool_result') chars = textOfParts(b.content).length;
        else if (b?.type === 'image' || b?.type === 'document') chars = 6000;
        else chars = JSON.stringify(b ?? '').length;
        segments.push({ chars, key: JSON.stringify([msg.role, b]), cc: !!b?.cache_control });
      }
      if (msg?.role === 'user') {
        const t = blocks.filter((b) => b?.type === 'text').map((b) => b.text).join('');
        if (t) lastUserText = t;
      }
    }
    const last = body.messages[body.messages.length - 1];
    const lastBlocks = Array.isArray(last?.content) ? last.content : [];
    const tr = last?.role === 'user' ? lastBlocks.find((b) => b?.type === 'tool_result') : null;
    const toolResult = tr ? { name: useNames[tr.tool_use_id], text: textOfParts(tr.content) } : null;
    const tc = body.tool_choice;
    let toolChoice = 'auto';
    if (tc?.type === 'any') toolChoice = 'required';
    else if (tc?.type === 'tool') toolChoice = { name: tc.name };
    else if (tc?.type === 'none') toolChoice = 'none';
    const fmt = body.output_config?.format ?? body.output_format;
    const json = fmt?.type === 'json_schema' ? { schema: fmt.schema ?? null } : null;
    return { protocol: 'anthropic', model: body.model, stream: body.stream === true, segments, lastUserText,
      toolResult, tools, toolChoice, json, maxTokens: body.max_tokens };
  },
  usage(u) {
    return {
      input_tokens: u.prompt - u.cacheRead - u.cacheCreation,
      cache_creation_input_tokens: u.cacheCreation,
      cache_read_input_tokens: u.cacheRead,
      cache_creation: { ephemeral_5m_input_tokens: u.cacheCreation, ephemeral_1h_input_tokens: 0 },
      output_tokens: u.output,
      service_tier: 'standard',
    };
  },
  finish: { stop: 'end_turn', length: 'max_tokens', tool: 'tool_use' },
  blocks(norm, plan) {
    if (plan.kind !== 'tool') return [{ type: 'text', text: plan.text }];
    const out = [];
    // Claude usually says what it is about to do before a tool call it chose freely.
    if (norm.toolChoice === 'auto' && !plan.scripted) out.push({ type: 'text', text: `I'll call the ${plan.name} tool.` });
    out.push({ type: 'tool_use', id: plan.callId, name: plan.name, input: plan.args });
    return out;
  },
  complete(norm, plan) {
    return { id: makeId('msg_01', 22), type: 'message', role: 'assistant', model: norm.model,
      content: this.blocks(norm, plan), stop_reason: this.finish[plan.finish], stop_sequence: null,
      usage: this.usage(plan.usage) };
  },
  contentType: 'text/event-stream; charset=utf-8',
  frames(norm, plan) {
    const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    const u = this.usage(plan.usage);
    const out = [ev('message_start', { message: { id: makeId('msg_01', 22), type: 'message', role: 'assistant',
      model: norm.model, content: [], stop_reason: null, stop_sequence: null, usage: { ...u, output_tokens: 1 } } })];
    this.blocks(norm, plan).forEach((b, index) => {
      if (b.type === 'text') {
        out.push(ev('content_block_start', { index, content_block: { type: 'text', text: '' } }));
        if (index === 0) out.push(ev('ping', {}));
        for (const p of pieces(b.text)) out.push(ev('content_block_delta', { index, delta: { type: 'text_delta', text: p } }));
      } else {
        out.push(ev('content_block_start', { index, content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} } }));
        if (index === 0) out.push(ev('ping', {}));
        out.push(ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '' } }));
        for (const f of fragments(JSON.stringify(b.input))) out.push(ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: f } }));
      }
      out.push(ev('content_block_stop', { index }));
    });
    out.push(ev('message_delta', { delta: { stop_reason: this.finish[plan.finish], stop_sequence: null },
      usage: { input_tokens: u.input_tokens, cache_creation_input_tokens: u.cache_creation_input_tokens,
        cache_read_input_tokens: u.cache_read_input_tokens, output_tokens: u.output_tokens } }));
    out.push(ev('message_stop', {}));
    return out;
  },
  streamError() {
    return `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' }, request_id: makeId('req_011', 21) })}\n\n`;
  },
  malformedFrame: 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel\n\n',
  malformedBody: '{"id":"msg_malformed","type":"message","role":"assistant","content":[{"type":"text","text":"Hel',
};

// ---------------------------------------------------------------------------------------------
// Protocol: Google Gemini (generativelanguage v1beta)

const GEMINI_FIELDS = new Set(['contents', 'tools', 'toolConfig', 'tool_config', 'safetySettings', 'safety_settings',
  'systemInstruction', 'system_instruction', 'generationConfig', 'generation_config', 'cachedContent', 'cached_content',
  'labels', 'model', 'serviceTier', 'service_tier', 'store']);

const gemini = {
  name: 'gemini',
  err(code, status, message, details) {
    const error = { code, message, status };
    if (details) error.details = details;
    return { status: code, body: { error } };
  },
  error(kind, norm) {
    const m = norm?.model ?? '';
    switch (kind) {
      case 'rate_limit':
        return { ...this.err(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).', [
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1s' }]), headers: { 'retry-after': '1' } };
      case 'server': return this.err(500, 'INTERNAL', 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting');
      case 'overloaded': return this.err(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.');
      case 'budget': return this.err(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.', [
        { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_paid_tier_input_token_count', quotaId: 'GenerateContentPaidTierInputTokensPerModelPerDay' }] },
        { '@type': 'type.googleapis.com/google.rpc.Help', links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }] }]);
      case 'not_found': return this.err(404, 'NOT_FOUND', `models/${m} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`);
      case 'auth_missing': return this.err(403, 'PERMISSION_DENIED', "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.");
      case 'auth_echo': return this.err(400, 'INVALID_ARGUMENT', `API key not valid: ${norm.key} (sent as ${norm.sent}). Please pass a valid API key.`);
      case 'auth_invalid': return this.err(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } }]);
      case 'bad_json': return this.err(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unexpected token.');
      default: return this.err(400, 'INVALID_ARGUMENT', String(kind));
    }
  },
  auth(headers, url) {
    if (headers['x-goog-api-key']) return { header: 'x-goog-api-key', scheme: null, ok: true, invalid: headers['x-goog-api-key'].startsWith('invalid') };
    const q = url.searchParams.get('key');
    if (q) return { header: 'query:key', scheme: null, ok: true, invalid: q.startsWith('invalid') };
    return { header: null, scheme: null, ok: false };
  },
  parse(body, req, route) {
    for (const k of Object.keys(body)) {
      if (!GEMINI_FIELDS.has(k)) return { error: `Invalid JSON payload received. Unknown name "${k}": Cannot find field.` };
    }
    if (!Array.isArray(body.contents) || body.contents.length === 0) return { error: '* GenerateContentRequest.contents: contents is not specified' };
    const segments = [];
    const sys = body.systemInstruction ?? body.system_instruction;
    if (sys) segments.push({ chars: textOfParts(sys.parts ?? []).length, key: JSON.stringify(sys) });
    const tools = [];
    for (const t of body.tools ?? []) {
      for (const f of t?.functionDeclarations ?? t?.function_declarations ?? []) {
        if (f?.name) tools.push({ name: f.name, schema: f.parametersJsonSchema ?? f.parameters });
      }
    }
    if (body.tools) segments.push({ chars: JSON.stringify(body.tools).length, key: JSON.stringify(body.tools) });
    let lastUserText = '';
    for (const c of body.contents) {
      let chars = 0;
      for (const p of c?.parts ?? []) {
        if (typeof p?.text === 'string') chars += p.text.length;
        else if (p?.functionCall) chars += JSON.stringify(p.functionCall).length;
        else if (p?.functionResponse) chars += JSON.stringify(p.functionResponse.response ?? {}).length;
        else chars += 1000;
      }
      segments.push({ chars, key: JSON.stringify(c) });
      const t = (c?.parts ?? []).filter((p) => typeof p?.text === 'string').map((p) => p.text).join('');
      if ((c?.role ?? 'user') === 'user' && t) lastUserText = t;
    }
    const last = body.contents[body.contents.length - 1];
    const fr = (last?.parts ?? []).find((p) => p?.functionResponse)?.functionResponse;
    const toolResult = fr ? { name: fr.name, text: JSON.stringify(fr.response ?? {}) } : null;
    const fcc = (body.toolConfig ?? body.tool_config)?.functionCallingConfig;
    let toolChoice = 'auto';
    if (fcc?.mode === 'NONE') toolChoice = 'none';
    else if (fcc?.mode === 'ANY') toolChoice = fcc.allowedFunctionNames?.length === 1 ? { name: fcc.allowedFunctionNames[0] } : 'required';
    const gc = body.generationConfig ?? body.generation_config ?? {};
    const schema = gc.responseJsonSchema ?? gc.response_json_schema ?? gc.responseSchema ?? gc.response_schema ?? null;
    const mime = gc.responseMimeType ?? gc.response_mime_type;
    const json = mime === 'application/json' ? { schema } : null;
    return { protocol: 'gemini', model: route.model, stream: route.method === 'streamGenerateContent',
      sse: route.alt === 'sse', segments, lastUserText, toolResult, tools, toolChoice, json,
      maxTokens: gc.maxOutputTokens ?? gc.max_output_tokens ?? 0 };
  },
  usage(u, final = true) {
    const m = { promptTokenCount: u.prompt };
    if (final) m.candidatesTokenCount = u.output;
    m.totalTokenCount = u.prompt + (final ? u.output : 0);
    if (u.cacheRead) {
      m.cachedContentTokenCount = u.cacheRead;
      m.cacheTokensDetails = [{ modality: 'TEXT', tokenCount: u.cacheRead }];
    }
    m.promptTokensDetails = [{ modality: 'TEXT', tokenCount: u.prompt }];
    return m;
  },
  finish: { stop: 'STOP', length: 'MAX_TOKENS', tool: 'STOP' },
  response(norm, plan, parts, finish, final) {
    const cand = { content: { parts, role: 'model' }, index: 0 };
    if (finish) cand.finishReason = finish;
    return { candidates: [cand], usageMetadata: this.usage(plan.usage, final), modelVersion: norm.model, responseId: plan.responseId };
  },
  complete(norm, plan) {
    const parts = plan.kind === 'tool' ? [{ functionCall: { name: plan.name, args: plan.args } }] : [{ text: plan.text }];
    return this.response(norm, plan, parts, this.finish[plan.finish], true);
  },
  contentType: 'text/event-stream',
  frames(norm, plan) {
    const chunks = [];
    if (plan.kind === 'tool') {
      chunks.push(this.response(norm, plan, [{ functionCall: { name: plan.name, args: plan.args } }], this.finish[plan.finish], true));
    } else {
      const ps = pieces(plan.text);
      ps.forEach((p, i) => {
        const last = i === ps.length - 1;
        chunks.push(this.response(norm, plan, [{ text: p }], last ? this.finish[plan.finish] : null, last));
      });
    }
    if (norm.sse) return chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`);
    // Without alt=sse the API streams one JSON array, element by element.
    return [...chunks.map((c, i) => (i === 0 ? '[' : ',\r\n') + JSON.stringify(c)), ']'];
  },
  streamError(norm) {
    const e = { error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } };
    return norm?.sse === false ? `,\r\n${JSON.stringify(e)}]` : `data: ${JSON.stringify(e)}\r\n\r\n`;
  },
  malformedFrame: 'data: {"candidates": [{"content": {"parts": [{"text": "Hel\r\n\r\n',
  malformedBody: '{"candidates": [{"content": {"parts": [{"text": "Hel',
};

// ---------------------------------------------------------------------------------------------
// Protocol: Ollama native (/api/chat, /api/embed)

const ollama = {
  name: 'ollama',
  err(status, message) { return { status, body: { error: message } }; },
  error(kind, norm) {
    const m = norm?.model ?? '';
    switch (kind) {
      case 'rate_limit': return { ...this.err(429, 'too many requests, please try again later'), headers: { 'retry-after': '1' } };
      case 'server': return this.err(500, 'llama runner process has terminated: exit status 2');
      case 'overloaded': return this.err(503, 'server busy, please try again.  maximum pending requests exceeded');
      case 'budget': return this.err(402, 'insufficient quota: usage limit reached for this account');
      case 'not_found': return this.err(404, `model "${m}" not found, try pulling it first`);
      case 'auth_missing': return this.err(401, 'unauthorized');
      case 'auth_invalid': return this.err(401, 'unauthorized');
      case 'auth_echo': return this.err(401, `unauthorized: ${norm.key} (sent as ${norm.sent})`);
      case 'bad_json': return this.err(400, 'invalid character in JSON body');
      default: return this.err(400, String(kind));
    }
  },
  // Local Ollama has no authentication; a header is only recorded.
  auth(headers) {
    if (headers.authorization) return { header: 'authorization', scheme: headers.authorization.split(/\s/)[0], ok: true };
    return { header: null, scheme: null, ok: true };
  },
  parse(body) {
    if (typeof body.model !== 'string' || !body.model) return { error: 'model is required' };
    const messages = Array.isArray(body.messages) ? body.messages : [];
    const segments = [];
    const tools = [];
    for (const t of body.tools ?? []) if (t?.function?.name) tools.push({ name: t.function.name, schema: t.function.parameters });
    if (body.tools) segments.push({ chars: JSON.stringify(body.tools).length, key: JSON.stringify(body.tools) });
    let lastUserText = '';
    let lastCallName = null;
    for (const msg of messages) {
      let chars = (msg?.content ?? '').length;
      for (const c of msg?.tool_calls ?? []) { chars += JSON.stringify(c.function ?? {}).length; lastCallName = c.function?.name; }
      segments.push({ chars, key: JSON.stringify(msg) });
      if (msg?.role === 'user') lastUserText = msg.content ?? '';
    }
    const last = messages[messages.length - 1];
    const toolResult = last?.role === 'tool' ? { name: last.tool_name ?? lastCallName, text: last.content ?? '' } : null;
    let json = null;
    if (body.format === 'json') json = { schema: null };
    else if (isObj(body.format)) json = { schema: body.format };
    return { protocol: 'ollama', model: body.model, stream: body.stream !== false, segments, lastUserText,
      toolResult, tools, toolChoice: 'auto', json, maxTokens: body.options?.num_predict > 0 ? body.options.num_predict : 0 };
  },
  finish: { stop: 'stop', length: 'length', tool: 'stop' },
  stats(plan) {
    const u = plan.usage;
    return { total_duration: 1_000_000 * (5 + u.output), load_duration: 1_000_000,
      prompt_eval_count: u.prompt, prompt_eval_duration: 10_000 * u.prompt, eval_count: u.output, eval_duration: 1_000_000 * u.output };
  },
  message(plan) {
    if (plan.kind === 'tool') return { role: 'assistant', content: '', tool_calls: [{ function: { index: 0, name: plan.name, arguments: plan.args } }] };
    return { role: 'assistant', content: plan.text };
  },
  complete(norm, plan) {
    return { model: norm.model, created_at: new Date().toISOString(), message: this.message(plan),
      done_reason: this.finish[plan.finish], done: true, ...this.stats(plan) };
  },
  contentType: 'application/x-ndjson',
  frames(norm, plan) {
    const line = (o) => `${JSON.stringify(o)}\n`;
    const at = () => new Date().toISOString();
    const out = [];
    if (plan.kind === 'tool') out.push(line({ model: norm.model, created_at: at(), message: this.message(plan), done: false }));
    else for (const p of pieces(plan.text)) out.push(line({ model: norm.model, created_at: at(), message: { role: 'assistant', content: p }, done: false }));
    out.push(line({ model: norm.model, created_at: at(), message: { role: 'assistant', content: '' },
      done_reason: this.finish[plan.finish], done: true, ...this.stats(plan) }));
    return out;
  },
  streamError() { return `${JSON.stringify({ error: 'an error was encountered while running the model: unexpected EOF' })}\n`; },
  malformedFrame: '{"model":"malformed","message":{"role":"assistant","content":"Hel\n',
  malformedBody: '{"model":"malformed","message":{"role":"assistant","content":"Hel',
};

// ---------------------------------------------------------------------------------------------
// Routing

const GEN_ROUTES = new Set(['openai', 'anthropic', 'gemini', 'ollama']);
const LIST_ROUTES = new Set(['openai-models', 'anthropic-models', 'gemini-models', 'ollama-tags', 'ollama-version']);

function route(method, url, headers) {
  const p = url.pathname.replace(/\/+$/, '') || '/';
  const anthropicHeaders = !!(headers['anthropic-version'] || headers['x-api-key']);
  if (method === 'POST' && p === '/v1/chat/completions') return { name: 'openai', proto: openai };
  if (method === 'POST' && p === '/v1/embeddings') return { name: 'openai-embeddings', proto: openai };
  if (method === 'POST' && p === '/v1/messages') return { name: 'anthropic', proto: anthropic };
  if (method === 'GET' && p === '/v1/models') return anthropicHeaders ? { name: 'anthropic-models', proto: anthropic } : { name: 'openai-models', proto: openai };
  let m = /^\/(v1beta|v1)\/models\/([^/:]+):(generateContent|streamGenerateContent|embedContent|batchEmbedContents)$/.exec(p);
  if (m && method === 'POST') {
    const embed = m[3] === 'embedContent' || m[3] === 'batchEmbedContents';
    return { name: embed ? 'gemini-embed' : 'gemini', proto: gemini, model: decodeURIComponent(m[2]), method: m[3], alt: url.searchParams.get('alt') };
  }
  if (method === 'GET' && /^\/(v1beta|v1)\/models$/.test(p)) return { name: 'gemini-models', proto: gemini };
  if (method === 'POST' && p === '/api/chat') return { name: 'ollama', proto: ollama };
  if (method === 'POST' && (p === '/api/embed' || p === '/api/embeddings')) return { name: 'ollama-embed', proto: ollama, legacy: p === '/api/embeddings' };
  if (method === 'GET' && p === '/api/tags') return { name: 'ollama-tags', proto: ollama };
  if (method === 'GET' && p === '/api/version') return { name: 'ollama-version', proto: ollama };
  if (p.startsWith('/api/')) return { name: 'unknown', proto: ollama };
  if (p.startsWith('/v1beta/')) return { name: 'unknown', proto: gemini };
  return { name: 'unknown', proto: openai };
}

const SWITCHES = new Set(['fail-429', 'fail-500', 'overloaded', 'budget-refusal', 'not-found', 'malformed',
  'cut-stream', 'stream-error', 'slow-first-byte', 'tool-call', 'echo-key']);

// The key a request carried and how it was sent, for echo-key.
function sentKey(headers, url) {
  const a = headers.authorization;
  if (a) return { key: a.replace(/^\S+\s+/, ''), sent: `Authorization: ${a}` };
  for (const h of ['x-api-key', 'x-goog-api-key']) if (headers[h]) return { key: headers[h], sent: `${h}: ${headers[h]}` };
  const q = url.searchParams.get('key');
  return q ? { key: q, sent: `${url.pathname}?key=${q}` } : { key: '', sent: 'nothing' };
}

function takeScripted(r, model) {
  const i = state.script.findIndex((e) => {
    const routeOk = e.route ? e.route === r.name : GEN_ROUTES.has(r.name);
    return routeOk && (!e.model || e.model === model);
  });
  return i < 0 ? null : state.script.splice(i, 1)[0];
}

// ---------------------------------------------------------------------------------------------
// Writing responses

function baseHeaders(proto) {
  const h = {};
  if (proto === openai) { h['x-request-id'] = makeId('req_', 32); h['openai-processing-ms'] = '12'; }
  if (proto === anthropic) h['request-id'] = makeId('req_011', 21);
  return h;
}

function sendJson(res, status, body, headers = {}) {
  if (res.destroyed) return;
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers });
  res.end(data);
}

function sendError(res, proto, kind, norm, extra = {}) {
  const e = proto.error(kind, norm);
  sendJson(res, e.status, e.body, { ...baseHeaders(proto), ...(e.headers ?? {}), ...extra });
}

// Writes frames, optionally pausing chunkMs (an entry's chunk_ms, else --chunk-ms) between them;
// resolves false if the client left.
async function writeFrames(res, frames, chunkMs = opt.chunkMs) {
  for (const f of frames) {
    if (res.destroyed) return false;
    const ok = res.write(f);
    if (chunkMs) await sleep(chunkMs);
    else if (!ok) await new Promise((r) => res.once('drain', r));
  }
  return !res.destroyed;
}

// Closes the connection with the body unfinished, the way a dropped upstream looks on the wire.
function cut(res, partial) {
  res.write(partial, () => setTimeout(() => res.socket?.destroy(), 10));
}

async function respondChat(res, r, norm, behavior, entry) {
  const proto = r.proto;
  const plan = finishPlan(norm, planReply(norm, behavior, entry), entry);
  plan.callId = proto === anthropic ? makeId('toolu_01', 22) : makeId('call_', 24);
  plan.responseId = makeId('', 22);
  const headers = baseHeaders(proto);
  if (!norm.stream) {
    if (behavior === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json', ...headers });
      return res.end(proto.malformedBody);
    }
    const body = JSON.stringify(proto.complete(norm, plan));
    if (behavior === 'cut-stream') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
      return cut(res, body.slice(0, Math.floor(body.length / 2)));
    }
    return sendJson(res, 200, JSON.parse(body), headers);
  }
  const frames = proto.frames(norm, plan);
  const contentType = norm.protocol === 'gemini' && !norm.sse ? 'application/json; charset=UTF-8' : proto.contentType;
  res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-cache', ...headers });
  const half = Math.max(2, Math.floor(frames.length / 2));
  if (behavior === 'cut-stream') {
    if (!(await writeFrames(res, frames.slice(0, Math.min(half, frames.length - 1))))) return;
    return cut(res, '');
  }
  if (behavior === 'stream-error') {
    if (!(await writeFrames(res, frames.slice(0, Math.min(half, frames.length - 1))))) return;
    return res.end(proto.streamError(norm));
  }
  if (behavior === 'malformed') {
    if (!(await writeFrames(res, frames.slice(0, 1)))) return;
    return res.end(proto.malformedFrame);
  }
  if (await writeFrames(res, frames, entry?.chunk_ms ?? opt.chunkMs)) res.end();
}

// Embedding answers. Vectors are embedVector(text, dims) (64 dimensions unless asked), tokens
// ceil(chars / 4) per input (at least 1) unless a script entry gives usage.input. Gemini's
// batchEmbedContents reports no usage, as the real API. behavior cut-stream sends half the body
// and closes the connection.
function respondEmbeddings(res, r, body, entry, behavior) {
  const proto = r.proto;
  const send = (status, payload, headers = {}) => {
    if (behavior !== 'cut-stream') return sendJson(res, status, payload, headers);
    const data = JSON.stringify(payload);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers });
    return cut(res, data.slice(0, Math.floor(data.length / 2)));
  };
  const usageIn = Number.isFinite(entry?.usage?.input) ? entry.usage.input : null;
  if (r.name === 'openai-embeddings') {
    if (typeof body.model !== 'string' || !body.model) return sendError(res, proto, "you must provide a model parameter");
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    if (body.input === undefined || inputs.length === 0) return sendError(res, proto, "'input' is a required property");
    if (inputs.some((t) => t === '')) return sendError(res, proto, "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.");
    if (body.dimensions !== undefined && !(Number.isInteger(body.dimensions) && body.dimensions > 0)) return sendError(res, proto, 'Invalid value for dimensions: must be a positive integer.');
    const dims = body.dimensions ?? 64;
    let tokens = 0;
    const data = inputs.map((inp, index) => {
      const text = typeof inp === 'string' ? inp : JSON.stringify(inp);
      tokens += Math.max(1, tokensOf(text.length));
      const vec = embedVector(text, dims);
      const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vec).buffer).toString('base64') : vec;
      return { object: 'embedding', index, embedding };
    });
    if (usageIn !== null) tokens = usageIn;
    return send(200, { object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } }, baseHeaders(proto));
  }
  if (r.name === 'gemini-embed') {
    const batch = r.method === 'batchEmbedContents';
    if (batch && (!Array.isArray(body.requests) || body.requests.length === 0)) return sendError(res, proto, '* BatchEmbedContentsRequest.requests: requests is not specified');
    const reqs = batch ? body.requests : [body];
    for (const [i, q] of reqs.entries()) {
      // The real API insists that every request of a batch names the model of the URL.
      if (batch && q?.model !== `models/${r.model}`) return sendError(res, proto, `* BatchEmbedContentsRequest.requests[${i}].model: model must be models/${r.model}`);
      if (!Array.isArray(q?.content?.parts) || !textOfParts(q.content.parts)) return sendError(res, proto, `* EmbedContentRequest.content: contents is not specified`);
    }
    const out = reqs.map((q) => {
      const dims = Number.isInteger(q.outputDimensionality) && q.outputDimensionality > 0 ? q.outputDimensionality : 64;
      return { values: embedVector(textOfParts(q.content.parts), dims) };
    });
    return send(200, batch ? { embeddings: out } : { embedding: out[0] });
  }
  // Ollama
  if (typeof body.model !== 'string' || !body.model) return sendError(res, proto, 'model is required');
  if (r.legacy) {
    return send(200, { embedding: embedVector(String(body.prompt ?? ''), 64) });
  }
  const inputs = Array.isArray(body.input) ? body.input : [body.input ?? ''];
  const dims = Number.isInteger(body.dimensions) && body.dimensions > 0 ? body.dimensions : 64;
  const count = usageIn ?? inputs.reduce((a, t) => a + Math.max(1, tokensOf(String(t).length)), 0);
  return send(200, { model: body.model, embeddings: inputs.map((t) => embedVector(String(t), dims)),
    total_duration: 14_000_000, load_duration: 1_000_000, prompt_eval_count: count });
}

const MODEL_IDS = ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small', 'claude-sonnet-4-6', 'claude-haiku-4-5', 'gemini-2.5-flash', 'llama3.2'];

function respondModels(res, r) {
  const created = 1700000000;
  switch (r.name) {
    case 'openai-models':
      return sendJson(res, 200, { object: 'list', data: MODEL_IDS.map((id) => ({ id, object: 'model', created, owned_by: 'system' })) }, baseHeaders(openai));
    case 'anthropic-models': {
      const data = MODEL_IDS.filter((id) => id.startsWith('claude')).map((id) => ({ type: 'model', id, display_name: id, created_at: '2025-09-29T00:00:00Z' }));
      return sendJson(res, 200, { data, has_more: false, first_id: data[0].id, last_id: data[data.length - 1].id }, baseHeaders(anthropic));
    }
    case 'gemini-models':
      return sendJson(res, 200, { models: MODEL_IDS.filter((id) => id.startsWith('gemini')).map((id) => ({ name: `models/${id}`, version: '001', displayName: id,
        inputTokenLimit: 1048576, outputTokenLimit: 65536, supportedGenerationMethods: ['generateContent', 'countTokens'] })) });
    case 'ollama-tags':
      return sendJson(res, 200, { models: [{ name: 'llama3.2:latest', model: 'llama3.2:latest', modified_at: '2025-01-01T00:00:00Z', size: 2019393189,
        digest: 'a80c4f17acd5', details: { format: 'gguf', family: 'llama', parameter_size: '3.2B', quantization_level: 'Q4_K_M' } }] });
    case 'ollama-version':
      return sendJson(res, 200, { version: '0.12.0' });
  }
}

// ---------------------------------------------------------------------------------------------
// Recording (what Baton sent; never key values)

const SECRET_HEADERS = new Set(['authorization', 'x-api-key', 'x-goog-api-key', 'proxy-authorization', 'cookie', 'api-key']);

function record(req, url, r, auth, body, raw) {
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) if (!SECRET_HEADERS.has(k)) headers[k] = v;
  const query = {};
  for (const [k, v] of url.searchParams) if (k !== 'key') query[k] = v;
  const model = r.model ?? (isObj(body) ? body.model : undefined) ?? null;
  const entry = { seq: ++state.seq, time: new Date().toISOString(), method: req.method, path: url.pathname, query,
    headers, auth: { header: auth?.header ?? null, scheme: auth?.scheme ?? null }, route: r.name, model,
    stream: r.name === 'gemini' ? r.method === 'streamGenerateContent'
      : r.name === 'ollama' ? body?.stream !== false : GEN_ROUTES.has(r.name) ? body?.stream === true : null,
    body: body !== undefined ? body : (raw.length ? raw.toString('utf8') : null) };
  state.requests.push(entry);
  if (state.requests.length > opt.recordMax) state.requests.splice(0, state.requests.length - opt.recordMax);
}

// ---------------------------------------------------------------------------------------------
// Control endpoints

function control(req, res, url, raw) {
  const p = url.pathname;
  if (p === '/_fake/health') return sendJson(res, 200, { ok: true });
  if (p === '/_fake/requests' && req.method === 'GET') {
    const since = Number(url.searchParams.get('since') ?? 0);
    return sendJson(res, 200, since ? state.requests.filter((e) => e.seq > since) : state.requests);
  }
  if (p === '/_fake/script' && req.method === 'GET') return sendJson(res, 200, state.script);
  if (p === '/_fake/script' && req.method === 'POST') {
    let list;
    try { list = JSON.parse(raw.toString('utf8') || '[]'); } catch { return sendJson(res, 400, { error: 'script must be JSON' }); }
    if (isObj(list) && Array.isArray(list.responses)) list = list.responses;
    if (!Array.isArray(list)) list = [list];
    if (!list.every(isObj)) return sendJson(res, 400, { error: 'every script entry must be an object' });
    const bad = list.find((e) => e.behavior && !SWITCHES.has(e.behavior) && !/^fail-once-/.test(e.behavior));
    if (bad) return sendJson(res, 400, { error: `unknown behavior ${bad.behavior}` });
    state.script.push(...list);
    return sendJson(res, 200, { queued: state.script.length });
  }
  if (p === '/_fake/reset' && req.method === 'POST') {
    state.script = []; state.requests = []; state.seq = 0; state.failedOnce.clear(); state.promptCache.clear();
    return sendJson(res, 200, { ok: true });
  }
  return sendJson(res, 404, { error: `no control endpoint ${req.method} ${p}` });
}

// ---------------------------------------------------------------------------------------------
// The request handler

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://fake');
  const raw = await readBody(req);
  if (url.pathname.startsWith('/_fake/')) return control(req, res, url, raw);

  const r = route(req.method, url, req.headers);
  const proto = r.proto;
  let body;
  let badJson = false;
  if (req.method === 'POST') {
    try { body = JSON.parse(raw.toString('utf8')); } catch { badJson = true; }
    if (!badJson && !isObj(body)) badJson = true;
  }
  const auth = proto.auth(req.headers, url);
  record(req, url, r, auth, badJson ? undefined : body, raw);

  await sleep(opt.latencyMs);
  if (res.destroyed) return;
  if (r.name === 'unknown') {
    if (proto === ollama) { res.writeHead(404, { 'content-type': 'text/plain' }); return res.end('404 page not found'); }
    if (proto === gemini) return sendJson(res, 404, { error: { code: 404, message: `Method not found: ${req.method} ${url.pathname}`, status: 'NOT_FOUND' } });
    const e = openai.err(404, `Invalid URL (${req.method} ${url.pathname})`, 'invalid_request_error');
    return sendJson(res, e.status, e.body, baseHeaders(openai));
  }
  if (opt.auth && !auth.ok) return sendError(res, proto, 'auth_missing');
  if (opt.auth && auth.invalid) return sendError(res, proto, 'auth_invalid');
  if (badJson) return sendError(res, proto, 'bad_json');

  const model = String(r.model ?? body?.model ?? '');
  const entry = takeScripted(r, model);
  let behavior = entry?.behavior ?? (SWITCHES.has(model) || model.startsWith('fail-once-') ? model : null);
  await sleep((entry?.delay_ms ?? 0) + (behavior === 'slow-first-byte' ? opt.slowMs : 0));
  if (res.destroyed) return;

  // A scripted raw response is served verbatim.
  if (entry && ('status' in entry || 'body' in entry)) {
    const b = entry.body === undefined ? '' : typeof entry.body === 'string' ? entry.body : JSON.stringify(entry.body);
    const ct = typeof entry.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
    res.writeHead(entry.status ?? 200, { 'content-type': ct, ...(entry.headers ?? {}) });
    return res.end(b);
  }

  if (LIST_ROUTES.has(r.name)) return respondModels(res, r);
  if (behavior === 'echo-key') return sendError(res, proto, 'auth_echo', sentKey(req.headers, url));

  if (behavior?.startsWith('fail-once-')) {
    if (state.failedOnce.has(behavior)) behavior = null;
    else { state.failedOnce.add(behavior); behavior = 'fail-500'; }
  }
  const failure = { 'fail-429': 'rate_limit', 'fail-500': 'server', overloaded: 'overloaded', 'budget-refusal': 'budget', 'not-found': 'not_found' }[behavior];

  if (r.name.endsWith('-embed') || r.name === 'openai-embeddings') {
    if (failure) return sendError(res, proto, failure, { model });
    if (behavior === 'malformed') { res.writeHead(200, { 'content-type': 'application/json' }); return res.end(proto.malformedBody); }
    return respondEmbeddings(res, r, body, entry, behavior);
  }

  const norm = proto.parse(body, req, r);
  if (norm.error) return sendError(res, proto, norm.error, null);
  if (failure) return sendError(res, proto, failure, norm);
  return respondChat(res, r, norm, behavior, entry);
}

// ---------------------------------------------------------------------------------------------
// Server lifetime

const server = http.createServer({ noDelay: true, keepAlive: true }, (req, res) => {
  handle(req, res).catch((e) => {
    process.stderr.write(`fake_server: ${e?.stack ?? e}\n`);
    if (!res.headersSent) sendJson(res, 500, { error: 'fake server bug' });
    else res.destroy();
  });
});
// Built for the 10,000-concurrent-calls benchmark: no connection cap, idle keep-alive sockets
// kept long enough for a client pool to reuse them, and a deep accept backlog.
server.maxConnections = Infinity;
server.maxRequestsPerSocket = 0;
server.keepAliveTimeout = 30_000;
server.headersTimeout = 35_000;
server.requestTimeout = 120_000;
server.on('clientError', (err, socket) => { if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'); else socket.destroy(); });

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  server.close();
  server.closeAllConnections?.();
  process.exit(code);
}
process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
process.on('SIGHUP', () => stop(0));
if (opt.maxSeconds > 0) setTimeout(() => stop(0), opt.maxSeconds * 1000);

server.listen({ host: opt.host, port: opt.port, backlog: 65535 }, () => {
  process.stdout.write(`{"port": ${server.address().port}}\n`);
});
server.on('error', (e) => { process.stderr.write(`fake_server: ${e.message}\n`); process.exit(1); });
