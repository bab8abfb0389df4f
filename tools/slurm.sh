#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the Slurm tests of lpc_book.jobs and for trying the Slurm launcher.
#
#   tools/slurm.sh up       install slurm-wlm and munge if missing (apt-get: root only), write a minimal slurm.conf,
#                           start munged, slurmctld and slurmd, and wait until the node takes jobs (idempotent)
#   tools/slurm.sh down     stop the three daemons
#   tools/slurm.sh status   say whether the cluster answers
#
# `make slurm-up` / `make slurm-down` call it. It runs as root (as CI does, on a disposable machine). State, spool,
# pid and log files live in $LPC_BOOK_SLURM_DIR (default /tmp/lpc_book_slurm). /etc/slurm/slurm.conf is written
# only when it is absent or was written by this script, so a real cluster's configuration is never touched.
set -euo pipefail
DIR=${LPC_BOOK_SLURM_DIR:-/tmp/lpc_book_slurm}
CONF=/etc/slurm/slurm.conf
MARK="# lpc_book one-node test cluster, written by tools/slurm.sh"
HOST=$(hostname -s)

die() { echo "tools/slurm.sh: $*" >&2; exit 1; }

answers() { timeout 10 sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; }

install_packages() {
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
        && command -v munged >/dev/null && return
    [ "$(id -u)" = 0 ] || die "slurm-wlm and munge are not installed and installing them needs root (apt-get)"
    command -v apt-get >/dev/null || die "slurm-wlm and munge are not installed and there is no apt-get here"
    echo "installing slurm-wlm and munge (apt-get)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
}

write_conf() {
    if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
        die "$CONF exists and was not written by this script; refusing to replace a real cluster's configuration"
    fi
    mkdir -p "$DIR"/{state,spool,log} /etc/slurm
    local node
    node=$(slurmd -C | head -1)  # NodeName=<host> CPUs=.. Boards=.. SocketsPerBoard=.. CoresPerSocket=.. RealMemory=..
    cat > "$CONF.tmp" <<EOF
$MARK
ClusterName=lpcbook
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=cred_expire=10
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobRequeue=1
MinJobAge=600
SchedulerParameters=sched_interval=2,bf_interval=2
KillWait=5
SlurmctldTimeout=30
SlurmdTimeout=30
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    if cmp -s "$CONF.tmp" "$CONF"; then rm "$CONF.tmp"; return; fi
    mv "$CONF.tmp" "$CONF"
    stop_slurm  # daemons started with another configuration
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_munge() {
    if timeout 5 munge -n </dev/null 2>/dev/null | timeout 5 unmunge >/dev/null 2>&1; then return; fi
    [ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
    install -d -o munge -g munge -m 0755 /run/munge
    runuser -u munge -- /usr/sbin/munged
}

up() {
    install_packages
    write_conf
    start_munge
    alive "$DIR/slurmctld.pid" || slurmctld
    alive "$DIR/slurmd.pid" || slurmd
    for _ in $(seq 60); do
        if answers; then echo "slurm is up: $(sinfo -h -o '%P %D node(s) %c CPUs %m MB %T' | head -1) (logs in $DIR/log)"; return; fi
        # a node that was down when slurmctld last saw it comes back only when told
        scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true
        sleep 1
    done
    die "slurmctld/slurmd started but the node does not take jobs; see $DIR/log/"
}

stop_slurm() {
    local f pid
    for f in slurmd slurmctld; do
        if alive "$DIR/$f.pid"; then
            pid=$(cat "$DIR/$f.pid"); kill "$pid"
            for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        fi
    done
}

down() {
    stop_slurm
    if [ -f /run/munge/munged.pid ] && kill -0 "$(cat /run/munge/munged.pid)" 2>/dev/null; then
        kill "$(cat /run/munge/munged.pid)"
    fi
    echo "slurm is down"
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) if answers; then sinfo; else echo "slurm does not answer (start it with: make slurm-up)"; exit 1; fi ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
