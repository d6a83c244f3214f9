#!/bin/sh
# The diagnostics cases under valgrind: every generated hostile input (NUL
# bytes, invalid UTF-8, megabyte lines, deep nesting, ...) and every 6th file
# case must end in a clean error with no memory error and no definite leak.
[ "${SANITIZED:-no}" = yes ] && { echo "SKIP: a sanitizer build (AddressSanitizer checks these cases in run-diag.sh)"; exit 77; }
command -v valgrind >/dev/null || { echo "SKIP: valgrind is not installed"; exit 77; }
VALGRIND=1 VALGRIND_EVERY=${VALGRIND_EVERY:-6} exec sh "$(dirname "$0")/run-diag.sh" "$@"
