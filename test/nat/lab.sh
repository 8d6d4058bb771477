#!/usr/bin/env bash
# lab.sh - FTP through a real Linux NAT, built out of three network namespaces.
#
# Mode snat (default): the client sits behind the NAT (a home/office router).
#
#   <p>-client  C.2 --veth-- C.1 [to-client] <p>-nat [to-server] S.1 --veth-- S.2  <p>-server
#                            masquerade C.0/24 -> S.1, FTP helper on the control port,
#                            inbound only replies and helper-expected connections
#   clients connect to S.2; the server sees every client as S.1.
#
# Mode dnat: the server sits behind the NAT, reachable through a port forward.
#
#   <p>-client  C.2 --veth-- C.1 [to-client] <p>-nat [to-server] S.1 --veth-- S.2  <p>-server
#   (public side)            C.1:ctl and C.1:MIN-MAX are forwarded (DNAT) to S.2;
#                            the server's own outbound connections are masqueraded to C.1
#   clients connect to C.1 (the "public" address); run the server with
#   --pasv-address C.1 --pasv-ports MIN-MAX.
#
# The namespaces have no link to the host's network and no route out of the
# lab: nothing sent inside it can leave it. Needs root, iproute2, and nft
# (default) or iptables. See docs/nat-guide.md.
#
# Usage: lab.sh [-p PREFIX] COMMAND [ARGS]
#   up [--mode snat|dnat] [--fw nft|iptables] [--no-helper] [--ftp-port N[,N...]]
#      [--forward MIN-MAX] [--client-net A.B.C] [--server-net A.B.C]
#   down | status | env | helper on|off | gc
#   client|nat|server [CMD [ARGS...]]
set -euo pipefail

PROG=${0##*/}
# shellcheck source=../helpers/netns.sh
source "$(dirname "${BASH_SOURCE[0]}")/../helpers/netns.sh"

# The running lab's settings: /run/muxftpd-nat-lab/PREFIX.env, written by `up`.
take_prefix "${MXNAT_PREFIX:-mxnat}" /run/muxftpd-nat-lab "$@"
(( PREFIX_TAKEN )) && shift 2

NS_CLIENT=$PREFIX-client
NS_NAT=$PREFIX-nat
NS_SERVER=$PREFIX-server
ALL_NS=("$NS_CLIENT" "$NS_NAT" "$NS_SERVER")

IF_CLIENT=eth0          # in $NS_CLIENT
IF_SERVER=eth0          # in $NS_SERVER
IF_TO_CLIENT=to-client  # in $NS_NAT, the client side
IF_TO_SERVER=to-server  # in $NS_NAT, the server side

NFT_TABLE=mxnat         # nft table (family ip) in $NS_NAT

# Defaults; `up` takes options, every other command reads the state file.
MODE=snat
LAB_FW=nft
HELPER=1
FTP_PORT=2121
FORWARD=40000-40999
CLIENT_NET=10.231.0
SERVER_NET=10.232.0
STATE_KEYS=(MODE LAB_FW HELPER FTP_PORT FORWARD CLIENT_NET SERVER_NET)

derive() {
  CLIENT_ADDR=$CLIENT_NET.2
  NAT_CLIENT_SIDE=$CLIENT_NET.1
  NAT_SERVER_SIDE=$SERVER_NET.1
  SERVER_ADDR=$SERVER_NET.2
  FWD_MIN=${FORWARD%-*}
  FWD_MAX=${FORWARD#*-}
  if [[ $MODE == snat ]]; then
    CONNECT_ADDR=$SERVER_ADDR        # what clients dial
    SEEN_AS=$NAT_SERVER_SIDE         # the client address the server sees
    PUBLIC_ADDR=$NAT_SERVER_SIDE     # the NAT's outside address
  else
    CONNECT_ADDR=$NAT_CLIENT_SIDE
    SEEN_AS=$CLIENT_ADDR
    PUBLIC_ADDR=$NAT_CLIENT_SIDE
  fi
}

check_config() {
  check_private_net "$CLIENT_NET" "$SERVER_NET"
  [[ $CLIENT_NET != "$SERVER_NET" ]] || die "--client-net and --server-net must differ"
  [[ $MODE == snat || $MODE == dnat ]] || die "--mode must be snat or dnat"
  [[ $LAB_FW == nft || $LAB_FW == iptables ]] || die "--fw must be nft or iptables"
  local port
  [[ $FTP_PORT =~ ^[0-9]{1,5}(,[0-9]{1,5}){0,7}$ ]] || die "--ftp-port must be a port or a list like 21,2121"
  for port in ${FTP_PORT//,/ }; do
    (( port >= 1 && port <= 65535 )) || die "--ftp-port: $port is not a TCP port (1-65535)"
  done
  [[ $FORWARD =~ ^[0-9]{1,5}-[0-9]{1,5}$ ]] || die "--forward must be MIN-MAX"
  (( FWD_MIN >= 1024 && FWD_MIN <= FWD_MAX && FWD_MAX <= 65535 )) \
    || die "--forward: 1024 <= MIN <= MAX <= 65535"
}

# ---- firewall: nft ---------------------------------------------------------------
nft_helper_rule() {
  echo "iifname \"$IF_TO_CLIENT\" tcp dport { ${FTP_PORT//,/, } } ct state new counter ct helper set \"$HELPER_NAME\" comment \"FTP control: attach helper\""
}

nft_setup() {
  local helper_rule="# helper off" fwd dnat_rule="" masq
  [[ $HELPER == 1 ]] && helper_rule=$(nft_helper_rule)
  if [[ $MODE == snat ]]; then
    fwd="iifname \"$IF_TO_CLIENT\" oifname \"$IF_TO_SERVER\" ct state new counter accept comment \"inside opens outwards\""
    masq="ip saddr $CLIENT_NET.0/24 oifname \"$IF_TO_SERVER\" counter masquerade"
  else
    fwd="iifname \"$IF_TO_SERVER\" oifname \"$IF_TO_CLIENT\" ct state new counter accept comment \"server opens outwards (active mode)\"
        iifname \"$IF_TO_CLIENT\" oifname \"$IF_TO_SERVER\" ct status dnat ct state new counter accept comment \"port forwards\""
    dnat_rule="iifname \"$IF_TO_CLIENT\" ip daddr $NAT_CLIENT_SIDE tcp dport { ${FTP_PORT//,/, }, $FWD_MIN-$FWD_MAX } counter dnat to $SERVER_ADDR comment \"port forward: control + passive range\""
    masq="ip saddr $SERVER_NET.0/24 oifname \"$IF_TO_CLIENT\" counter masquerade"
  fi
  in_ns "$NS_NAT" nft -f - <<EOF
table ip $NFT_TABLE {
$(nft_ftp_helper "$helper_rule")
    chain forward {
        type filter hook forward priority filter; policy drop;
        ct state established,related counter accept
        $fwd
        counter comment "dropped: unsolicited or invalid"
    }
    chain nat-prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        $dnat_rule
    }
    chain nat-postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        $masq
    }
}
EOF
}

nft_helper() {  # on|off
  in_ns "$NS_NAT" nft flush chain ip "$NFT_TABLE" helpers
  [[ $1 == on ]] && in_ns "$NS_NAT" nft add rule ip "$NFT_TABLE" helpers "$(nft_helper_rule)"
  return 0
}

# ---- firewall: iptables ------------------------------------------------------------
ipt() { in_ns "$NS_NAT" iptables -w "$@"; }

# The raw table runs before conntrack: the CT target hands conntrack a
# template, used when the entry is created (so no state match here).
IPT_HELPER=()
ipt_helper_args() { IPT_HELPER=(PREROUTING -i "$IF_TO_CLIENT" -p tcp -m multiport --dports "$FTP_PORT" -j CT --helper ftp); }

ipt_setup() {
  ipt_helper_args
  [[ $HELPER == 1 ]] && ipt -t raw -A "${IPT_HELPER[@]}"
  ipt -P FORWARD DROP
  ipt -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  if [[ $MODE == snat ]]; then
    ipt -A FORWARD -i "$IF_TO_CLIENT" -o "$IF_TO_SERVER" -m conntrack --ctstate NEW -j ACCEPT
    ipt -t nat -A POSTROUTING -s "$CLIENT_NET.0/24" -o "$IF_TO_SERVER" -j MASQUERADE
  else
    ipt -A FORWARD -i "$IF_TO_SERVER" -o "$IF_TO_CLIENT" -m conntrack --ctstate NEW -j ACCEPT
    ipt -A FORWARD -i "$IF_TO_CLIENT" -o "$IF_TO_SERVER" -m conntrack --ctstate NEW -m conntrack --ctstate DNAT -j ACCEPT
    ipt -t nat -A PREROUTING -i "$IF_TO_CLIENT" -d "$NAT_CLIENT_SIDE" -p tcp -m multiport \
      --dports "$FTP_PORT,$FWD_MIN:$FWD_MAX" -j DNAT --to-destination "$SERVER_ADDR"
    ipt -t nat -A POSTROUTING -s "$SERVER_NET.0/24" -o "$IF_TO_CLIENT" -j MASQUERADE
  fi
}

ipt_helper() {  # on|off
  ipt_helper_args
  local n=0
  while ipt -t raw -C "${IPT_HELPER[@]}" 2>/dev/null && (( n++ < 10 )); do ipt -t raw -D "${IPT_HELPER[@]}"; done
  [[ $1 == on ]] && ipt -t raw -A "${IPT_HELPER[@]}"
  return 0
}

# ---- subcommands -------------------------------------------------------------------
cmd_down() { remove_lab "$NS_CLIENT" "$NS_SERVER" "$NS_NAT"; }

cmd_up() {
  need_root
  while [[ $# -gt 0 ]]; do
    case $1 in
      --mode) MODE=${2:?}; shift 2 ;;
      --fw) LAB_FW=${2:?}; shift 2 ;;
      --no-helper) HELPER=0; shift ;;
      --ftp-port) FTP_PORT=${2:?}; shift 2 ;;
      --forward) FORWARD=${2:?}; shift 2 ;;
      --client-net) CLIENT_NET=${2:?}; shift 2 ;;
      --server-net) SERVER_NET=${2:?}; shift 2 ;;
      *) die "up: unknown option '$1'" ;;
    esac
  done
  derive
  check_config
  need_cmd ip iproute2
  if [[ $LAB_FW == nft ]]; then need_cmd nft nftables; else need_cmd iptables iptables; fi

  start_lab "${ALL_NS[@]}"

  # veth pairs created directly inside the namespaces: no host-side names.
  ip -n "$NS_CLIENT" link add "$IF_CLIENT" type veth peer name "$IF_TO_CLIENT" netns "$NS_NAT"
  ip -n "$NS_SERVER" link add "$IF_SERVER" type veth peer name "$IF_TO_SERVER" netns "$NS_NAT"
  ip -n "$NS_CLIENT" addr add "$CLIENT_ADDR/24" dev "$IF_CLIENT"
  ip -n "$NS_NAT"    addr add "$NAT_CLIENT_SIDE/24" dev "$IF_TO_CLIENT"
  ip -n "$NS_NAT"    addr add "$NAT_SERVER_SIDE/24" dev "$IF_TO_SERVER"
  ip -n "$NS_SERVER" addr add "$SERVER_ADDR/24" dev "$IF_SERVER"
  ip -n "$NS_CLIENT" link set "$IF_CLIENT" up
  ip -n "$NS_NAT"    link set "$IF_TO_CLIENT" up
  ip -n "$NS_NAT"    link set "$IF_TO_SERVER" up
  ip -n "$NS_SERVER" link set "$IF_SERVER" up

  # The server always routes via the NAT. In snat mode so does the client;
  # in dnat mode the client is on the "public" side and has only its own /24:
  # a private server address leaked in a PASV reply is unreachable at once
  # (ENETUNREACH) instead of timing out. The NAT has no default route.
  ip -n "$NS_SERVER" route add default via "$NAT_SERVER_SIDE"
  [[ $MODE == snat ]] && ip -n "$NS_CLIENT" route add default via "$NAT_CLIENT_SIDE"
  in_ns "$NS_NAT" sysctl -qw net.ipv4.ip_forward=1

  if [[ $LAB_FW == nft ]]; then nft_setup; else ipt_setup; fi
  trap - EXIT

  local helper_text="ON (tcp/$FTP_PORT)"
  [[ $HELPER == 1 ]] || helper_text=OFF
  echo "lab $PREFIX up [mode $MODE, firewall $LAB_FW, FTP helper $helper_text]"
  echo "  client  $NS_CLIENT  $CLIENT_ADDR"
  echo "  nat     $NS_NAT     $NAT_CLIENT_SIDE (client side) | $NAT_SERVER_SIDE (server side)"
  echo "  server  $NS_SERVER  $SERVER_ADDR"
  echo "clients dial $CONNECT_ADDR:${FTP_PORT%%,*}; the server sees them as $SEEN_AS"
  [[ $MODE == dnat ]] && echo "forwarded: $PUBLIC_ADDR tcp/$FTP_PORT and tcp/$FORWARD -> $SERVER_ADDR (run the server with --pasv-address $PUBLIC_ADDR --pasv-ports <within $FORWARD>)"
  return 0
}

cmd_env() {
  cat <<EOF
LAB_PREFIX=$PREFIX
LAB_MODE=$MODE
LAB_FW=$LAB_FW
LAB_NS_CLIENT=$NS_CLIENT
LAB_NS_NAT=$NS_NAT
LAB_NS_SERVER=$NS_SERVER
LAB_CLIENT_ADDR=$CLIENT_ADDR
LAB_SERVER_ADDR=$SERVER_ADDR
LAB_CONNECT_ADDR=$CONNECT_ADDR
LAB_SEEN_AS=$SEEN_AS
LAB_PUBLIC_ADDR=$PUBLIC_ADDR
LAB_FTP_PORT=${FTP_PORT%%,*}
LAB_FTP_PORTS=$FTP_PORT
LAB_FORWARD=$FORWARD
EOF
}

cmd_helper() {
  need_root
  [[ ${1:-} == on || ${1:-} == off ]] || die "usage: $PROG helper on|off"
  ns_exists "$NS_NAT" || die "lab $PREFIX is not up"
  if [[ $LAB_FW == nft ]]; then nft_helper "$1"; else ipt_helper "$1"; fi
  HELPER=$([[ $1 == on ]] && echo 1 || echo 0)
  save_state
  info "FTP helper $1 for NEW control connections to tcp/$FTP_PORT"
}

cmd_status() {
  need_root
  local ns
  if ! ns_exists "$NS_NAT"; then echo "lab $PREFIX: down"; return 0; fi
  echo "== lab $PREFIX: mode $MODE, firewall $LAB_FW"
  for ns in "${ALL_NS[@]}"; do
    echo "-- $ns"
    ip -n "$ns" -br addr show | grep -v '^lo ' | sed 's/^/   /' || true
    ip -n "$ns" route show | sed 's/^/   route: /'
  done
  echo "== rules in $NS_NAT (with counters)"
  if [[ $LAB_FW == nft ]]; then
    in_ns "$NS_NAT" nft list table ip "$NFT_TABLE"
  else
    in_ns "$NS_NAT" iptables-save -c
  fi
  local d=/proc/sys/net/netfilter
  echo "== conntrack in $NS_NAT"
  echo "   entries: $(in_ns "$NS_NAT" cat $d/nf_conntrack_count 2>/dev/null || echo '?')" \
       "(host-wide nf_conntrack_max $(cat $d/nf_conntrack_max 2>/dev/null || echo '?'))"
  if command -v conntrack >/dev/null 2>&1; then
    local list
    list=$(in_ns "$NS_NAT" conntrack -L 2>/dev/null || true)
    echo "   tcp by state: $(awk '$1=="tcp"{s[$4]++} END{for(k in s) printf "%s=%d ", k, s[k]}' <<<"$list")"
    echo "   with helper=ftp: $(grep -c 'helper=ftp' <<<"$list" || true)"
    echo "   expectations: $(in_ns "$NS_NAT" conntrack -L expect 2>/dev/null | grep -c . || true)"
    echo "   stats: $(in_ns "$NS_NAT" conntrack -S 2>/dev/null | awk '{for(i=2;i<=NF;i++){split($i,a,"="); t[a[1]]+=a[2]}} END{printf "insert_failed=%d drop=%d early_drop=%d error=%d", t["insert_failed"], t["drop"], t["early_drop"], t["error"]}')"
  else
    echo "   (apt-get install conntrack for entry details)"
  fi
  echo "== processes"
  for ns in "${ALL_NS[@]}"; do
    echo "   $ns: $(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
  done
}

cmd_gc() {
  need_root
  gc_labs mxnat "$STATE_DIR"
}

# ---- main ------------------------------------------------------------------------
[[ $# -ge 1 ]] || { sed -n '2,27p' "$0" >&2; exit 2; }
cmd=$1; shift
if [[ $cmd != up ]]; then load_state || true; fi
derive
case $cmd in
  up)     cmd_up "$@" ;;
  down)   cmd_down ;;
  status) cmd_status ;;
  env)    cmd_env ;;
  helper) cmd_helper "$@" ;;
  gc)     cmd_gc ;;
  client) exec_in_ns "$NS_CLIENT" "$PREFIX" "$@" ;;
  server) exec_in_ns "$NS_SERVER" "$PREFIX" "$@" ;;
  nat)    exec_in_ns "$NS_NAT" "$PREFIX" "$@" ;;
  -h|--help|help) sed -n '2,27p' "$0" ;;
  *) sed -n '2,27p' "$0" >&2; exit 2 ;;
esac
