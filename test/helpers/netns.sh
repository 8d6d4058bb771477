# netns.sh - what the namespace labs (test/nat/lab.sh, test/lb/lab.sh) share.
# Sourced, not run; the sourcing script sets PROG first.

die()  { echo "$PROG: $*" >&2; exit 1; }
info() { echo "$PROG: $*" >&2; }

need_root() { [[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces)"; }
need_cmd()  { command -v "$1" >/dev/null 2>&1 || die "'$1' not found (apt-get install $2)"; }
ns_exists() { [[ -e /run/netns/$1 ]]; }
in_ns()     { ip netns exec "$@"; }

# take_prefix DEFAULT STATE_DIR ARGS...: PREFIX is the lab's name, from
# "-p PREFIX" at the front of ARGS or else DEFAULT; PREFIX_TAKEN=1 when the
# caller must shift 2. STATE_FILE, in STATE_DIR, holds the running lab's
# settings (save_state).
take_prefix() {
  PREFIX=$1
  STATE_DIR=$2
  PREFIX_TAKEN=0
  if [[ ${3:-} == -p ]]; then
    [[ $# -ge 4 ]] || die "-p needs a prefix"
    PREFIX=$4
    PREFIX_TAKEN=1
  fi
  [[ $PREFIX =~ ^[A-Za-z0-9_.-]{1,40}$ ]] || die "prefix: 1-40 of [A-Za-z0-9_.-]"
  STATE_FILE=$STATE_DIR/$PREFIX.env
}

# The running lab's settings: the variables the sourcing script names in
# STATE_KEYS, as KEY=VALUE lines in STATE_FILE. `up` (and a command that
# changes one) saves them; every other command loads them over the defaults.
# The values are single words (nets, ports, names, lists): nothing is quoted.
save_state() {
  local key
  mkdir -p "$STATE_DIR"
  for key in "${STATE_KEYS[@]}"; do printf '%s=%s\n' "$key" "${!key}"; done >"$STATE_FILE"
}

# False when there is no state file (the lab is not up). Keys not in
# STATE_KEYS are passed over: the file sets no other variable.
load_state() {
  [[ -r $STATE_FILE ]] || return 1
  local key value
  while IFS='=' read -r key value; do
    if [[ $key =~ ^[A-Z_]+$ && " ${STATE_KEYS[*]} " == *" $key "* ]]; then printf -v "$key" '%s' "$value"; fi
  done <"$STATE_FILE"
}

# The EXIT trap of `up`: when it failed, the sourcing script's cmd_down
# removes the partial lab.
on_up_exit() {
  local rc=$?
  (( rc == 0 )) && return 0
  info "up failed (exit $rc): removing the partial lab"
  cmd_down
  exit "$rc"
}

# start_lab NS...: the namespaces of a new lab, each with lo up, once its
# settings are saved. A lab of the same prefix still up is torn down first
# (the sourcing script's cmd_down); from here until the caller's
# `trap - EXIT`, a failure removes the partial lab (on_up_exit).
start_lab() {
  local ns
  for ns in "$@"; do
    if ns_exists "$ns"; then info "lab $PREFIX already up: tearing it down first"; cmd_down; break; fi
  done
  trap on_up_exit EXIT
  save_state
  for ns in "$@"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
  done
}

# remove_lab NS...: deletes the lab's namespaces (ending what runs in them)
# and its state file. Idempotent.
remove_lab() {
  need_root
  local ns
  for ns in "$@"; do delete_ns "$ns"; done
  rm -f "$STATE_FILE"
  return 0
}

# check_private_net NET...: each is the first three octets of an RFC 1918 /24.
check_private_net() {
  local net
  for net in "$@"; do
    [[ $net =~ ^(10\.[0-9]{1,3}\.[0-9]{1,3}|192\.168\.[0-9]{1,3}|172\.(1[6-9]|2[0-9]|3[01])\.[0-9]{1,3})$ ]] \
      || die "'$net' is not the first three octets of a private (RFC 1918) /24"
  done
}

# Ends the processes inside one namespace (TERM, then KILL), then deletes it.
delete_ns() {
  local ns=$1 pids pid _
  ns_exists "$ns" || return 0
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  if [[ -n $pids ]]; then
    info "ending processes still in $ns: $(tr '\n' ' ' <<<"$pids")"
    for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      pids=$(ip netns pids "$ns" 2>/dev/null || true)
      [[ -z $pids ]] && break
      sleep 0.2
    done
    for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
  fi
  ip netns del "$ns" 2>/dev/null || { sleep 0.2; ip netns del "$ns"; } || true
}

# gc_labs KIND STATE_DIR: removes the labs of test runs that died, namespaces
# and state files named KIND-<pid>-... whose <pid> no longer exists.
gc_labs() {
  local kind=$1 state_dir=$2 ns f
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    [[ $ns =~ ^$kind-([0-9]+)- ]] || continue
    [[ -e /proc/${BASH_REMATCH[1]} ]] && continue
    info "removing stale namespace $ns (pid ${BASH_REMATCH[1]} is gone)"
    delete_ns "$ns"
  done
  for f in "$state_dir"/"$kind"-*.env; do
    [[ -e $f ]] || continue
    [[ ${f##*/} =~ ^$kind-([0-9]+)- ]] || continue
    [[ -e /proc/${BASH_REMATCH[1]} ]] || rm -f "$f"
  done
  return 0
}

# exec_in_ns NS PREFIX [CMD ARGS...]: runs CMD (default: a shell) inside NS.
exec_in_ns() {
  need_root
  local ns=$1 prefix=$2
  shift 2
  ns_exists "$ns" || die "namespace $ns does not exist (run: $PROG -p $prefix up)"
  [[ $# -gt 0 ]] || set -- "${SHELL:-/bin/bash}"
  exec ip netns exec "$ns" "$@"
}

HELPER_NAME=ftp-ctl  # the nft ct helper object of nft_ftp_helper, named by the labs' helper rules

# The nft lines that give new control connections the kernel's FTP helper:
# an explicit helper object (automatic assignment by port is gone from current
# kernels, nf_conntrack_helper sysctl) and a chain at priority filter (0),
# which runs after conntrack (-200) and DNAT (-100) and before the entry is
# confirmed: the helper must be set on the first packet. $1 the chain's rule
# (a comment for none). Goes inside a `table ip` block.
nft_ftp_helper() {
  cat <<EOF
    ct helper $HELPER_NAME {
        type "ftp" protocol tcp
        l3proto ip
    }
    chain helpers {
        type filter hook prerouting priority filter; policy accept;
        $1
    }
EOF
}
