#!/usr/bin/env bash
# `make install PREFIX=...` (cmake --install of this build, then the Makefile's own): the binary, the catalog, the
# templates, the man page and the completions land under PREFIX, and the installed baton, run
# from a folder with none of the source tree, finds its catalog and templates and runs one.
source "$(dirname "$0")/lib.sh" "$@"
BUILD=$(dirname "$BATON")
[ -f "$BUILD/cmake_install.cmake" ] || fail "no cmake_install.cmake next to $BATON"
P="$WORK/prefix"
cmake --build "$BUILD" --target baton_docs > "$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; fail "baton_docs"; }
cmake --install "$BUILD" --prefix "$P" > "$WORK/install.log" 2>&1 || { cat "$WORK/install.log"; fail "cmake --install"; }
ok
for f in bin/baton share/baton/agents/developer.yaml share/baton/workflows/sdlc.yaml \
         share/baton/defaults.yaml share/man/man1/baton.1 share/bash-completion/completions/baton \
         share/zsh/site-functions/_baton share/fish/vendor_completions.d/baton.fish; do
  [ -s "$P/$f" ] || fail "not installed: $f"
done
ok
# The installed man page and completion are the ones the binary prints.
"$P/bin/baton" completion bash | cmp -s - "$P/share/bash-completion/completions/baton" || fail "bash completion differs"
"$P/bin/baton" help --man | cmp -s - "$P/share/man/man1/baton.1" || fail "man page differs"
ok

# A run of a shipped template by name, from a folder with no agents/ or workflows/ in it.
mkdir -p "$WORK/elsewhere"
cd "$WORK/elsewhere"
expect_exit 0 timeout 120 "$P/bin/baton" run sdlc --auto-approve --json --data-dir "$WORK/d" \
  --input project_brief="A tool library"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "status of the installed template run"
expect_exit 0 "$P/bin/baton" runs ls --json --data-dir "$WORK/d"
expect_eq "$(json_get "$WORK/out" 'j[0].workflow')" "Software Delivery Lifecycle" "workflow run"
# The template by path validates; an unknown name is a usage error naming it.
expect_exit 0 timeout 120 "$P/bin/baton" validate "$P/share/baton/workflows/sdlc.yaml"
expect_exit 2 "$P/bin/baton" run no_such_template --data-dir "$WORK/d"
expect_grep "no_such_template" "$WORK/err"

# The same through the Makefile, as a user types it: `make install PREFIX=...` (the release
# build, which `make test` made first, so this only installs it).
cd "$ROOT"
M="$WORK/make-prefix"
make install PREFIX="$M" > "$WORK/make.log" 2>&1 || { tail -n 30 "$WORK/make.log"; fail "make install"; }
for f in bin/baton share/baton/workflows/sdlc.yaml share/man/man1/baton.1; do
  [ -s "$M/$f" ] || fail "make install did not install $f"
done
ok
cd "$WORK/elsewhere"
expect_exit 0 timeout 120 "$M/bin/baton" run content_creation --auto-approve --json --data-dir "$WORK/d2" \
  --input domain="tool libraries"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "a template run from make install's prefix"
finish
