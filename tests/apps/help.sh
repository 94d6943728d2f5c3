#!/usr/bin/env bash
# Every binary of apps/ answers --help with its usage (exit 0, "usage:" on stdout) and an
# unknown option with a one-line error that names the option (a non-zero exit), so a
# user can always ask a program what it takes (issue 24, item 5).
#
#   tests/apps/help.sh APPS_DIR NAME...
set -u
apps="$1"
shift
failed=0
for name in "$@"; do
  binary="${apps}/${name}"
  [[ -x "${binary}" ]] || { echo "FAIL ${name}: no executable ${binary}"; failed=1; continue; }
  if ! usage="$("${binary}" --help 2>&1)"; then
    echo "FAIL ${name} --help: exit status $?"; failed=1; continue
  fi
  [[ "${usage}" == usage:* ]] || { echo "FAIL ${name} --help: does not start with 'usage:'"; failed=1; continue; }
  # An option nobody has: it must fail and say which.
  if error="$("${binary}" --no-such-option 2>&1 >/dev/null)"; then
    echo "FAIL ${name} --no-such-option: exit status 0"; failed=1; continue
  fi
  [[ "${error}" == *--no-such-option* ]] || { echo "FAIL ${name} --no-such-option: the error does not name it: ${error}"; failed=1; continue; }
  [[ $(printf '%s\n' "${error}" | wc -l) -eq 1 ]] || { echo "FAIL ${name} --no-such-option: more than one line: ${error}"; failed=1; continue; }
  echo "ok   ${name} ($(printf '%s\n' "${usage}" | wc -l) lines of usage)"
done
exit "${failed}"
