#!/usr/bin/env bash
# The console's files (`baton serve --ui-dir DIR`): files with their content types, "/" and
# app routes (no extension) as index.html, the API's paths never shadowed, and nothing outside
# DIR: "..", a symbolic link out of it, a missing file are JSON errors. A missing DIR is a
# usage error.
source "$(dirname "$0")/lib.sh" "$@"
ui="$WORK/ui"
mkdir -p "$ui/assets"
printf '<!doctype html><title>Baton</title>' > "$ui/index.html"
printf 'console.log(1)' > "$ui/assets/app.js"
printf 'body{}' > "$ui/assets/app.css"
printf 'secret' > "$WORK/outside.txt"
ln -s "$WORK/outside.txt" "$ui/assets/leak.txt"

expect_exit 2 "$BATON" serve --listen 127.0.0.1:0 --ui-dir "$WORK/nope"
expect_grep "ui-dir" "$WORK/err"
serve --ui-dir "$ui"
type_of() { grep -i '^content-type:' "$WORK/hdr" | tr -d '\r' | cut -d' ' -f2-; }
get GET /
expect_eq "$(status_code) $(type_of)" "200 text/html; charset=utf-8" "/"
expect_grep "<title>Baton</title>" "$WORK/out"
get GET /runs/r-123
expect_eq "$(status_code) $(cat "$WORK/out")" "200 <!doctype html><title>Baton</title>" "an app route is index.html"
get GET /assets/app.js
expect_eq "$(status_code) $(type_of) $(cat "$WORK/out")" "200 text/javascript; charset=utf-8 console.log(1)" "a script"
get GET /assets/app.css
expect_eq "$(status_code) $(type_of)" "200 text/css; charset=utf-8" "a style sheet"
get GET /assets/missing.js
expect_eq "$(status_code) $(err_code)" "404 not_found" "a missing file"
get GET /assets/leak.txt
expect_eq "$(status_code) $(err_code)" "404 not_found" "a link out of the folder"
# libwebsockets folds ".." out of the path before it reaches the handler (which refuses any it
# sees): either way, nothing outside the folder comes back
get GET /assets/../../outside.txt --path-as-is
[[ "$(status_code)" =~ ^40[04]$ ]] && ! grep -q secret "$WORK/out" || fail "a path with ..: $(status_code) $(cat "$WORK/out")"
ok
get GET /api/v1/nope
expect_eq "$(status_code) $(err_code)" "404 not_found" "the API's 404, not the console"
get GET /health
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.status')" "200 ok" "routes first"
stop_serve
finish
