#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for tests/distributed/test_slurm.py and for
# trying `litrain slurm --submit` without a cluster. Debian/Ubuntu, as root. Idempotent:
# installs slurm-wlm + munge if missing, (re)writes slurm.conf for this host, starts
# munged, slurmctld and slurmd if they are not running, and waits for the node to be idle.
#   scripts/slurm_local.sh          start (or check) the cluster
#   scripts/slurm_local.sh stop     stop the daemons
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "slurm_local.sh: run as root (it installs packages and starts daemons)" >&2
  exit 1
fi

if [ "${1:-}" = "stop" ]; then
  for d in slurmd slurmctld munged; do
    if [ -f "/run/$d.pid" ]; then kill "$(cat "/run/$d.pid")" 2>/dev/null || true; fi
  done
  [ -f /run/munge/munged.pid ] && kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
  exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  if ! command -v apt-get >/dev/null; then
    echo "slurm_local.sh: apt-get not found; install slurm-wlm and munge yourself" >&2
    exit 3
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

# munge: one key shared by the daemons and the client commands
install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
install -d -o munge -g munge -m 0755 /run/munge
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
if ! munge -n </dev/null >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged --force
  for _ in $(seq 50); do munge -n </dev/null >/dev/null 2>&1 && break; sleep 0.1; done
fi

# slurm.conf for this host: every core, no cgroups (containers rarely delegate them), no
# accounting database; requeue on. cred_expire is also how long a requeued job waits before
# it may start again (default 120 s); a requeued job started sooner is killed with "Job
# credential revoked", so keep the wait short here instead of forcing the start time.
host="$(hostname -s)"
# nproc honours OMP_NUM_THREADS (a test runner may set it to 1): count the cores themselves
cpus="$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)"
mem_mb="$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)"
conf_dir=/etc/slurm
install -d "$conf_dir" /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
conf="$(cat <<CONF
# written by litrain scripts/slurm_local.sh
ClusterName=litrain-local
SlurmctldHost=${host}
SlurmUser=root
AuthType=auth/munge
AuthInfo=cred_expire=10
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobRequeue=1
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldParameters=enable_configless
KillWait=10
MinJobAge=600
NodeName=${host} CPUs=${cpus} RealMemory=${mem_mb} State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF
)"
changed=0
if [ ! -f "$conf_dir/slurm.conf" ] || [ "$(cat "$conf_dir/slurm.conf")" != "$conf" ]; then
  printf '%s\n' "$conf" > "$conf_dir/slurm.conf"
  changed=1
fi

running() { [ -f "/run/$1.pid" ] && kill -0 "$(cat "/run/$1.pid")" 2>/dev/null; }
if [ "$changed" -eq 1 ]; then
  # AuthInfo is read only at daemon start: restart rather than reconfigure
  for d in slurmd slurmctld; do
    if running "$d"; then kill "$(cat "/run/$d.pid")"; fi
    for _ in $(seq 50); do running "$d" || break; sleep 0.1; done
  done
fi
running slurmctld || slurmctld
running slurmd || slurmd

# wait for the node to take jobs; a node left down by an earlier run is resumed
for _ in $(seq 120); do
  state="$(sinfo -h -n "$host" -o %t 2>/dev/null || true)"
  case "$state" in
    idle|mix|alloc) echo "slurm_local.sh: node $host is $state"; exit 0 ;;
    down*|drain*|drng*) scontrol update nodename="$host" state=resume 2>/dev/null || true ;;
  esac
  sleep 0.5
done
echo "slurm_local.sh: node $host did not become idle; see /var/log/slurm/" >&2
sinfo >&2 || true
exit 1
