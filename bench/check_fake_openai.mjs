#!/usr/bin/env node
// Checks bench/fake_openai.c against the official openai npm SDK before the router benchmark
// trusts it: a streamed completion read by the SDK (text, finish_reason, usage chunk), the 404
// error shape, concurrent calls, and, on raw sockets, what the SDK does not exercise: pipelined
// and byte-by-byte requests answered in order on one kept-alive connection, the latency, and
// malformed input closing only its own connection. Prints one line per check, exits non-zero on
// any failure.
// Usage: node bench/check_fake_openai.mjs [path/to/fake_openai]   (default: build/fake_openai)

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import path from 'node:path';
import assert from 'node:assert/strict';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
// The SDK is installed for the tests' fakes; import it from there by path.
const { default: OpenAI } = await import(path.join(root, 'tests/fakes/node_modules/openai/index.mjs'));
const { checks } = await import(path.join(root, 'tests/fakes/checks.mjs'));

const LATENCY_MS = 200;
const binary = path.resolve(process.argv[2] ?? path.join(root, 'build/fake_openai'));

const child = spawn(binary, ['--port', '0', '--latency-ms', String(LATENCY_MS), '--max-seconds', '60'],
  { stdio: ['ignore', 'pipe', 'ignore'] });
const first = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('fake_openai did not print its port within 10 s')), 10_000);
  child.once('error', (e) => { clearTimeout(timer); reject(e); });
  child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`fake_openai exited early (${code})`)); });
  createInterface({ input: child.stdout }).once('line', (l) => { clearTimeout(timer); resolve(l); });
});
const { port } = JSON.parse(first);
assert.ok(Number.isInteger(port) && port > 0, `bad first line ${first}`);
process.on('exit', () => child.kill('SIGTERM'));
const { check, finish } = checks({ watchdogMs: 30_000 });

const oa = new OpenAI({ apiKey: 'sk-bench', baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0, timeout: 10_000 });
const TEXT = 'Hello from the native fake.';

async function streamOnce() {
  const s = await oa.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }],
    stream: true, stream_options: { include_usage: true } });
  let text = '';
  let deltas = 0;
  let finish = null;
  let usage = null;
  for await (const ch of s) {
    assert.equal(ch.object, 'chat.completion.chunk');
    if (ch.choices.length) {
      if (ch.choices[0].delta.content) { text += ch.choices[0].delta.content; deltas++; }
      finish = ch.choices[0].finish_reason ?? finish;
      assert.equal(ch.usage, null);
    } else usage = ch.usage;
  }
  return { text, deltas, finish, usage };
}

await check('SDK reads a streamed completion (deltas, finish_reason, usage chunk, [DONE])', async () => {
  const t0 = Date.now();
  const r = await streamOnce();
  assert.ok(Date.now() - t0 >= LATENCY_MS - 5, `answered after ${Date.now() - t0} ms, latency is ${LATENCY_MS}`);
  assert.equal(r.text, TEXT);
  assert.ok(r.deltas > 1, 'expected several deltas');
  assert.equal(r.finish, 'stop');
  assert.deepEqual([r.usage?.prompt_tokens, r.usage?.completion_tokens, r.usage?.total_tokens], [12, 5, 17]);
});

await check('SDK: 200 concurrent streamed completions all complete', async () => {
  const all = await Promise.all(Array.from({ length: 200 }, streamOnce));
  for (const r of all) assert.equal(r.text, TEXT);
});

await check('SDK: another path is a 404 NotFoundError in OpenAI\'s error shape', async () => {
  let err;
  try { await oa.models.list(); } catch (e) { err = e; }
  assert.ok(err instanceof OpenAI.NotFoundError, `expected NotFoundError, got ${err}`);
  assert.equal(err.status, 404);
  assert.equal(err.error?.type, 'invalid_request_error');
  assert.match(err.message, /Invalid URL/);
});

// Raw sockets: send bytes, collect everything until the server closes or `until` is satisfied.
function exchange(writes, { until, gapMs = 0 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    let closed = false;
    const done = () => resolve({ got, closed });
    sock.setEncoding('latin1');
    sock.on('data', (d) => { got += d; if (until?.(got)) { sock.destroy(); done(); } });
    sock.on('close', () => { closed = true; done(); });
    // Closing with our bytes unread makes the kernel reset the connection: that is a close too.
    sock.on('error', (e) => { if (e.code !== 'ECONNRESET') reject(e); });
    sock.setNoDelay(true);
    sock.on('connect', async () => {
      for (const w of writes) {
        if (sock.destroyed) break;
        sock.write(w);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

const body = JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }] });
const post = (id) => `POST /v1/chat/completions?n=${id} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n`
  + `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const answers = (s) => (s.match(/HTTP\/1\.1 \d{3}/g) ?? []);
const dones = (s) => (s.match(/data: \[DONE\]\n\n\r\n0\r\n\r\n/g) ?? []).length;

await check('pipelined requests (one write) answered in order on one connection, chunked, kept alive', async () => {
  const pipelined = post(1) + 'GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n' + post(2);
  const r = await exchange([pipelined], { until: (s) => dones(s) === 2 });
  assert.deepEqual(answers(r.got), ['HTTP/1.1 200', 'HTTP/1.1 404', 'HTTP/1.1 200']);
  assert.match(r.got, /Transfer-Encoding: chunked/);
  assert.match(r.got, /Content-Type: text\/event-stream/);
  assert.ok(r.got.indexOf('404') > r.got.indexOf('[DONE]'), 'the 404 came before the first answer ended');
});

await check('a request split into 1-byte writes is answered; Connection: close closes after it', async () => {
  const req = post(3).replace('Host: x\r\n', 'Host: x\r\nConnection: close\r\n');
  const r = await exchange(req.split('').slice(0, 120).concat(req.slice(120)), { gapMs: 2 });
  assert.deepEqual(answers(r.got), ['HTTP/1.1 200']);
  assert.equal(dones(r.got), 1);
  assert.ok(r.closed, 'connection stayed open');
});

for (const [name, bytes] of [
  ['garbage', 'hello\r\n\r\n'],
  ['bad version', 'GET / HTTP/2.0\r\n\r\n'],
  ['bad Content-Length', 'POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 1x\r\n\r\n'],
  ['chunked request body', 'POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['obs-fold header', 'GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n'],
  ['NUL in a header', 'GET / HTTP/1.1\r\nA: b\0c\r\n\r\n'],
  ['oversized head', 'GET / HTTP/1.1\r\n' + 'X: ' + 'a'.repeat(70_000) + '\r\n\r\n'],
]) {
  await check(`malformed input (${name}) closes the connection without an answer`, async () => {
    const r = await exchange([bytes]);
    assert.ok(r.closed);
    assert.deepEqual(answers(r.got), []);
  });
}

await check('the server still answers after all of that', async () => {
  assert.equal((await streamOnce()).text, TEXT);
});

finish();
