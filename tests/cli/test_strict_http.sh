#!/usr/bin/env bash
# Strict HTTP (docs/api.md, "HTTP behaviour"), with raw sockets: request heads a proxy in front
# could read another way (two Content-Length headers, one with Transfer-Encoding, one that is
# not plain digits, no Host, an HTTP version other than 1.1 and 1.0) are a 400 and the
# connection closes, and the server still answers a well-formed request after each; what
# libwebsockets does itself with bare LF line ends; duplicate JSON keys and numbers out of range
# are a 400, never clamped.
source "$(dirname "$0")/lib.sh" "$@"

# raw REQUEST: what the server answers to REQUEST (\r\n as in C) on one connection, in
# $WORK/raw; "closed" or "open" (still open 2 s after the answer) in $WORK/closed
raw() {
  node -e '
    const net = require("net");
    const [port, req] = [Number(process.argv[1]), process.argv[2].replace(/\\r/g, "\r").replace(/\\n/g, "\n")];
    const fs = require("fs");
    const chunks = [];
    let timer = null;
    const done = (how) => { fs.writeFileSync(process.argv[3], how); process.stdout.write(Buffer.concat(chunks)); process.exit(0); };
    const s = net.connect(port, "127.0.0.1", () => s.write(req));
    s.on("data", (d) => { chunks.push(d); clearTimeout(timer); timer = setTimeout(() => { s.destroy(); done("open"); }, 2000); });
    s.on("error", () => {});
    s.on("close", () => done("closed"));
    setTimeout(() => { s.destroy(); done("open"); }, 10000);
  ' "${API##*:}" "$1" "$WORK/closed" > "$WORK/raw"
}
status_line() { head -n1 "$WORK/raw" | tr -d '\r'; }
raw_body() { tr -d '\r' < "$WORK/raw" | sed '1,/^$/d'; }
# still_serves: a well-formed request on the same server is answered 200
still_serves() {
  raw 'GET /api/v1/runs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
  expect_eq "$(status_line)" "HTTP/1.1 200 OK" "a well-formed request after: $1"
}
# refused NAME REQUEST MESSAGE: REQUEST is a 400 saying MESSAGE, and the connection closes
refused() {
  raw "$2"
  # (libwebsockets writes "HTTP/1.0" in the status line to a request of another version)
  expect_eq "$(status_line | cut -d' ' -f2-)" "400 Bad Request" "$1"
  expect_eq "$(raw_body | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).error.message)')" "$3" "$1: message"
  expect_eq "$(cat "$WORK/closed")" closed "$1: the connection closes"
  still_serves "$1"
}

serve
BODY='{"workflow": "sdlc", "inputs": {"project_brief": "A todo app"}}'
still_serves "the start"

# ---- request heads --------------------------------------------------------------------------
refused "two Content-Length headers" \
  'POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}' \
  "a request carries one Content-Length header, not several"
refused "two different Content-Length headers" \
  'POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n{}GET /' \
  "a request carries one Content-Length header, not several"
refused "Content-Length with Transfer-Encoding" \
  'POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}' \
  "a body is framed by Content-Length or Transfer-Encoding, not both"
refused "Content-Length +2" \
  'POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\n{}' \
  "Content-Length must be plain digits"
refused "Content-Length 1 0" \
  'POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 1 0\r\n\r\n{}' \
  "Content-Length must be plain digits"
refused "Content-Length -1" \
  'POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n{}' \
  "Content-Length must be plain digits"
refused "no Host" 'GET /api/v1/runs HTTP/1.1\r\n\r\n' "an HTTP/1.1 request needs a Host header"

# White space around the value is no part of it: still a length.
raw 'POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length:  2 \r\n\r\n{}'
expect_eq "$(raw_body | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).error.message)')" \
  "a run needs template (a shipped template's name), workflow_id (a stored workflow) or workflow (a workflow's text, YAML or JSON, or a workflow object)" \
  "Content-Length with spaces around it is read"

# Versions: HTTP/1.1 and HTTP/1.0 only (libwebsockets would answer any other as HTTP/1.0)
for v in HTTP/1.2 HTTP/2.0 HTTP/9 FOO 'HTTP/1.1 x'; do
  refused "version $v" "GET /api/v1/runs $v\\r\\nHost: x\\r\\n\\r\\n" "the HTTP version must be HTTP/1.1 or HTTP/1.0"
done
refused "no version" 'GET /api/v1/runs\r\nHost: x\r\n\r\n' "the HTTP version must be HTTP/1.1 or HTTP/1.0"
raw 'GET /api/v1/runs HTTP/1.0\r\n\r\n'
expect_eq "$(status_line)" "HTTP/1.0 200 OK" "HTTP/1.0 needs no Host"
# libwebsockets' own handling, recorded: bare LF line ends are read as CRLF ones (the server
# never sees the bytes; the connection stays open, keep-alive).
raw 'GET /api/v1/runs HTTP/1.1\nHost: x\n\n'
expect_eq "$(status_line) $(cat "$WORK/closed")" "HTTP/1.1 200 OK open" "bare LF line ends"
still_serves "the recorded shapes"

# ---- JSON bodies ----------------------------------------------------------------------------
get POST /api/v1/runs -d '{"workflow": "sdlc", "workflow": "other", "inputs": {}}'
expect_eq "$(status_code) $(err_code)" "400 bad_request" "duplicate key in POST /api/v1/runs"
expect_eq "$(json_get "$WORK/out" 'j.error.message')" "the body is not JSON: duplicate object key near '\"workflow\"' (line 1, column 31)" "the duplicate key named"
get POST /v1/chat/completions -d '{"model": "a", "model": "b", "messages": [{"role": "user", "content": "hi"}]}'
expect_eq "$(status_code)" 400 "duplicate key in POST /v1/chat/completions"
expect_eq "$(json_get "$WORK/out" 'j.error.message')" "the body must be a JSON object: duplicate object key near '\"model\"'" "the duplicate key named"
get POST /api/v1/agui -d '{"threadId": "t1", "threadId": "t2", "runId": "r1", "messages": []}'
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.error.message')" "400 the body is not JSON: duplicate object key near '\"threadId\"' (line 1, column 29)" "duplicate key in POST /api/v1/agui"
get POST /api/v1/runs -d "$BODY"
expect_eq "$(status_code)" 201 "a body without duplicates still starts a run"

# ---- numbers out of range -------------------------------------------------------------------
get GET '/api/v1/runs?limit=1000000'
expect_eq "$(status_code)" 400 "limit=1000000"
expect_grep "limit must be a whole number from 1 to 100" "$WORK/out"
run=$(curl -s "$API/api/v1/runs" | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).items[0].id)')
get GET "/api/v1/runs/$run/events?after=18446744073709551616"
expect_eq "$(status_code)" 400 "after=2^64"
expect_grep "after must be a whole number from 0 to 9223372036854775807" "$WORK/out"
get GET "/api/v1/runs/$run/events?after=9223372036854775808"
expect_eq "$(status_code)" 400 "after=2^63"
get GET "/api/v1/runs/$run/events?cursor=18446744073709551616"
expect_eq "$(status_code)" 400 "cursor=2^64"
get GET "/api/v1/runs/$run/events?after=0&limit=1"
expect_eq "$(status_code)" 200 "after=0 is in range"
get GET "/api/v1/runs/$run/agui" -m 5 -H 'Last-Event-ID: 18446744073709551616'
expect_eq "$(status_code) $(err_code)" "400 bad_request" "AG-UI Last-Event-ID 2^64"
get POST /v1/embeddings -d '{"model": "offline", "input": "hi", "dimensions": 1099511627776}'
expect_eq "$(status_code)" 400 "embeddings dimensions 2^40"
expect_grep "dimensions must be a whole number from 1 to 65536" "$WORK/out"

MSGS='"messages": [{"role": "user", "content": "hi"}]'
get POST /v1/chat/completions -d "{\"model\": \"a\", $MSGS, \"max_tokens\": 1099511627776}"
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.error.message')" "400 max_tokens must be a whole number from 1 to 2147483647" "chat max_tokens 2^40"
get POST /v1/chat/completions -d "{\"model\": \"a\", $MSGS, \"max_completion_tokens\": 0}"
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.error.message')" "400 max_completion_tokens must be a whole number from 1 to 2147483647" "chat max_completion_tokens 0"
get POST /v1/chat/completions -d "{\"model\": \"a\", $MSGS, \"temperature\": 5}"
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.error.message')" "400 temperature must be a number from 0 to 2" "chat temperature 5"
# null is as good as absent: on to the model (which this server does not have)
get POST /v1/chat/completions -d "{\"model\": \"a\", $MSGS, \"max_tokens\": null, \"temperature\": null}"
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.error.code')" "404 model_not_found" "chat with null numbers"
stop_serve
finish
