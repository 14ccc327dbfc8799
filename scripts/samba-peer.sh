#!/usr/bin/env bash
# Runs Samba's smbd as a private reference peer next to EdgeShare: the benchmarks compare against it
# side by side, and the conformance tests use it for baselines (what Samba itself passes in smbtorture).
# It binds to 127.0.0.1 only, on a high port, keeps every file it writes under DIR, and touches no
# system service. Needs root (smbd, useradd) and Debian's samba/smbclient packages.
#
#   scripts/samba-peer.sh start DIR PORT USER PASSWORD SHAREPATH
#       Writes DIR/smb.conf (share "share" at SHAREPATH, read-write, SMB2_02 and newer), creates the Unix
#       user if missing, sets its Samba password, starts smbd (and samba-dcerpcd, which share listing
#       needs) in their own sessions, records them in DIR/pids and waits until PORT accepts connections.
#       Starting a peer that is already running from DIR is a no-op.
#   scripts/samba-peer.sh stop DIR
#       Stops exactly the processes recorded in DIR/pids (and their process groups, which this script
#       created with setsid) and waits for them to exit. Stopping a stopped peer is a no-op.
#
# Optional environment: SAMBA_PEER_GLOBAL_OPTIONS / SAMBA_PEER_SHARE_OPTIONS, extra smb.conf lines
# (newline-separated) for [global] / [share], e.g. SAMBA_PEER_GLOBAL_OPTIONS='server smb encrypt = required'.
# VFS modules other than the built-in default/posixacl (acl_xattr, streams_xattr, ...) need Debian's
# samba-vfs-modules; a missing one only shows up as NT_STATUS_BAD_NETWORK_NAME on tree connect.
# SAMBA_PEER_WAIT_SECONDS (default 20) bounds the start-up and shut-down waits.
set -Eeuo pipefail

prog=$(basename "$0")
die() { echo "$prog: error: $*" >&2; exit 1; }
trap 'echo "$prog: error: line $LINENO: \`$BASH_COMMAND\` failed" >&2' ERR
usage() {
  echo "usage: $prog start DIR PORT USER PASSWORD SHAREPATH" >&2
  echo "       $prog stop DIR" >&2
  exit 2
}

SMBD=${SMBD:-$(command -v smbd || echo /usr/sbin/smbd)}
DCERPCD=${DCERPCD:-/usr/libexec/samba/samba-dcerpcd}
WAIT_SECONDS=${SAMBA_PEER_WAIT_SECONDS:-20}

# True when PID is alive and was started with DIR's smb.conf (guards against reused pids).
ours() {
  local pid=$1 conf=$2
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$conf"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Lines of DIR/pids: "NAME PID setsid|plain".
stop_peer() {
  local dir=$1 conf=$1/smb.conf pidfile=$1/pids name pid how alive i
  [[ -f $pidfile ]] || { echo "$prog: no $pidfile, nothing to stop"; return 0; }
  local -a pids=() groups=()
  while read -r name pid how; do
    [[ $pid =~ ^[0-9]+$ ]] || continue
    if ours "$pid" "$conf"; then
      pids+=("$pid")
      # Only a group this script created (setsid made PID its leader) and that PID still leads.
      if [[ $how == setsid && $(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ') == "$pid" ]]; then
        groups+=("$pid")
      fi
      kill -TERM "$pid" 2>/dev/null || true
    else
      echo "$prog: $name (pid $pid) is not running"
    fi
  done <"$pidfile"
  # smbd and samba-dcerpcd take their children down on SIGTERM; the groups catch stragglers.
  for ((i = 0; i < 10 * WAIT_SECONDS; i++)); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    for pid in "${groups[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    if ((i == 50)); then # 5 s: ask the remaining group members too
      for pid in "${groups[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    fi
    sleep 0.1
  done
  if ((alive)); then
    echo "$prog: still running after ${WAIT_SECONDS}s, sending SIGKILL" >&2
    for pid in "${pids[@]}"; do ours "$pid" "$conf" && kill -KILL "$pid" 2>/dev/null || true; done
    for pid in "${groups[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
    sleep 0.5
  fi
  rm -f "$pidfile"
  echo "$prog: stopped peer in $dir"
}

start_peer() {
  local dir=$1 port=$2 user=$3 password=$4 share=$5
  [[ $port =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) || die "PORT must be a TCP port number, got '$port'"
  [[ $user =~ ^[a-z_][a-z0-9_-]*$ ]] || die "USER must be a plain lower-case Unix user name, got '$user'"
  [[ -n $password ]] || die "PASSWORD must not be empty"
  ((EUID == 0)) || die "must run as root (smbd, useradd, smbpasswd)"
  [[ -x $SMBD ]] || die "smbd not found (apt-get install samba)"
  command -v smbpasswd >/dev/null && command -v testparm >/dev/null ||
    die "smbpasswd/testparm not found (apt-get install samba-common-bin)"
  command -v setsid >/dev/null || die "setsid not found (util-linux)"

  mkdir -p "$dir" || die "cannot create $dir"
  dir=$(cd "$dir" && pwd)
  mkdir -p "$share" || die "cannot create $share"
  share=$(cd "$share" && pwd)
  local conf=$dir/smb.conf pidfile=$dir/pids

  mkdir -p "$dir"/{private,lock,state,cache,pid,ncalrpc,log}
  chmod 0700 "$dir/private"
  chmod 0755 "$dir" "$dir"/{lock,state,cache,pid,ncalrpc,log}

  cat >"$conf.new" <<EOF
# Written by scripts/samba-peer.sh: a private reference smbd on 127.0.0.1:$port.
[global]
  server role = standalone server
  workgroup = WORKGROUP
  netbios name = SAMBAPEER
  interfaces = lo
  bind interfaces only = yes
  smb ports = $port
  disable netbios = yes
  server min protocol = SMB2_02
  private dir = $dir/private
  lock directory = $dir/lock
  state directory = $dir/state
  cache directory = $dir/cache
  pid directory = $dir/pid
  ncalrpc dir = $dir/ncalrpc
  log file = $dir/log/samba.log
  max log size = 0
  passdb backend = tdbsam:$dir/private/passdb.tdb
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  rpc start on demand helpers = no
${SAMBA_PEER_GLOBAL_OPTIONS:-}

[share]
  path = $share
  read only = no
${SAMBA_PEER_SHARE_OPTIONS:-}
EOF
  # testparm exits 0 on unknown parameters (it only ignores them): treat those as errors too.
  if ! testparm -s "$conf.new" >/dev/null 2>"$dir/log/testparm.err" ||
    grep -qiE 'unknown parameter|invalid value' "$dir/log/testparm.err"; then
    die "testparm rejects $conf.new: $(grep -iE 'unknown|invalid|error' "$dir/log/testparm.err" | head -n 3 | tr '\n' ' ')"
  fi

  if ! id -u "$user" >/dev/null 2>&1; then
    useradd -M -s /usr/sbin/nologin "$user" || die "useradd $user failed"
  fi
  printf '%s\n%s\n' "$password" "$password" |
    smbpasswd -c "$conf.new" -a -s "$user" >"$dir/log/smbpasswd.out" 2>&1 ||
    die "smbpasswd -a $user failed: $(tail -n 3 "$dir/log/smbpasswd.out" | tr '\n' ' ')"

  # Idempotent: a peer already running from DIR with the same configuration stays as it is.
  if [[ -f $pidfile ]]; then
    local name pid how all=1
    while read -r name pid how; do ours "$pid" "$conf" || all=0; done <"$pidfile"
    if ((all)) && port_open "$port" && cmp -s "$conf.new" "$conf"; then
      rm -f "$conf.new"
      echo "$prog: peer already running from $dir on port $port"
      return 0
    fi
    echo "$prog: the peer recorded in $pidfile is not running with this configuration; restarting it"
    stop_peer "$dir"
  fi
  port_open "$port" && die "port $port on 127.0.0.1 is already in use"
  mv "$conf.new" "$conf"

  chown "$user:" "$share" || die "cannot chown $share to $user"
  chmod u+rwx "$share"
  if command -v runuser >/dev/null && ! runuser -u "$user" -- test -w "$share" -a -x "$share"; then
    die "$user cannot write $share (check the permissions of its parent directories)"
  fi

  : >"$pidfile"
  # setsid: smbd kills its process group on exit, so it must not share the caller's. A
  # non-interactive bash's background child is no group leader, so setsid execs in place and $!
  # is the daemon itself.
  setsid "$SMBD" -s "$conf" -F --no-process-group </dev/null >>"$dir/log/smbd.stdout" 2>&1 &
  local smbd_pid=$!
  echo "smbd $smbd_pid setsid" >>"$pidfile"
  # smbd answers share listing (srvsvc) only through samba-dcerpcd, which "rpc start on demand
  # helpers = no" forbids it to start itself: without it `smbclient -L` lists no shares at all.
  local dcerpcd_pid=""
  if [[ -x $DCERPCD ]]; then
    setsid "$DCERPCD" -s "$conf" -F --no-process-group --libexec-rpcds </dev/null \
      >>"$dir/log/samba-dcerpcd.stdout" 2>&1 &
    dcerpcd_pid=$!
    echo "samba-dcerpcd $dcerpcd_pid setsid" >>"$pidfile"
  else
    echo "$prog: warning: $DCERPCD missing (package samba), share listing will not work" >&2
  fi

  # Ready: smbd accepts connections and samba-dcerpcd serves the srvsvc named pipe.
  local i
  for ((i = 0; i < 10 * WAIT_SECONDS; i++)); do
    if ! kill -0 "$smbd_pid" 2>/dev/null; then
      stop_peer "$dir" >/dev/null
      die "smbd exited during startup; see $dir/log/ ($(tail -n 3 "$dir/log/samba.log" 2>/dev/null | tr '\n' ' '))"
    fi
    if [[ -n $dcerpcd_pid ]] && ! kill -0 "$dcerpcd_pid" 2>/dev/null; then
      stop_peer "$dir" >/dev/null
      die "samba-dcerpcd exited during startup; see $dir/log/ ($(tail -n 3 "$dir/log/samba.log" 2>/dev/null | tr '\n' ' '))"
    fi
    if port_open "$port" && { [[ -z $dcerpcd_pid ]] || [[ -S $dir/ncalrpc/np/srvsvc ]]; }; then
      echo "$prog: smbd (pid $smbd_pid) serving //127.0.0.1/share on port $port from $share"
      return 0
    fi
    sleep 0.1
  done
  stop_peer "$dir" >/dev/null
  die "smbd not ready on port $port within ${WAIT_SECONDS}s; see $dir/log/"
}

case ${1:-} in
start) (($# == 6)) || usage; start_peer "$2" "$3" "$4" "$5" "$6" ;;
stop) (($# == 2)) || usage; stop_peer "$2" ;;
*) usage ;;
esac
