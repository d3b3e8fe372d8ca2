#!/usr/bin/env bash
# HTTPS with --tls-cert/--tls-key (a self-signed certificate made here with openssl): curl talks
# HTTP/2 through ALPN, or HTTP/1.1 when asked; a run is started and read back whole over each;
# a plain-HTTP client gets nothing; a lone or unreadable --tls-* is a usage error.
source "$(dirname "$0")/lib.sh" "$@"

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 1 \
  -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
expect_exit 2 "$BATON" serve --listen 127.0.0.1:0 --tls-cert "$WORK/cert.pem"
expect_grep "go together" "$WORK/err"
expect_exit 2 "$BATON" serve --listen 127.0.0.1:0 --tls-cert "$WORK/nope.pem" --tls-key "$WORK/key.pem"
expect_grep "cannot read" "$WORK/err"

serve --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem"
[[ "$API" == https://127.0.0.1:* ]] || fail "listening on $API"
ok
tls() { curl -s --cacert "$WORK/cert.pem" "$@"; }
expect_eq "$(tls -o /dev/null -w '%{http_version} %{http_code}' "$API/health")" "2 200" "HTTP/2 over TLS"
expect_eq "$(tls --http1.1 -o /dev/null -w '%{http_version} %{http_code}' "$API/health")" "1.1 200" "HTTP/1.1 over TLS"
for v in --http2 --http1.1; do
  tls "$v" -o "$WORK/run.json" -w '%{http_code}' -X POST "$API/api/v1/runs" \
    -d '{"workflow": "sdlc", "inputs": {"project_brief": "A todo app"}}' > "$WORK/code"
  expect_eq "$(cat "$WORK/code")" 201 "start a run ($v)"
  id=$(json_get "$WORK/run.json" 'j.id')
  for _ in $(seq 1 100); do
    tls "$v" -s -o /dev/null -w '%{http_code}' -X POST "$API/api/v1/approvals/$id.architecture/respond" \
      -d '{"decision": "approve"}' | grep -q 200 && break
    sleep 0.05
  done
  for _ in $(seq 1 100); do
    tls "$v" -o "$WORK/got.json" "$API/api/v1/runs/$id"
    [ "$(json_get "$WORK/got.json" 'j.status')" == completed ] && break
    sleep 0.05
  done
  # tens of kilobytes (every task's output), written in several chunks, arrive whole
  expect_eq "$(json_get "$WORK/got.json" 'j.status + " " + (JSON.stringify(j).length > 20000)')" "completed true" "read back ($v)"
done
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://${API#https://}/health" || true)" 000 "plain HTTP refused"
stop_serve
finish
