#!/usr/bin/env bash
# http_fetch sends what it accepts: method (GET, HEAD, POST, PUT, PATCH, DELETE), headers and a
# body, to a recording HTTP server on a free loopback port. Writes go only to hosts whose
# tools.http_fetch.allow_hosts entry grants the method; a write to a host allowed only to be
# read fails the task with a clear error and sends nothing. Unknown methods and args are
# validation errors; a bad allow_hosts entry is a configuration error.
source "$(dirname "$0")/lib.sh" "$@"
FIX=tests/cli/fixtures/http_methods.yaml

# The recording server: answers 200 "ok METHOD" (a HEAD gets no body) and keeps every request;
# GET /_requests returns them. It stops by itself after 120 s.
cat > "$WORK/rec.mjs" <<'JS'
import http from 'node:http';
const seen = [];
const srv = http.createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', c => body += c);
  req.on('end', () => {
    if (req.url === '/_requests') { res.end(JSON.stringify(seen)); return; }
    seen.push({method: req.method, url: req.url, headers: req.headers, body});
    res.writeHead(200, {'Content-Type': 'text/plain'});
    res.end(`ok ${req.method}`);
  });
});
srv.listen(0, '127.0.0.1', () => console.log(srv.address().port));
setTimeout(() => process.exit(0), 120000).unref();
JS
node "$WORK/rec.mjs" > "$WORK/rec.port" &
rec=$!
trap 'kill $rec 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do [ -s "$WORK/rec.port" ] && break; sleep 0.05; done
PORT=$(cat "$WORK/rec.port")
BASE="http://127.0.0.1:$PORT"
recorded() { curl -s "$BASE/_requests" > "$WORK/req.json"; }

# Writes granted: POST and PUT (an IP entry, so a loopback address is fine).
cat > "$WORK/write.yaml" <<YAML
tools:
  http_fetch:
    allow_hosts: [{host: "127.0.0.1:$PORT", methods: [POST, PUT]}]
YAML
expect_exit 0 "$BATON" validate "$FIX"
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/write.yaml" --input base="$BASE" --json --data-dir "$WORK/d1"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "run with writes granted"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "post_text").outputs.status + " " + j.tasks.find(t => t.id == "post_text").outputs.body')" "200 ok POST" "POST answered"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "put_json").outputs.body')" "ok PUT" "PUT answered"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "head").outputs.status + "|" + j.tasks.find(t => t.id == "head").outputs.body')" "200|" "HEAD answered without a body"
recorded
expect_eq "$(json_get "$WORK/req.json" 'j.map(r => r.method + " " + r.url).join()')" \
  "POST /hooks/deploy,PUT /items/7,HEAD /items/7,GET /items/7" "methods and paths received"
expect_eq "$(json_get "$WORK/req.json" 'j[0].body')" '{"event": "deploy"}' "POST body received as written"
expect_eq "$(json_get "$WORK/req.json" 'j[0].headers["x-token"] + " " + j[0].headers["content-type"]')" "abc123 application/json" "POST headers received"
expect_eq "$(json_get "$WORK/req.json" 'j[0].headers["user-agent"]')" "baton-http-fetch" "default header kept"
expect_eq "$(json_get "$WORK/req.json" 'JSON.stringify(JSON.parse(j[1].body))')" '{"name":"widget","status":200}' "an object body is sent as JSON"
expect_eq "$(json_get "$WORK/req.json" 'j[1].headers["content-type"]')" "application/json" "JSON body's content type"
expect_eq "$(json_get "$WORK/req.json" 'j[3].body')" "" "GET has no body"

# The host is allowed to be read only: the POST fails the task with a clear error, nothing is
# sent (never a GET in its place), and the run fails.
recorded
before=$(json_get "$WORK/req.json" 'j.length')
cat > "$WORK/read.yaml" <<YAML
tools:
  http_fetch:
    allow_hosts: ["127.0.0.1:$PORT"]
YAML
expect_exit 1 "$BATON" run "$FIX" --config "$WORK/read.yaml" --input base="$BASE" --json --data-dir "$WORK/d2"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "post_text").status')" failed "POST without write permission"
err=$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "post_text").error')
expect_eq "$err" "http_fetch: refused: POST to host '127.0.0.1' is not allowed: tools.http_fetch.allow_hosts lets it be read (GET, HEAD) only; grant writes with an entry {host: 127.0.0.1, methods: [POST]}" "refusal message"
recorded
expect_eq "$(json_get "$WORK/req.json" 'j.length')" "$before" "nothing sent for a refused write"

# PUT is not granted where only POST is.
cat > "$WORK/post.yaml" <<YAML
tools:
  http_fetch:
    allow_hosts: [{host: "127.0.0.1:$PORT", methods: [POST]}]
YAML
expect_exit 1 "$BATON" run "$FIX" --config "$WORK/post.yaml" --input base="$BASE" --json --data-dir "$WORK/d3"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "post_text").status + " " + j.tasks.find(t => t.id == "put_json").status')" "completed failed" "PUT needs its own grant"

# Validation: an unknown method (with a hint) and an unknown args key are located errors.
cat > "$WORK/bad.yaml" <<'YAML'
name: Bad fetch
tasks:
  - id: a
    type: tool
    tool: http_fetch
    args: {url: "https://example.com", method: PSOT, header: {X: y}}
YAML
expect_exit 1 "$BATON" validate "$WORK/bad.yaml"
expect_grep "bad.yaml:6:48: error: unknown HTTP method 'PSOT' in http_fetch task 'a'" "$WORK/err"
expect_grep "did you mean 'POST'?" "$WORK/err"
expect_grep "bad.yaml:6:54: error: unknown key 'header' in the args of http_fetch task 'a'" "$WORK/err"
expect_grep "did you mean 'headers'?" "$WORK/err"

# Configuration: an entry must name a host and known methods.
cat > "$WORK/badcfg.yaml" <<YAML
tools:
  http_fetch:
    allow_hosts: [{host: "127.0.0.1:$PORT", methods: [SEND]}]
YAML
expect_exit 2 "$BATON" run "$FIX" --config "$WORK/badcfg.yaml" --input base="$BASE" --data-dir "$WORK/d4"
expect_grep "badcfg.yaml:3:[0-9]*: error: tools.http_fetch.allow_hosts\[0\].methods\[0\]: 'SEND' is not one of: GET, HEAD, POST, PUT, PATCH, DELETE" "$WORK/err"
finish
