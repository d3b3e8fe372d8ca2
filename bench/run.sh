#!/usr/bin/env bash
# make bench: prints the benchmark tables. Targets: DESIGN.md section 8; figures: docs/benchmarks.md.
set -euo pipefail
build=${1:-build}
echo "Engine overhead per task (durable SQLite journal, synchronous=NORMAL, offline model)"
echo "targets: chain median <= 50 µs/step; 10,000-task fan-out <= 15 µs/task and >= 60,000 tasks/s"
echo
"$build/engine_bench" "${CHAIN_TASKS:-1000}" "${FANOUT_TASKS:-10000}"
echo
echo "Durable events per second through the store writer (group commit)"
"$build/store_bench"
echo
echo "Model router: ${ROUTER_CALLS:-10000} concurrent calls to a fake OpenAI-compatible server answering after 1 s"
echo "targets: all done within 3 s, RSS <= 200 MB"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# The fake is native (bench/fake_openai.c, single-threaded libuv) so that the figure measures
# Baton, not the fake: the Node fake spends ~3.6 s of CPU on 10,000 calls (this one ~0.7 s) on
# the same two cores as the router. It is checked with the official openai SDK first, so a fake
# that drifts from the protocol stops the bench.
if ! check=$(node bench/check_fake_openai.mjs "$build/fake_openai" 2>&1); then
    printf '%s\n' "$check"
    echo "bench: bench/fake_openai fails its protocol check; no router figures" >&2
    exit 1
fi
echo "fake: $build/fake_openai, checked with the openai SDK ($(tail -n1 <<<"$check"))"
echo
fake_out=$(mktemp)
fake_err=$(mktemp)
"$build/fake_openai" --port 0 --latency-ms 1000 --max-seconds 120 > "$fake_out" 2> "$fake_err" &
fake=$!
for _ in $(seq 1 100); do [ -s "$fake_out" ] && break; sleep 0.05; done
port=$(head -n1 "$fake_out" | sed 's/[^0-9]//g')
"$build/router_bench" "$port" "${ROUTER_CALLS:-10000}" || true
kill "$fake" 2>/dev/null && wait "$fake" 2>/dev/null || true
echo
cat "$fake_err" # the fake's own counts and CPU time
rm -f "$fake_out" "$fake_err"
echo
echo "Server: REST and WebSocket on 127.0.0.1 ($build/baton serve, offline model, a fresh data dir)"
echo "targets: GET at 5,000 req/s p99 <= 2 ms; WebSocket fan-out to 1,000 clients >= 100,000 messages/s;"
echo "         start-up <= 100 ms; idle RSS <= 20 MB"
echo
secs=${SERVER_SECONDS:-5}
clients=${WS_CLIENTS:-1000}
srv_dir=$(mktemp -d)
srv_pid=
trap 'if [ -n "$srv_pid" ]; then kill "$srv_pid" 2>/dev/null; fi; rm -rf "$srv_dir"' EXIT
ms_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }
rss_mb() { awk -v k="${2:-VmRSS}:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
# Start-up: from the exec to the first stdout line, {"listening": "http://127.0.0.1:PORT", ...}.
start_server() {
    local t0=$EPOCHREALTIME line
    exec {srv_fd}< <(exec "$build/baton" serve --listen 127.0.0.1:0 --data-dir "$srv_dir" 2>/dev/null)
    srv_pid=$!
    read -r -t 10 line <&"$srv_fd"
    startup_ms=$(ms_since "$t0")
    port=$(sed 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/' <<<"$line")
}
stop_server() {
    kill -TERM "$srv_pid" && wait "$srv_pid" && srv_status=0 || srv_status=$?
    exec {srv_fd}<&-
    srv_pid=
}
base() { echo "http://127.0.0.1:$port"; }
start_run() { curl -sf -X POST "$(base)/api/v1/runs" -d @"$1" | grep -o '"run_id":"[^"]*"' | cut -d'"' -f4; }
wait_run() {
    for _ in $(seq 1 200); do
        curl -sf "$(base)/api/v1/runs/$1" |
            node -e 'process.exit(JSON.parse(require("fs").readFileSync(0, "utf8")).status === "completed" ? 0 : 1)' &&
            return 0
        sleep 0.05
    done
    echo "bench: run $1 did not complete" >&2
    return 1
}
journal_events() { # the run's events, page by page (GET /api/v1/runs/{id}/events)
    local after=0 total=0 n
    while [ "$after" != null ]; do
        read -r n after < <(curl -sf "$(base)/api/v1/runs/$1/events?after=$after&limit=1000" |
            node -e 'const d = JSON.parse(require("fs").readFileSync(0, "utf8"));
                     console.log(d.items.length, d.next_after)')
        total=$((total + n))
    done
    echo "$total"
}
ws_settle() { # the previous clients' connections are gone (the server counts them in /api/v1/status)
    for _ in $(seq 1 100); do
        curl -sf "$(base)/api/v1/status" | grep -q '"connections":1[,}]' && return 0
        sleep 0.05
    done
}

start_server
first_startup_ms=$startup_ms
sleep 0.3
rss_idle=$(rss_mb "$srv_pid")
export SERVER_PID=$srv_pid # http_load and ws_fanout read its CPU time from /proc
# A 3-task run for GET /api/v1/runs/{id}, and a ${WS_TASKS:-100}-task fan-out whose journal is replayed.
small="$srv_dir/small.json" fan="$srv_dir/fan.json"
echo '{"workflow": {"name": "Small", "agents": {"w": {"instructions": "Write a line."}},
       "tasks": [{"id": "t1", "agent": "w"}, {"id": "t2", "agent": "w"}, {"id": "t3", "agent": "w"}]}}' > "$small"
{
    printf '{"workflow": {"name": "Fan", "agents": {"w": {"instructions": "Write a line."}}, "tasks": ['
    sep=
    for i in $(seq 1 "${WS_TASKS:-100}"); do printf '%s{"id": "t%d", "agent": "w"}' "$sep" "$i"; sep=", "; done
    printf ']}}\n'
} > "$fan"
small_id=$(start_run "$small")
fan_id=$(start_run "$fan")
wait_run "$small_id"
wait_run "$fan_id"
summary_bytes=$(curl -sf "$(base)/api/v1/runs/$small_id" | wc -c)
events=$(journal_events "$fan_id")

# RSS with the clients connected and subscribed (to "system": idle, nothing is sent).
hold_out="$srv_dir/hold.out"
"$build/ws_fanout" 127.0.0.1 "$port" "$clients" hold 1.5 > "$hold_out" &
hold=$!
for _ in $(seq 1 200); do grep -q held "$hold_out" && break; sleep 0.05; done
sleep 0.5
rss_held=$(rss_mb "$srv_pid")
held=$(cat "$hold_out")
wait "$hold" || true

echo "REST, open loop (bench/http_load: fixed rate, latency from each request's scheduled send, 16 connections, ${secs} s)"
echo "GET /api/v1/runs/{id} is a finished 3-task run's summary ($summary_bytes bytes); send lag: scheduled send to"
echo "write (the client's own lateness while the server keeps up); CPU %: of one core, over the run"
echo
echo "| path | rate/s | requests | errors | achieved req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | send lag p99 ms | server CPU % | client CPU % |"
echo "|------|--------|----------|--------|----------------|--------|--------|--------|----------|--------|-----------------|--------------|--------------|"
declare -A p99
for path in /health "/api/v1/runs/$small_id"; do
    for rate in 1000 5000; do
        row=$("$build/http_load" 127.0.0.1 "$port" "$path" "$rate" "$secs" 16 2>/dev/null) || true
        echo "$row"
        p99[$path$rate]=$(awk -F'|' '{ gsub(/ /, "", $9); print $9 }' <<<"$row")
    done
done
# The floor of this machine and client: the same load on bench/fake_openai (single-threaded libuv,
# a fixed 404 for this path, counted as an answer), which does next to nothing per request.
"$build/fake_openai" --port 0 --latency-ms 0 --max-seconds 30 > "$srv_dir/fake.out" 2>/dev/null &
fake=$!
for _ in $(seq 1 100); do [ -s "$srv_dir/fake.out" ] && break; sleep 0.05; done
fake_port=$(head -n1 "$srv_dir/fake.out" | sed 's/[^0-9]//g')
row=$(SERVER_PID=$fake "$build/http_load" 127.0.0.1 "$fake_port" /health 5000 "$secs" 16 any 2>/dev/null) || true
echo "${row/| \/health |/| (floor: bench/fake_openai, same load) |}"
p99[floor]=$(awk -F'|' '{ gsub(/ /, "", $9); print $9 }' <<<"$row")
kill "$fake" 2>/dev/null && wait "$fake" 2>/dev/null || true
echo
echo "REST, closed loop, peak throughput (wrk -t2 -c16 -d${secs}s --latency; wrk's own percentiles)"
echo
if command -v wrk >/dev/null; then
    echo "| path | req/s | p50 ms | p90 ms | p99 ms | max ms | errors |"
    echo "|------|-------|--------|--------|--------|--------|--------|"
    for path in /health "/api/v1/runs/$small_id"; do
        wrk -t2 -c16 -d"${secs}s" --latency "$(base)$path" | awk -v path="$path" '
            function ms(v) { return v ~ /us$/ ? v / 1000 : v ~ /ms$/ ? v + 0 : v * 1000 }
            $1 == "Latency" && !max { max = ms($4) }
            $1 == "50%" { p50 = ms($2) } $1 == "90%" { p90 = ms($2) } $1 == "99%" { p99 = ms($2) }
            $1 == "Requests/sec:" { rps = $2 }
            /Non-2xx|Socket errors/ { err = err $0 " " }
            END { printf "| %s | %.0f | %.3f | %.3f | %.3f | %.3f | %s |\n", path, rps, p50, p90, p99, max, err ? err : "0" }'
    done
else
    echo "(wrk is not installed: scripts/deps.sh installs it)"
fi
echo
echo "WebSocket fan-out (bench/ws_fanout): $clients clients; replay: each subscribes to a finished"
echo "${WS_TASKS:-100}-task fan-out from seq 0 (its journal: $events events); live: each subscribes to \"*\","
echo "then the same workflow is started. Every client must get every event, in order."
echo
echo "| mode | clients | messages/client | total messages | seconds | messages/s | failed | connect s | server CPU % | client CPU % |"
echo "|------|---------|-----------------|----------------|---------|------------|--------|-----------|--------------|--------------|"
ws_settle
replay=$("$build/ws_fanout" 127.0.0.1 "$port" "$clients" replay "$fan_id" "$events") || true
echo "$replay"
ws_settle
live=$("$build/ws_fanout" 127.0.0.1 "$port" "$clients" live "$fan" "$events") || true
echo "$live"
rss_peak=$(rss_mb "$srv_pid" VmHWM)
rss_end=$(rss_mb "$srv_pid")
stop_server
start_server # again, on the data dir the runs above left
restart_ms=$startup_ms
sleep 0.3
rss_restart=$(rss_mb "$srv_pid")
stop_server
echo
msgs() { awk -F'|' '{ gsub(/ /, "", $7); print $7 }' <<<"$1"; }
echo "| target (DESIGN.md §8) | measured |"
echo "|---|---|"
echo "| GET /health at 5,000 req/s: p99 <= 2 ms | ${p99[/health5000]} ms (this machine's floor: ${p99[floor]} ms) |"
echo "| GET /api/v1/runs/{id} at 5,000 req/s: p99 <= 2 ms | ${p99[/api/v1/runs/${small_id}5000]} ms |"
echo "| WebSocket fan-out to $clients clients: >= 100,000 messages/s | replay $(msgs "$replay"), live $(msgs "$live") |"
echo "| start-up <= 100 ms | $first_startup_ms ms (fresh data dir), $restart_ms ms (restart with the runs above) |"
echo "| idle RSS <= 20 MB | $rss_idle MB ($rss_restart MB after the restart) |"
echo "| RSS with $clients idle WebSocket clients (no target) | $rss_held MB ($held) |"
echo "| (peak RSS over the section; RSS at its end) | $rss_peak MB; $rss_end MB |"
echo "server exit status on SIGTERM: $srv_status"
