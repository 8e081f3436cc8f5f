#!/usr/bin/env bash
# cmake --install into a temporary prefix puts the program, hopscope(1), bash and zsh completion and the
# docs where they belong; the man page renders at 80 columns (man -l) and groff finds nothing to warn
# about; the bash completion parses and completes options.
#   test_install.sh BUILD_DIR
set -u
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "PASS $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }

if cmake --install "$build" --prefix "$prefix" >"$prefix.log" 2>&1; then ok "cmake --install exits 0"; else ko "cmake --install: $(cat "$prefix.log")"; fi
rm -f "$prefix.log"
for f in bin/hopscope share/man/man1/hopscope.1 share/bash-completion/completions/hopscope \
         share/zsh/vendor-completions/_hopscope share/doc/hopscope/README.md share/doc/hopscope/RECORDS.md \
         share/doc/hopscope/DEPLOYMENT.md share/doc/hopscope/examples/hopscope.service \
         share/doc/hopscope/examples/hopscope.logrotate; do
  if [ -s "$prefix/$f" ]; then ok "installs $f"; else ko "missing $f"; fi
done
if "$prefix/bin/hopscope" --version | grep -q '^hopscope '; then ok "installed binary runs"; else ko "installed binary does not run"; fi

page=$prefix/share/man/man1/hopscope.1
if command -v groff >/dev/null; then
  warn=$(groff -man -ww -z "$page" 2>&1)
  if [ -z "$warn" ]; then ok "groff -man -ww -z: no warnings"; else ko "groff warnings: $warn"; fi
else
  echo "SKIP groff not installed"
fi
if command -v man >/dev/null; then
  out=$(MANWIDTH=80 MAN_KEEP_FORMATTING= man -l "$page" 2>"$prefix/man.err" | col -b)
  err=$(cat "$prefix/man.err"); rm -f "$prefix/man.err"
  if [ -z "$err" ]; then ok "man -l writes nothing on stderr"; else ko "man -l stderr: $err"; fi
  for s in NAME SYNOPSIS DESCRIPTION OPTIONS OUTPUT "EXIT STATUS" EXAMPLES FILES "SEE ALSO"; do
    if printf '%s\n' "$out" | grep -q "^$s\$"; then ok "man page has $s"; else ko "man page lacks $s"; fi
  done
  wide=$(printf '%s\n' "$out" | awk 'length > 80' | head -3)
  if [ -z "$wide" ]; then ok "man page fits 80 columns"; else ko "lines over 80 columns: $wide"; fi
  if printf '%s\n' "$out" | grep -q '@'; then ko "unsubstituted @VAR@ in the page"; else ok "version and paths substituted"; fi
else
  echo "SKIP man not installed"
fi

comp=$prefix/share/bash-completion/completions/hopscope
if bash -n "$comp"; then ok "bash completion parses"; else ko "bash completion syntax"; fi
got=$(bash -c '. "$1"; COMP_WORDS=(hopscope --for); COMP_CWORD=1; _hopscope; echo "${COMPREPLY[*]}"' _ "$comp")
if [ "$got" = "--format" ]; then ok "bash completion completes --for"; else ko "bash completion gave '$got'"; fi
got=$(bash -c '. "$1"; COMP_WORDS=(hopscope --time-stamp-precision ""); COMP_CWORD=2; _hopscope; echo "${COMPREPLY[*]}"' _ "$comp")
if [ "$got" = "micro nano" ]; then ok "bash completion offers micro and nano"; else ko "bash completion gave '$got' for --time-stamp-precision"; fi
got=$(bash -c '. "$1"; COMP_WORDS=(hopscope --stats-i); COMP_CWORD=1; _hopscope; echo "${COMPREPLY[*]}"' _ "$comp")
if [ "$got" = "--stats-interval" ]; then ok "bash completion completes --stats-i"; else ko "bash completion gave '$got' for --stats-i"; fi
if command -v zsh >/dev/null; then
  if zsh -n "$prefix/share/zsh/vendor-completions/_hopscope"; then ok "zsh completion parses"; else ko "zsh completion syntax"; fi
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
