#!/usr/bin/env bash
# lab.sh - N FTP servers behind a Linux load balancer, built out of network
# namespaces: a client, a balancer holding the virtual address, N servers.
#
#   <p>-client  C.2 --veth-- C.1 + VIP [to-client] <p>-lb [br-srv] S.1 --bridge-- S.11 <p>-srv1
#                                                                             +-- S.12 <p>-srv2
#                                                                             +-- S.1N ...
#
# Clients dial VIP:ctl. The balancer DNATs each NEW control connection to one
# server (nft numgen inc = round robin, or jhash of the client's address and
# port); the servers see the client's real address and route back through the
# balancer; connections the servers open (active-mode data) leave SNATed to VIP.
#
# Variant helper: the FTP conntrack helper rides every control connection, so
#   each data connection, passive or active, follows its control connection
#   to the same server (nf_nat_ftp rewrites the server's address in 227 to VIP).
#   The servers may share one passive range.
# Variant slices: no helper. Each server announces VIP (--pasv-address) and owns
#   a slice of the passive range (--pasv-ports); the balancer forwards each
#   slice by destination port to its server. `env` prints the slices.
#
# `backends 1,3` rewrites the balancing rules in one nft transaction (what an
# operator or keepalived's health check does when a server dies): new control
# connections go to the servers listed only; established ones are untouched.
#
# No link to the host's network and no route out of the lab. Needs root,
# iproute2 and nft. See docs/load-balancing.md.
#
# Usage: lab.sh [-p PREFIX] COMMAND [ARGS]
#   up [--variant helper|slices] [--spread numgen|jhash] [--servers N]
#      [--ftp-port N] [--pasv-range MIN-MAX] [--client-net A.B.C] [--server-net A.B.C]
#   down | status | env | backends I,J,... | gc
#   client|lb [CMD [ARGS...]] | srv I [CMD [ARGS...]]
set -euo pipefail

PROG=${0##*/}
# shellcheck source=../helpers/netns.sh
source "$(dirname "${BASH_SOURCE[0]}")/../helpers/netns.sh"

# The running lab's settings: /run/muxftpd-lb-lab/PREFIX.env, written by `up` and `backends`.
take_prefix "${MXLB_PREFIX:-mxlb}" /run/muxftpd-lb-lab "$@"
(( PREFIX_TAKEN )) && shift 2

NS_CLIENT=$PREFIX-client
NS_LB=$PREFIX-lb
ns_srv() { echo "$PREFIX-srv$1"; }

IF_CLIENT=eth0          # in $NS_CLIENT
IF_SERVER=eth0          # in each server namespace
IF_TO_CLIENT=to-client  # in $NS_LB, the client side (holds VIP)
BRIDGE=br-srv           # in $NS_LB, the servers' segment

NFT_TABLE=mxlb          # nft table (family ip) in $NS_LB

# Defaults; `up` takes options, every other command reads the state file.
VARIANT=helper
SPREAD=numgen
SERVERS=3
FTP_PORT=2121
PASV_RANGE=40000-40999
CLIENT_NET=10.245.0
SERVER_NET=10.246.0
BACKENDS=           # the servers now in the balancer's map, e.g. 1,2,3
STATE_KEYS=(VARIANT SPREAD SERVERS FTP_PORT PASV_RANGE CLIENT_NET SERVER_NET BACKENDS)

derive() {
  CLIENT_ADDR=$CLIENT_NET.2
  LB_CLIENT_SIDE=$CLIENT_NET.1
  VIP=$CLIENT_NET.10
  LB_SERVER_SIDE=$SERVER_NET.1
  PASV_MIN=${PASV_RANGE%-*}
  PASV_MAX=${PASV_RANGE#*-}
}

server_addr() { echo "$SERVER_NET.$((10 + $1))"; }

# Server I's passive slice in the slices variant: the range cut into SERVERS
# equal parts (the remainder, if any, left unused), I counted from 1.
slice() {
  local width=$(( (PASV_MAX - PASV_MIN + 1) / SERVERS ))
  echo "$((PASV_MIN + ($1 - 1) * width))-$((PASV_MIN + $1 * width - 1))"
}

all_ns() {
  local i
  echo "$NS_CLIENT" "$NS_LB"
  for ((i = 1; i <= SERVERS; i++)); do ns_srv "$i"; done
}

check_config() {
  check_private_net "$CLIENT_NET" "$SERVER_NET"
  [[ $CLIENT_NET != "$SERVER_NET" ]] || die "--client-net and --server-net must differ"
  [[ $VARIANT == helper || $VARIANT == slices ]] || die "--variant must be helper or slices"
  [[ $SPREAD == numgen || $SPREAD == jhash ]] || die "--spread must be numgen or jhash"
  [[ $SERVERS =~ ^[1-9]$ ]] || die "--servers must be 1-9"
  [[ $FTP_PORT =~ ^[0-9]{1,5}$ ]] && (( FTP_PORT >= 1 && FTP_PORT <= 65535 )) || die "--ftp-port must be a TCP port"
  [[ $PASV_RANGE =~ ^[0-9]{1,5}-[0-9]{1,5}$ ]] || die "--pasv-range must be MIN-MAX"
  (( PASV_MIN >= 1024 && PASV_MIN <= PASV_MAX && PASV_MAX <= 65535 )) \
    || die "--pasv-range: 1024 <= MIN <= MAX <= 65535"
  (( PASV_MAX - PASV_MIN + 1 >= SERVERS )) || die "--pasv-range: fewer ports than servers"
  (( FTP_PORT < PASV_MIN || FTP_PORT > PASV_MAX )) || die "--ftp-port lies in --pasv-range"
}

# "1,3" -> checked against SERVERS, echoed back without duplicates, in order.
check_backends() {
  local list=$1 i seen=" " out=()
  [[ $list =~ ^[1-9](,[1-9])*$ ]] || die "backends: a list like 1,2,3"
  for i in ${list//,/ }; do
    (( i <= SERVERS )) || die "backends: server $i does not exist (1-$SERVERS)"
    [[ $seen == *" $i "* ]] && continue
    seen+="$i "
    out+=("$i")
  done
  local IFS=,
  echo "${out[*]}"
}

# ---- nft ---------------------------------------------------------------------------
# The balancing rules for the servers in $1 (e.g. "1,3"): a control connection
# to VIP picks one of them; in the slices variant each listed server's passive
# slice is forwarded to it.
balance_rules() {
  local list=$1 i k=0 map=() slices=() pick
  for i in ${list//,/ }; do
    map+=("$k : $(server_addr "$i")")
    slices+=("$(slice "$i") : $(server_addr "$i")")
    k=$((k + 1))
  done
  local IFS=,
  if [[ $SPREAD == numgen ]]; then pick="numgen inc mod $k"; else pick="jhash ip saddr . tcp sport mod $k"; fi
  echo "iifname \"$IF_TO_CLIENT\" ip daddr $VIP tcp dport $FTP_PORT counter dnat to $pick map { ${map[*]} } comment \"control: spread over $list\""
  if [[ $VARIANT == slices ]]; then
    echo "iifname \"$IF_TO_CLIENT\" ip daddr $VIP tcp dport $PASV_MIN-$PASV_MAX counter dnat to tcp dport map { ${slices[*]} } comment \"passive slices\""
  fi
}

nft_setup() {
  local helper_rule="# no helper: the servers announce VIP, the slices are forwarded by port"
  if [[ $VARIANT == helper ]]; then
    # Matched on the port alone: by now (priority filter) DNAT has rewritten the destination.
    helper_rule="iifname \"$IF_TO_CLIENT\" tcp dport $FTP_PORT ct state new counter ct helper set \"$HELPER_NAME\" comment \"FTP control: attach helper\""
  fi
  in_ns "$NS_LB" nft -f - <<EOF
table ip $NFT_TABLE {
$(nft_ftp_helper "$helper_rule")
    chain forward {
        type filter hook forward priority filter; policy drop;
        ct state established,related counter accept
        iifname "$IF_TO_CLIENT" oifname "$BRIDGE" ct status dnat ct state new counter accept comment "balanced to a server"
        iifname "$BRIDGE" oifname "$IF_TO_CLIENT" ct state new counter accept comment "a server opens outwards (active mode)"
        counter comment "dropped: unsolicited or invalid"
    }
    chain balance {
        type nat hook prerouting priority dstnat; policy accept;
$(balance_rules "$BACKENDS" | sed 's/^/        /')
    }
    chain nat-postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        ip saddr $SERVER_NET.0/24 oifname "$IF_TO_CLIENT" counter snat to $VIP comment "servers' own connections leave as VIP"
    }
}
EOF
}

# ---- subcommands -------------------------------------------------------------------
cmd_down() {
  remove_lab $(all_ns)
}

cmd_up() {
  need_root
  while [[ $# -gt 0 ]]; do
    case $1 in
      --variant) VARIANT=${2:?}; shift 2 ;;
      --spread) SPREAD=${2:?}; shift 2 ;;
      --servers) SERVERS=${2:?}; shift 2 ;;
      --ftp-port) FTP_PORT=${2:?}; shift 2 ;;
      --pasv-range) PASV_RANGE=${2:?}; shift 2 ;;
      --client-net) CLIENT_NET=${2:?}; shift 2 ;;
      --server-net) SERVER_NET=${2:?}; shift 2 ;;
      *) die "up: unknown option '$1'" ;;
    esac
  done
  derive
  check_config
  need_cmd ip iproute2
  need_cmd nft nftables
  BACKENDS=$(seq -s, 1 "$SERVERS")

  local ns i
  start_lab $(all_ns)

  # veth pairs created directly inside the namespaces: no host-side names.
  ip -n "$NS_CLIENT" link add "$IF_CLIENT" type veth peer name "$IF_TO_CLIENT" netns "$NS_LB"
  ip -n "$NS_CLIENT" addr add "$CLIENT_ADDR/24" dev "$IF_CLIENT"
  ip -n "$NS_LB" addr add "$LB_CLIENT_SIDE/24" dev "$IF_TO_CLIENT"
  ip -n "$NS_LB" addr add "$VIP/32" dev "$IF_TO_CLIENT"   # keepalived's virtual_ipaddress
  ip -n "$NS_CLIENT" link set "$IF_CLIENT" up
  ip -n "$NS_LB" link set "$IF_TO_CLIENT" up
  # The client has only its own /24 (VIP is on it): no route to the servers.
  # Active mode opens a listener per session: a wide ephemeral range.
  in_ns "$NS_CLIENT" sysctl -qw net.ipv4.ip_local_port_range="10000 65000"

  ip -n "$NS_LB" link add "$BRIDGE" type bridge
  ip -n "$NS_LB" addr add "$LB_SERVER_SIDE/24" dev "$BRIDGE"
  ip -n "$NS_LB" link set "$BRIDGE" up
  for ((i = 1; i <= SERVERS; i++)); do
    ns=$(ns_srv "$i")
    ip -n "$ns" link add "$IF_SERVER" type veth peer name "to-srv$i" netns "$NS_LB"
    ip -n "$NS_LB" link set "to-srv$i" master "$BRIDGE" up
    ip -n "$ns" addr add "$(server_addr "$i")/24" dev "$IF_SERVER"
    ip -n "$ns" link set "$IF_SERVER" up
    ip -n "$ns" route add default via "$LB_SERVER_SIDE"
  done
  in_ns "$NS_LB" sysctl -qw net.ipv4.ip_forward=1
  nft_setup
  trap - EXIT

  echo "lab $PREFIX up [variant $VARIANT, spread $SPREAD, $SERVERS servers]"
  echo "  client  $NS_CLIENT  $CLIENT_ADDR"
  echo "  lb      $NS_LB      VIP $VIP, $LB_CLIENT_SIDE (client side) | $LB_SERVER_SIDE (servers' side)"
  for ((i = 1; i <= SERVERS; i++)); do
    if [[ $VARIANT == slices ]]; then
      echo "  srv$i    $(ns_srv "$i")  $(server_addr "$i")  run: --pasv-address $VIP --pasv-ports $(slice "$i")"
    else
      echo "  srv$i    $(ns_srv "$i")  $(server_addr "$i")  run: --pasv-ports $PASV_RANGE (any range: the helper maps it)"
    fi
  done
  echo "clients dial $VIP:$FTP_PORT"
  return 0
}

cmd_env() {
  local i
  cat <<EOF
LAB_PREFIX=$PREFIX
LAB_VARIANT=$VARIANT
LAB_SPREAD=$SPREAD
LAB_SERVERS=$SERVERS
LAB_NS_CLIENT=$NS_CLIENT
LAB_NS_LB=$NS_LB
LAB_CLIENT_ADDR=$CLIENT_ADDR
LAB_VIP=$VIP
LAB_FTP_PORT=$FTP_PORT
LAB_PASV_RANGE=$PASV_RANGE
LAB_BACKENDS=$BACKENDS
EOF
  for ((i = 1; i <= SERVERS; i++)); do
    echo "LAB_NS_SRV$i=$(ns_srv "$i")"
    echo "LAB_SRV${i}_ADDR=$(server_addr "$i")"
    echo "LAB_SRV${i}_SLICE=$(slice "$i")"
  done
}

cmd_backends() {
  need_root
  ns_exists "$NS_LB" || die "lab $PREFIX is not up"
  local list
  list=$(check_backends "${1:-}")
  # One transaction: a new control connection sees the old rules or the new ones.
  in_ns "$NS_LB" nft -f - <<EOF
flush chain ip $NFT_TABLE balance
$(balance_rules "$list" | sed "s/^/add rule ip $NFT_TABLE balance /")
EOF
  BACKENDS=$list
  save_state
  info "balancing over server(s) $list"
}

cmd_status() {
  need_root
  local ns
  if ! ns_exists "$NS_LB"; then echo "lab $PREFIX: down"; return 0; fi
  echo "== lab $PREFIX: variant $VARIANT, spread $SPREAD, backends $BACKENDS of $SERVERS"
  for ns in $(all_ns); do
    echo "-- $ns"
    ip -n "$ns" -br addr show | grep -v '^lo ' | sed 's/^/   /' || true
  done
  echo "== rules in $NS_LB (with counters)"
  in_ns "$NS_LB" nft list table ip "$NFT_TABLE"
  echo "== conntrack in $NS_LB: $(in_ns "$NS_LB" cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo '?') entries"
  echo "== processes"
  for ns in $(all_ns); do echo "   $ns: $(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"; done
}

cmd_gc() {
  need_root
  gc_labs mxlb "$STATE_DIR"
}

# ---- main ------------------------------------------------------------------------
usage() { sed -n '2,33p' "$0"; }
[[ $# -ge 1 ]] || { usage >&2; exit 2; }
cmd=$1; shift
if [[ $cmd != up ]]; then load_state || true; fi
derive
case $cmd in
  up)       cmd_up "$@" ;;
  down)     cmd_down ;;
  status)   cmd_status ;;
  env)      cmd_env ;;
  backends) cmd_backends "$@" ;;
  gc)       cmd_gc ;;
  client)   exec_in_ns "$NS_CLIENT" "$PREFIX" "$@" ;;
  lb)       exec_in_ns "$NS_LB" "$PREFIX" "$@" ;;
  srv)
    [[ ${1:-} =~ ^[1-9]$ ]] && (( $1 <= SERVERS )) || die "srv: a server number 1-$SERVERS"
    n=$1; shift
    exec_in_ns "$(ns_srv "$n")" "$PREFIX" "$@" ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
