# Guest-side helpers for VM lane scripts (sourced; bash). Every result is one parseable line:
#   CHECK <name> ok|fail <detail>
# The host (test/vm/*.test.ts) asserts on these lines; a script's exit code is the number of
# failed checks (capped at 100), so `scripts/vm/run.sh` fails when any check failed.

FERRY_VM_FAILS=0

# check NAME DETAIL -- cmd...   : ok when cmd exits 0
check() {
  local name=$1 detail=$2; shift 2; [ "${1:-}" = -- ] && shift
  if "$@"; then echo "CHECK $name ok $detail"; else
    echo "CHECK $name fail $detail (command: $*)"; FERRY_VM_FAILS=$((FERRY_VM_FAILS + 1)); fi
}

# check_not NAME DETAIL -- cmd...   : ok when cmd exits non-zero
check_not() {
  local name=$1 detail=$2; shift 2; [ "${1:-}" = -- ] && shift
  if "$@"; then echo "CHECK $name fail $detail (unexpected success: $*)"; FERRY_VM_FAILS=$((FERRY_VM_FAILS + 1)); else
    echo "CHECK $name ok $detail"; fi
}

# check_out NAME REGEX DETAIL -- cmd...  : ok when cmd's combined output matches the ERE
# (exit code ignored; output is echoed, indented, for the log)
check_out() {
  local name=$1 re=$2 detail=$3 out; shift 3; [ "${1:-}" = -- ] && shift
  out=$("$@" 2>&1); sed 's/^/    | /' <<<"$out"
  if grep -Eq -- "$re" <<<"$out"; then echo "CHECK $name ok $detail"; else
    echo "CHECK $name fail $detail (no /$re/ in output of: $*)"; FERRY_VM_FAILS=$((FERRY_VM_FAILS + 1)); fi
}

# check_out_not NAME REGEX DETAIL -- cmd...  : ok when the output does NOT match
check_out_not() {
  local name=$1 re=$2 detail=$3 out; shift 3; [ "${1:-}" = -- ] && shift
  out=$("$@" 2>&1); sed 's/^/    | /' <<<"$out"
  if grep -Eq -- "$re" <<<"$out"; then echo "CHECK $name fail $detail (/$re/ found in output of: $*)"
    FERRY_VM_FAILS=$((FERRY_VM_FAILS + 1)); else echo "CHECK $name ok $detail"; fi
}

# run a command, echo it and its output, return its exit code
run() { echo "+ $*"; "$@" 2>&1 | sed 's/^/    | /'; return "${PIPESTATUS[0]}"; }

ferry_vm_done() {
  local n=$FERRY_VM_FAILS
  [ "$n" -gt 100 ] && n=100
  echo "CHECKS-DONE failed=$FERRY_VM_FAILS"
  exit "$n"
}
