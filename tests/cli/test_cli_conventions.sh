#!/usr/bin/env bash
# The conventions of gh, kubectl and docker hold for every command of the table (baton --help):
# -h/--help prints the command's help on stdout and exits 0; usage errors go to stderr with exit
# 2 and a "did you mean" for a mistyped command, subcommand or option; invalid values are
# errors, never a silent default; completions and the man page come from the same table.
source "$(dirname "$0")/lib.sh" "$@"

# The command table, as `baton --help` lists it, and each command's subcommands, as the bash
# completion has them (both are generated from src/cli/commands.c).
expect_exit 0 "$BATON" --help
[ ! -s "$WORK/err" ] || fail "--help wrote to stderr"
mapfile -t commands < <(sed -n 's/^  \([a-z]\+\) .*/\1/p' "$WORK/out")
[ "${#commands[@]}" -ge 14 ] || fail "too few commands in --help: ${commands[*]}"
expect_exit 0 "$BATON" completion bash
cp "$WORK/out" "$WORK/baton.bash"
subs_of() { sed -n "s/^    $1) subs=\"\([^\"]*\)\".*/\1/p" "$WORK/baton.bash"; }

for cmd in "${commands[@]}"; do
  for flag in --help -h; do
    expect_exit 0 "$BATON" "$cmd" "$flag"
    grep -q "usage: baton" "$WORK/out" || fail "baton $cmd $flag: no usage on stdout"
    [ ! -s "$WORK/err" ] || fail "baton $cmd $flag wrote to stderr: $(cat "$WORK/err")"
  done
  for sub in $(subs_of "$cmd"); do
    expect_exit 0 "$BATON" "$cmd" "$sub" --help
    grep -q "usage: baton" "$WORK/out" || fail "baton $cmd $sub --help: no usage on stdout"
    # help wins wherever it stands, even after a bad value or an operand
    expect_exit 0 "$BATON" "$cmd" "$sub" some-operand --limit abc -h
  done
  expect_exit 0 "$BATON" help "$cmd"
  grep -q "usage: baton" "$WORK/out" || fail "baton help $cmd: no usage"
done
expect_exit 0 "$BATON" help
expect_grep "usage: baton COMMAND" "$WORK/out"
expect_exit 0 "$BATON" --version
expect_grep "^baton [0-9]" "$WORK/out"

# Usage errors: stderr, exit 2, nothing on stdout.
usage_error() { # PATTERN CMD...
  local pattern=$1; shift
  expect_exit 2 "$BATON" "$@"
  [ ! -s "$WORK/out" ] || fail "baton $*: a usage error wrote to stdout: $(cat "$WORK/out")"
  expect_grep "$pattern" "$WORK/err"
}
usage_error "usage: baton COMMAND"
usage_error "unknown command 'runz' (did you mean 'run'?)" runz
usage_error "unknown command 'valdate' (did you mean 'validate'?)" valdate
usage_error "unknown command 'frobnicate'" frobnicate
usage_error "unknown subcommand 'lss' (did you mean 'ls'?)" runs lss
usage_error "unknown subcommand 'cancle' (did you mean 'cancel'?)" runs cancle r-1
usage_error "unknown subcommand 'respnd' (did you mean 'respond'?)" approvals respnd
usage_error "which one? ls, show" runs
usage_error "unknown option '--lmit' (did you mean '--limit'?)" runs ls --lmit 5
usage_error "run 'baton runs --help' for usage" runs ls --lmit 5
usage_error "unknown option '--auto-aprove' (did you mean '--auto-approve'?)" run workflows/sdlc.yaml --auto-aprove
usage_error "unknown option '--jsn' (did you mean '--json'?)" validate --jsn workflows/sdlc.yaml
usage_error "unknown option '--data-dri' (did you mean '--data-dir'?)" workflows ls --data-dri x
usage_error "unknown option '--lisen' (did you mean '--listen'?)" serve --lisen 127.0.0.1:0
usage_error "option '--limit' needs a value" runs ls --limit
usage_error "unknown subcommand 'fihs' (did you mean 'fish'?)" completion fihs

# Invalid values are errors, never "no runs yet" or a default.
mkdir -p "$WORK/empty"
usage_error "--limit takes a whole number from 1 to 1000, not 'abc'" runs ls --limit abc
usage_error "--limit takes a whole number from 1 to 1000, not '0'" runs ls --limit 0
usage_error "--limit takes a whole number" runs ls --limit 5x
usage_error "--status is one of pending, running" runs ls --status bogus
usage_error "did you mean 'running'" runs ls --status runing
usage_error "--after takes a whole number" runs events r-1 --after -1
usage_error "--at takes a whole number" runs fork r-1 --at soon
usage_error "no Baton data dir at $WORK/nope" runs ls --data-dir "$WORK/nope"
usage_error "no Baton data dir at $WORK/empty" runs ls --data-dir "$WORK/empty"
usage_error "no Baton data dir" runs show r-1 --data-dir "$WORK/nope"
usage_error "no Baton data dir" runs events r-1 --data-dir "$WORK/nope"
usage_error "no Baton data dir" runs cancel r-1 --data-dir "$WORK/nope"
usage_error "no Baton data dir" approvals ls --data-dir "$WORK/nope"
usage_error "no Baton data dir" artifacts ls r-1 --data-dir "$WORK/nope"
usage_error "no Baton data dir" workflows ls --data-dir "$WORK/nope"
usage_error "--version takes a whole number" workflows show wf-1 --version abc
[ ! -e "$WORK/nope" ] || fail "a read created the data dir it was pointed at"
usage_error "--status is not an option of runs show" runs show r-1 --status failed
usage_error "takes RUN_ID and the TEXT" runs message r-1
# The default data dir not made yet is an empty list, and says where it looked.
(cd "$WORK/empty" && "$BATON" runs ls) > "$WORK/out"
expect_grep "no runs yet in ./baton-data" "$WORK/out"

# Completions: valid scripts, and the bash one completes what the table has.
bash -n "$WORK/baton.bash" || fail "bash completion does not parse"
ok
complete_bash() { # WORDS...: what the bash completion offers for the last word
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _baton; echo "${COMPREPLY[*]}"' _ "$WORK/baton.bash" "$@"
}
expect_eq "$(complete_bash baton ru)" "run runs" "commands completed"
expect_eq "$(complete_bash baton runs ca)" "cancel" "subcommands completed"
expect_eq "$(complete_bash baton runs events r-1 --fo)" "--follow" "options completed"
expect_eq "$(complete_bash baton run --auto)" "--auto-approve" "options of run completed"
for sh in zsh fish; do
  expect_exit 0 "$BATON" completion "$sh"
  grep -q "cancel" "$WORK/out" || fail "$sh completion lacks the runs subcommands"
  cp "$WORK/out" "$WORK/baton.$sh" # zsh and fish come with make test (scripts/deps.sh test)
  "$sh" -n "$WORK/baton.$sh" || fail "$sh completion does not parse"
  ok
done

# The man page: roff with every command and its help, readable by man.
expect_exit 0 "$BATON" help --man
expect_grep '^\.TH BATON 1' "$WORK/out"
for cmd in "${commands[@]}"; do grep -q "^\.SS \"$cmd " "$WORK/out" || fail "man page lacks $cmd"; done
ok
if command -v man >/dev/null; then
  MANWIDTH=100 man -l "$WORK/out" 2>/dev/null > "$WORK/man.txt"
  expect_grep "baton runs cancel RUN_ID" "$WORK/man.txt"
fi
finish
