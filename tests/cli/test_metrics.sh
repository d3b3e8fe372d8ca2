#!/usr/bin/env bash
# GET /metrics: Prometheus' text format (every sample under a HELP and TYPE, names and labels as
# the format allows, numeric values), and figures that follow what happened: answers by status
# class, runs by status, pending approvals, model calls and cost by candidate.
source "$(dirname "$0")/lib.sh" "$@"
printf 'providers:\n  offline:\n    price: {input_per_million: 1, output_per_million: 2}\n' > "$WORK/priced.yaml"
serve --config "$WORK/priced.yaml"
get GET /nope
get POST /api/v1/runs -d '{"workflow": "sdlc", "inputs": {"project_brief": "A todo app"}}'
run=$(json_get "$WORK/out" 'j.id')
for _ in $(seq 1 100); do
  get GET "/api/v1/runs/$run"
  [ "$(json_get "$WORK/out" 'j.status')" == waiting_human ] && break
  sleep 0.05
done
get GET /metrics
expect_eq "$(cat "$WORK/status")" 200 "metrics status"
expect_grep "^content-type: text/plain; version=0.0.4" "$WORK/hdr"
node -e '
  const text = require("fs").readFileSync(process.argv[1], "utf8");
  const typed = new Set(), helped = new Set();
  for (const line of text.trimEnd().split("\n")) {
    let m;
    if ((m = line.match(/^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/))) { helped.add(m[1]); continue; }
    if ((m = line.match(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$/))) { typed.add(m[1]); continue; }
    m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (-?[0-9.]+(e[+-]?[0-9]+)?)$/);
    if (!m) { console.log("not the format: " + line); process.exit(1); }
    if (!typed.has(m[1]) || !helped.has(m[1])) { console.log("no HELP/TYPE before " + m[1]); process.exit(1); }
  }' "$WORK/out" || fail "metrics format"
ok
metric() { grep -E "^$1 " "$WORK/out" | awk '{print $2}'; }
expect_eq "$(metric 'baton_runs\{status="waiting_human"\}')" 1 "runs by status"
expect_eq "$(metric baton_approvals_pending)" 1 "pending approvals"
expect_eq "$(awk -v v="$(metric 'baton_http_responses_total\{code="4xx"\}')" 'BEGIN{print (v >= 1)}')" 1 "a 404 counted"
expect_eq "$(awk -v v="$(metric 'baton_llm_calls_total\{candidate="offline/offline-1"\}')" 'BEGIN{print (v >= 3)}')" 1 "model calls counted"
expect_eq "$(awk -v v="$(metric 'baton_llm_cost_usd_total\{candidate="offline/offline-1"\}')" 'BEGIN{print (v > 0)}')" 1 "cost counted"
expect_grep '^baton_build_info{version="' "$WORK/out"
stop_serve
finish
