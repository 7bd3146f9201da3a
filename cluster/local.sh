#!/usr/bin/env bash
# A multi-node Ray cluster on this one machine, for development and tests.
#
#   cluster/local.sh up [--workers N] [--cpus-per-worker N] [--head-cpus N]
#                       [--port PORT] [--dashboard-port PORT] [--object-store-mb MB]
#   cluster/local.sh status     what runs: the recorded nodes and `ray status`
#   cluster/local.sh env        the client's environment, for eval "$(cluster/local.sh env)"
#   cluster/local.sh down       stop exactly the processes that `up` started
#
# Every node is a `ray start --block` in its own session (so its pid is also its process
# group), started with RAY_AUTH_MODE=token and a cluster token file, and marked with
# RAYSWEEP_CLUSTER_ID=<id> in its environment, which every process it starts inherits
# (Ray's workers, job drivers). `down` stops the recorded nodes, then kills whatever still
# carries the mark, and checks that nothing does. It never runs `ray stop`, which would stop
# every Ray instance on the machine.
#
# State, token and logs: ${RAYSWEEP_CLUSTER_DIR:-$HOME/.raysweep-cluster}. Ray's temp folders
# (sessions, sockets, logs, spilled objects, unpacked job working dirs), one per node:
# /tmp/raysweep-XXXXXX/{head,w1,w2...}, removed by `down`.
# Exit codes: 0 ok; 1 failed; 2 bad usage (one line on stderr); 3 no cluster is up (status, env).
set -euo pipefail

PROG=$(basename "$0")
USAGE="usage: $PROG up [--workers N] [--cpus-per-worker N] [--head-cpus N] [--port PORT] \
[--dashboard-port PORT] [--object-store-mb MB] | status | env | down"
STATE_DIR=${RAYSWEEP_CLUSTER_DIR:-$HOME/.raysweep-cluster}
STATE_FILE=$STATE_DIR/state
TOKEN_FILE=$STATE_DIR/auth_token
LOG_DIR=$STATE_DIR/logs
TIMEOUT=${RAYSWEEP_CLUSTER_TIMEOUT:-120}
PYTHON=${PYTHON:-python3}
MARK=RAYSWEEP_CLUSTER_ID

usage_error() {
    echo "$PROG: error: $1; $USAGE" >&2
    exit 2
}

die() {
    echo "$PROG: error: $*" >&2
    exit 1
}

# --- state ------------------------------------------------------------------------------

state_get() { # KEY -> the value recorded for KEY
    [[ -f $STATE_FILE ]] || return 0
    awk -F= -v key="$1" '$1 == key { sub(/^[^=]*=/, ""); print; exit }' "$STATE_FILE"
}

state_nodes() { # -> "NAME PID" lines, head first
    [[ -f $STATE_FILE ]] || return 0
    awk -F= '$1 == "node" { sub(/^node=/, ""); print }' "$STATE_FILE"
}

# --- processes --------------------------------------------------------------------------

is_ours() { # PID ID: PID is alive and carries this cluster's mark
    [[ -r /proc/$1/environ ]] && grep -qzxF "$MARK=$2" "/proc/$1/environ" 2>/dev/null
}

marked_pids() { # ID -> every live process carrying this cluster's mark (zombies have none)
    { grep -lzxF -- "$MARK=$1" /proc/[0-9]*/environ 2>/dev/null || true; } |
        awk -F/ '$3 != "self" && $3 != "thread-self" { print $3 }'
}

wait_gone() { # SECONDS ID PID...: wait until none of the PIDs is ours any more
    local deadline=$((SECONDS + $1)) id=$2 pid alive
    shift 2
    while ((SECONDS < deadline)); do
        alive=0
        for pid in "$@"; do
            if is_ours "$pid" "$id"; then alive=1; fi
        done
        ((alive)) || return 0
        sleep 0.5
    done
    return 1
}

ray_client() { # run a Ray CLI command as a client of this cluster
    env -u RAY_AUTH_TOKEN -u RAY_ADDRESS RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH="$TOKEN_FILE" "$@"
}

alive_nodes() { # GCS_ADDRESS -> how many nodes `ray status` lists as active
    local out
    out=$(ray_client ray status --address "$1" 2>/dev/null) || true
    awk '/^Active:/ { on = 1; next } /^[A-Z]/ { on = 0 } on && /node_/ { n++ } END { print n + 0 }' \
        <<<"$out"
}

stop_cluster() { # stop the recorded cluster; 0 when none of its processes is left
    local id temp_dir nodes=() worker_pids=() head="" name pid left
    id=$(state_get cluster_id)
    temp_dir=$(state_get temp_dir)
    [[ -n $id ]] || die "state file $STATE_FILE has no cluster_id; remove it by hand"
    mapfile -t nodes < <(state_nodes)
    for name in "${nodes[@]}"; do
        pid=${name#* }
        if [[ $name == head* ]]; then head=$pid; else worker_pids+=("$pid"); fi
    done
    # Each `ray start --block` stops its own node's processes on SIGTERM. Workers go first,
    # while the head can still take their goodbye; with the head gone they are killed below.
    if [[ -n $head ]] && is_ours "$head" "$id"; then
        for pid in "${worker_pids[@]}"; do
            if is_ours "$pid" "$id"; then kill -TERM "$pid" 2>/dev/null || true; fi
        done
        ((${#worker_pids[@]} == 0)) || wait_gone 20 "$id" "${worker_pids[@]}" || true
        kill -TERM "$head" 2>/dev/null || true
        wait_gone 20 "$id" "$head" || true
    fi
    # Whatever still carries the mark (a job's driver runs in a session of its own).
    mapfile -t left < <(marked_pids "$id")
    if ((${#left[@]})); then
        kill -KILL "${left[@]}" 2>/dev/null || true
        wait_gone 10 "$id" "${left[@]}" || true
    fi
    mapfile -t left < <(marked_pids "$id")
    if ((${#left[@]})); then
        echo "$PROG: error: processes of cluster $id are still running: ${left[*]}" >&2
        return 1
    fi
    rm -f "$STATE_FILE"
    if [[ $temp_dir == /tmp/raysweep-* && -d $temp_dir ]]; then rm -rf "$temp_dir"; fi
    echo "stopped cluster $id (${#nodes[@]} nodes); no process of it is left"
}

# --- commands ---------------------------------------------------------------------------

print_addresses() {
    local gcs dashboard
    gcs=$(state_get gcs_address)
    dashboard=$(state_get dashboard_url)
    cat <<EOF
  GCS address:          $gcs   (python -m sweep.launch --address $gcs)
  dashboard/job server: $dashboard
  auth token file:      $TOKEN_FILE
A client of this cluster needs:
  export RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH=$TOKEN_FILE
  (elsewhere: export RAY_AUTH_MODE=token RAY_AUTH_TOKEN=<the file's content>)
Submit a job:
  ray job submit --address $dashboard --working-dir . -- python -m sweep.launch
EOF
}

cluster_running() { # the recorded head node is alive and was started completely
    local id head
    id=$(state_get cluster_id)
    head=$(state_nodes | awk '$1 == "head" { print $2 }')
    [[ -n $id && -n $head && -n $(state_get gcs_address) ]] && is_ours "$head" "$id"
}

free_port() { # -> a TCP port that nothing listens on now
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])'
}

check_port() { # HOST PORT FLAG: fail unless PORT can be bound on HOST
    "$PYTHON" - "$1" "$2" 2>/dev/null <<'EOF' || die "port $2 is in use; choose another with $3"
import socket, sys
with socket.socket() as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Ray checks: TIME_WAIT is fine
    s.bind((sys.argv[1], int(sys.argv[2])))
EOF
}

start_node() { # NAME ID TEMP_DIR RAY_START_ARGS... -> the node's pid, recorded
    # Each node has a temp dir of its own: nodes sharing one would share the session folder,
    # and one node's runtime-env agent would delete a job's working_dir (unpacked there) when
    # its own last reference goes, while the job's driver on another node still runs in it.
    local name=$1 id=$2 temp_dir=$3 pid
    shift 3
    # No drain on SIGTERM: the whole cluster goes, so draining a node would only delay `down`
    # by up to 30 s while a job runs.
    env -u RAY_AUTH_TOKEN -u RAY_ADDRESS "$MARK=$id" RAY_AUTH_MODE=token \
        RAY_AUTH_TOKEN_PATH="$TOKEN_FILE" RAY_USAGE_STATS_ENABLED=0 \
        RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S=0 \
        setsid ray start --block --temp-dir "$temp_dir" --min-worker-port 0 --max-worker-port 0 \
        --dashboard-agent-listen-port 0 --disable-usage-stats --log-style record --log-color false \
        "$@" </dev/null >"$LOG_DIR/$name.log" 2>&1 &
    pid=$!
    echo "node=$name $pid" >>"$STATE_FILE"
    NODE_PID=$pid
    # Until `env` has exec'd, the child is a copy of this shell, without the mark.
    local deadline=$((SECONDS + 10))
    until is_ours "$pid" "$id"; do
        ((SECONDS < deadline)) || break
        sleep 0.1
    done
}

node_failed() { # NAME PID ID: the node's process has exited
    if ! is_ours "$2" "$3"; then
        echo "$PROG: error: $1 node exited during start; the end of $LOG_DIR/$1.log:" >&2
        tail -n 15 "$LOG_DIR/$1.log" >&2 || true
        return 0
    fi
    return 1
}

on_up_exit() {
    local status=$?
    if ((status != 0)) && [[ -f $STATE_FILE ]]; then
        echo "$PROG: start failed; stopping what was started" >&2
        stop_cluster >&2 || true
    fi
    exit "$status"
}

cmd_up() {
    local workers=2 cpus=1 head_cpus=0 port=6379 dashboard_port=8265 store_mb=256
    while (($#)); do
        case $1 in
        --workers | --cpus-per-worker | --head-cpus | --port | --dashboard-port | --object-store-mb)
            (($# >= 2)) || usage_error "$1 needs a value"
            [[ $2 =~ ^[0-9]+$ ]] || usage_error "$1 takes a whole number, not '$2'"
            case $1 in
            --workers) workers=$((10#$2)) ;;
            --cpus-per-worker) cpus=$((10#$2)) ;;
            --head-cpus) head_cpus=$((10#$2)) ;;
            --port) port=$((10#$2)) ;;
            --dashboard-port) dashboard_port=$((10#$2)) ;;
            --object-store-mb) store_mb=$((10#$2)) ;;
            esac
            shift 2
            ;;
        *) usage_error "unknown option '$1' for up" ;;
        esac
    done
    ((workers <= 64)) || usage_error "--workers takes 0 to 64, not $workers"
    ((cpus >= 1)) || usage_error "--cpus-per-worker takes 1 or more, not $cpus"
    ((port >= 1 && port <= 65535)) || usage_error "--port takes 1 to 65535, not $port"
    ((dashboard_port >= 1 && dashboard_port <= 65535)) ||
        usage_error "--dashboard-port takes 1 to 65535, not $dashboard_port"
    ((port != dashboard_port)) || usage_error "--port and --dashboard-port must differ"
    ((store_mb >= 80)) || usage_error "--object-store-mb takes 80 or more, not $store_mb"

    if cluster_running; then
        echo "cluster $(state_get cluster_id) is already up ($(state_nodes | wc -l) nodes);" \
            "run '$PROG down' first to change it"
        print_addresses
        return 0
    fi
    command -v ray >/dev/null || die "the 'ray' command is not on PATH: pip install 'ray[default]'"
    command -v setsid >/dev/null || die "the 'setsid' command is missing (util-linux)"
    [[ -d /proc/self ]] || die "this script needs Linux (/proc): Ray supports multi-node only there"
    "$PYTHON" -c "import ray.dashboard.optional_deps" 2>/dev/null ||
        die "Ray's job server needs ray[default]: pip install 'ray[default]'"
    if [[ -f $STATE_FILE ]]; then
        echo "cleaning up the stale cluster $(state_get cluster_id) recorded in $STATE_FILE"
        stop_cluster
    fi
    check_port 0.0.0.0 "$port" --port # the GCS listens on every interface
    check_port 127.0.0.1 "$dashboard_port" --dashboard-port

    mkdir -p "$STATE_DIR" "$LOG_DIR"
    chmod 700 "$STATE_DIR"
    if [[ ! -s $TOKEN_FILE ]]; then
        (umask 077 && "$PYTHON" -c "import secrets; print(secrets.token_hex(32))" >"$TOKEN_FILE")
    fi
    local id temp_dir gcs="" deadline alive
    id="local-$("$PYTHON" -c "import secrets; print(secrets.token_hex(6))")"
    temp_dir=$(mktemp -d /tmp/raysweep-XXXXXX) # short: Ray's socket paths must fit 107 bytes
    printf 'cluster_id=%s\ntemp_dir=%s\ndashboard_url=%s\n' \
        "$id" "$temp_dir" "http://127.0.0.1:$dashboard_port" >"$STATE_FILE"
    trap on_up_exit EXIT
    trap 'exit 130' INT TERM

    local object_store=$((store_mb * 1024 * 1024))
    # Ray's client server would take port 10001 by default, which another Ray on this
    # machine may hold.
    start_node head "$id" "$temp_dir/head" --head --port "$port" --include-dashboard true \
        --ray-client-server-port "$(free_port)" \
        --dashboard-host 127.0.0.1 --dashboard-port "$dashboard_port" --num-cpus "$head_cpus" \
        --object-store-memory "$object_store"
    local head=$NODE_PID
    deadline=$((SECONDS + TIMEOUT))
    while :; do
        node_failed head "$head" "$id" && exit 1
        if [[ -s $temp_dir/head/ray_current_cluster ]] &&
            (exec 3<>"/dev/tcp/127.0.0.1/$dashboard_port") 2>/dev/null; then
            break
        fi
        ((SECONDS < deadline)) || die "the head node did not answer within ${TIMEOUT}s"
        sleep 0.5
    done
    gcs=$(<"$temp_dir/head/ray_current_cluster")
    echo "gcs_address=$gcs" >>"$STATE_FILE"

    local i pids=()
    for ((i = 1; i <= workers; i++)); do
        start_node "worker-$i" "$id" "$temp_dir/w$i" --address "127.0.0.1:$port" \
            --num-cpus "$cpus" --object-store-memory "$object_store"
        pids+=("$NODE_PID")
    done
    while :; do
        for ((i = 1; i <= workers; i++)); do
            node_failed "worker-$i" "${pids[i - 1]}" "$id" && exit 1
        done
        node_failed head "$head" "$id" && exit 1
        alive=$(alive_nodes "$gcs")
        ((alive < workers + 1)) || break
        ((SECONDS < deadline)) ||
            die "only $alive of $((workers + 1)) nodes joined within ${TIMEOUT}s"
        sleep 1
    done
    trap - EXIT INT TERM
    echo "Ray cluster $id is up: 1 head ($head_cpus CPUs) + $workers workers" \
        "($cpus CPU each), $alive nodes; state in $STATE_DIR"
    print_addresses
    echo "Stop it: $0 down"
}

cmd_status() {
    (($# == 0)) || usage_error "status takes no options, not '$1'"
    if [[ ! -f $STATE_FILE ]]; then
        echo "no local cluster is recorded in $STATE_DIR"
        return 3
    fi
    local id gcs line name pid running=0 total=0 alive=0
    id=$(state_get cluster_id)
    gcs=$(state_get gcs_address)
    echo "cluster $id (state: $STATE_FILE)"
    while read -r name pid; do
        total=$((total + 1))
        if is_ours "$pid" "$id"; then
            running=$((running + 1))
            line="running"
        else
            line="not running"
        fi
        printf '  %-10s pid %-8s %s\n' "$name" "$pid" "$line"
    done < <(state_nodes)
    if ((running == 0)); then
        echo "no node of it is running; '$PROG down' clears the record"
        return 3
    fi
    [[ -z $gcs ]] || alive=$(alive_nodes "$gcs")
    echo "  Ray nodes alive (ray status): $alive of $total"
    print_addresses
    ((running == total && alive == total)) || return 1
}

cmd_env() {
    (($# == 0)) || usage_error "env takes no options, not '$1'"
    cluster_running || {
        echo "$PROG: no local cluster is up" >&2
        return 3
    }
    echo "export RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH='$TOKEN_FILE'" \
        "RAY_ADDRESS='$(state_get gcs_address)' RAY_API_SERVER_ADDRESS='$(state_get dashboard_url)'"
}

cmd_down() {
    (($# == 0)) || usage_error "down takes no options, not '$1'"
    if [[ ! -f $STATE_FILE ]]; then
        echo "no local cluster is recorded in $STATE_DIR; nothing to stop"
        return 0
    fi
    stop_cluster
}

(($# >= 1)) || usage_error "a command is needed"
command=$1
shift
case $command in
up) cmd_up "$@" ;;
status) cmd_status "$@" ;;
env) cmd_env "$@" ;;
down) cmd_down "$@" ;;
-h | --help | help) echo "$USAGE" ;;
*) usage_error "unknown command '$command'" ;;
esac
