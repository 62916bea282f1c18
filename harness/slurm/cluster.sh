#!/usr/bin/env bash
# Starts or stops a real single-node Slurm cluster (Debian slurm-wlm + munge) for etch's tests and
# CI: `cluster.sh up` and `cluster.sh down` (make slurm-up / make slurm-down). Idempotent: `up` on a
# running cluster and `down` on a stopped one do nothing. State lives under $ETCH_SLURM_DIR
# (default /tmp/etch-slurm); clients need SLURM_CONF=$ETCH_SLURM_DIR/slurm.conf (printed by `env`).
set -euo pipefail
DIR=${ETCH_SLURM_DIR:-/tmp/etch-slurm}
CONF=$DIR/slurm.conf
export SLURM_CONF=$CONF

need_root() {
  if [ "$(id -u)" != 0 ]; then echo "cluster.sh: must run as root (starts munged, slurmctld, slurmd)" >&2; exit 1; fi
}

install_packages() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then return; fi
  echo "cluster.sh: installing slurm-wlm and munge" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
}

# alive PIDFILE: the process named in PIDFILE runs (a zombie, not yet reaped by init, does not).
alive() {
  [ -f "$1" ] || return 1
  local pid; pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && ! grep -qE '^[0-9]+ \(.*\) Z' "/proc/$pid/stat" 2>/dev/null
}

write_conf() {
  mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
  local cpus; cpus=$(nproc)
  local mem; mem=$(awk '/MemTotal/ {print int($2/1024) - 1024}' /proc/meminfo)
  cat > "$CONF.tmp" <<CONF
ClusterName=etch
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0
DependencyParameters=kill_invalid_depend
ReturnToService=2
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MailProg=/bin/true
MinJobAge=300
NodeName=localhost CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
  # A changed configuration (other core count, other settings) restarts running daemons.
  if [ -f "$CONF" ] && ! cmp -s "$CONF.tmp" "$CONF" && { alive "$DIR/slurmctld.pid" || alive "$DIR/slurmd.pid"; }; then
    echo "cluster.sh: configuration changed; restarting slurmctld and slurmd" >&2
    stop_slurm
    rm -rf "$DIR/state" "$DIR/spool"
    mkdir -p "$DIR/state" "$DIR/spool"
  fi
  mv "$CONF.tmp" "$CONF"
}

up() {
  need_root
  install_packages
  write_conf
  install -d -o munge -g munge -m 0755 /run/munge
  if ! alive /run/munge/munged.pid; then
    [ -f /etc/munge/munge.key ] || { /usr/sbin/mungekey --create 2>/dev/null || /usr/sbin/create-munge-key -f; chown munge:munge /etc/munge/munge.key; }
    runuser -u munge -- /usr/sbin/munged
  fi
  alive "$DIR/slurmctld.pid" || slurmctld -f "$CONF"
  alive "$DIR/slurmd.pid" || slurmd -f "$CONF" -N localhost
  for _ in $(seq 1 100); do
    if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
      echo "cluster.sh: Slurm up (SLURM_CONF=$CONF)" >&2; return 0
    fi
    sleep 0.1
  done
  echo "cluster.sh: Slurm did not become ready; see $DIR/log" >&2
  sinfo >&2 || true
  exit 1
}

stop_slurm() {
  if [ -f "$CONF" ] && alive "$DIR/slurmctld.pid"; then
    scancel --full --user="$(id -un)" 2>/dev/null || true
    scancel --full $(squeue -h -o %i 2>/dev/null) 2>/dev/null || true
  fi
  for pf in "$DIR/slurmd.pid" "$DIR/slurmctld.pid"; do
    if alive "$pf"; then kill "$(cat "$pf")"; fi
  done
  for _ in $(seq 1 50); do
    alive "$DIR/slurmd.pid" || alive "$DIR/slurmctld.pid" || break
    sleep 0.1
  done
}

down() {
  stop_slurm
  if alive /run/munge/munged.pid; then kill "$(cat /run/munge/munged.pid)"; fi
  rm -rf "$DIR/state" "$DIR/spool"
  echo "cluster.sh: Slurm down" >&2
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  *) echo "usage: cluster.sh up|down|env" >&2; exit 2 ;;
esac
