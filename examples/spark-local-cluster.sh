#!/usr/bin/env bash
# A Spark standalone cluster on this machine (127.0.0.1 only) for the walk-through in docs/spark.md, without a Spark
# distribution: Spark's jars come from Maven Central (examples/spark-cluster/pom.xml).
#
#   examples/spark-local-cluster.sh start [WORKERS]   resolve Spark's jars, start a Master and WORKERS Workers (default 2)
#   examples/spark-local-cluster.sh submit [ARGS...]  submit the examples' Spark assembly (built if missing) to it:
#                                                     SparkIris by default (APP_CLASS=... for another), ARGS go to it
#   examples/spark-local-cluster.sh status            what is running
#   examples/spark-local-cluster.sh stop              stop the Workers (their executors with them) and the Master
#
# Everything lives in CLUSTER_DIR (default examples/target/spark-cluster): spark-home/jars, the JVM flags, one directory
# per Worker (work dir and SPARK_LOCAL_DIRS, never shared), logs/ and pids/. Remove it after `stop` to free the space.
# Settings (environment): MASTER_PORT (7077), MASTER_UI_PORT (8080), WORKER_CORES (1), WORKER_MEMORY (2g),
# EXECUTOR_MEMORY (1g), CLEANUP_INTERVAL and CLEANUP_TTL in seconds (300, 600: a Worker deletes the directories of
# applications that ended more than CLEANUP_TTL ago, each holding a copy of the 162 MB assembly).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLUSTER_DIR=${CLUSTER_DIR:-$ROOT/examples/target/spark-cluster}
MASTER_PORT=${MASTER_PORT:-7077}
MASTER_UI_PORT=${MASTER_UI_PORT:-8080}
WORKER_CORES=${WORKER_CORES:-1}
WORKER_MEMORY=${WORKER_MEMORY:-2g}
EXECUTOR_MEMORY=${EXECUTOR_MEMORY:-1g}
CLEANUP_INTERVAL=${CLEANUP_INTERVAL:-300}
CLEANUP_TTL=${CLEANUP_TTL:-600}
APP_CLASS=${APP_CLASS:-org.dl4jsr.examples.spark.SparkIris}

# A Worker starts its executors with $SPARK_HOME/jars/* as their class path.
export SPARK_HOME=$CLUSTER_DIR/spark-home
export SPARK_SCALA_VERSION=2.12
export SPARK_LOCAL_IP=127.0.0.1   # also keeps the web UIs on 127.0.0.1

MVN=(mvn -B -ntp -q -Dstyle.color=never)

die() {
    echo "spark-local-cluster: $*" >&2
    exit 1
}

alive() {
    [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

# Spark's Java 17 flags: the root pom's spark.jvm.flags property, evaluated by Maven (it refers to other properties).
jvm_flags() {
    if [[ ! -s $CLUSTER_DIR/jvm-flags ]]; then
        (cd "$ROOT" && "${MVN[@]}" -N help:evaluate -Dexpression=spark.jvm.flags -Doutput="$CLUSTER_DIR/jvm-flags") \
            >&2 || die "could not read spark.jvm.flags from $ROOT/pom.xml"
    fi
    cat "$CLUSTER_DIR/jvm-flags"
}

# Waits until LOG contains PATTERN; fails with the log's end if the process PID ends first or after 120 s.
wait_for() {
    local pid=$1 log=$2 pattern=$3 what=$4
    for _ in $(seq 1 240); do
        grep -q "$pattern" "$log" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || { tail -n 30 "$log" >&2; die "$what exited; its log: $log"; }
        sleep 0.5
    done
    tail -n 30 "$log" >&2
    die "$what not ready after 120 s; its log: $log"
}

start() {
    local workers=${1:-2}
    [[ $workers =~ ^[1-9][0-9]*$ ]] || die "start: WORKERS must be a whole number >= 1, got '$workers'"
    mkdir -p "$CLUSTER_DIR/logs" "$CLUSTER_DIR/pids"
    for pid in "$CLUSTER_DIR"/pids/*.pid; do
        if alive "$pid"; then
            die "already running ($(basename "$pid" .pid), pid $(cat "$pid")): run '$0 stop' first"
        fi
    done
    rm -f "$CLUSTER_DIR"/pids/*.pid

    if [[ ! -f $SPARK_HOME/jars/.complete ]]; then
        echo "Resolving Spark's jars into $SPARK_HOME/jars (Maven)"
        rm -rf "$SPARK_HOME/jars"
        (cd "$ROOT" && "${MVN[@]}" -f examples/spark-cluster/pom.xml dependency:copy-dependencies \
            -DoutputDirectory="$SPARK_HOME/jars") || die "could not resolve Spark's jars"
        touch "$SPARK_HOME/jars/.complete"
    fi
    local flags
    flags=$(jvm_flags)

    echo "Starting the Master on 127.0.0.1:$MASTER_PORT (web UI http://127.0.0.1:$MASTER_UI_PORT)"
    # shellcheck disable=SC2086  # the flags are a list of words
    nohup java $flags -Xmx512m -cp "$SPARK_HOME/jars/*" org.apache.spark.deploy.master.Master \
        --host 127.0.0.1 --port "$MASTER_PORT" --webui-port "$MASTER_UI_PORT" \
        > "$CLUSTER_DIR/logs/master.log" 2>&1 &
    echo $! > "$CLUSTER_DIR/pids/master.pid"
    wait_for "$!" "$CLUSTER_DIR/logs/master.log" "Starting Spark master at spark://" "the Master"
    wait_for "$(cat "$CLUSTER_DIR/pids/master.pid")" "$CLUSTER_DIR/logs/master.log" "elected leader" "the Master"
    # The port actually bound (Spark moves to the next one when MASTER_PORT is taken).
    grep -o 'Starting Spark master at spark://[^ ]*' "$CLUSTER_DIR/logs/master.log" | tail -n 1 \
        | sed 's/^Starting Spark master at //' > "$CLUSTER_DIR/master-url"
    local master_url
    master_url=$(cat "$CLUSTER_DIR/master-url")

    for i in $(seq 1 "$workers"); do
        local dir=$CLUSTER_DIR/worker-$i
        # Own work dir and local dirs, created before the start: two Workers sharing a directory that does not exist
        # yet can race for it and then fail every executor launch (see docs/spark.md).
        mkdir -p "$dir/work" "$dir/local"
        echo "Starting Worker $i ($WORKER_CORES core(s), $WORKER_MEMORY, $dir)"
        # shellcheck disable=SC2086
        SPARK_LOCAL_DIRS=$dir/local nohup java $flags -Xmx512m \
            -Dspark.worker.cleanup.enabled=true \
            -Dspark.worker.cleanup.interval="$CLEANUP_INTERVAL" \
            -Dspark.worker.cleanup.appDataTtl="$CLEANUP_TTL" \
            -cp "$SPARK_HOME/jars/*" org.apache.spark.deploy.worker.Worker \
            --host 127.0.0.1 --cores "$WORKER_CORES" --memory "$WORKER_MEMORY" --work-dir "$dir/work" \
            --webui-port $((MASTER_UI_PORT + i)) "$master_url" \
            > "$CLUSTER_DIR/logs/worker-$i.log" 2>&1 &
        echo $! > "$CLUSTER_DIR/pids/worker-$i.pid"
    done
    for i in $(seq 1 "$workers"); do
        wait_for "$(cat "$CLUSTER_DIR/pids/worker-$i.pid")" "$CLUSTER_DIR/logs/worker-$i.log" \
            "Successfully registered with master" "Worker $i"
    done
    echo "Cluster up: $master_url with $workers Worker(s). Next: $0 submit [--epochs 10]"
}

submit() {
    [[ -s $CLUSTER_DIR/master-url ]] && alive "$CLUSTER_DIR/pids/master.pid" || die "no cluster: run '$0 start' first"
    local jar
    jar=$(ls "$ROOT"/examples/target/dl4j-sr-examples-*-spark.jar 2>/dev/null | head -n 1 || true)
    if [[ -z $jar ]]; then
        echo "Building the Spark assembly (mvn -pl examples -am package -DskipTests -Pspark-assembly)"
        (cd "$ROOT" && "${MVN[@]}" -pl examples -am package -DskipTests -Pspark-assembly) || die "build failed"
        jar=$(ls "$ROOT"/examples/target/dl4j-sr-examples-*-spark.jar | head -n 1)
    fi
    local flags
    flags=$(jvm_flags)
    # spark-submit's own form: SparkSubmit's main class on Spark's jars. The driver runs in this JVM (client mode), so
    # it needs Spark's Java 17 flags; Spark gives the executors theirs.
    # shellcheck disable=SC2086
    java $flags -Xmx2g -cp "$SPARK_HOME/jars/*" org.apache.spark.deploy.SparkSubmit \
        --master "$(cat "$CLUSTER_DIR/master-url")" \
        --class "$APP_CLASS" \
        --conf spark.executor.memory="$EXECUTOR_MEMORY" \
        --conf spark.locality.wait=0s \
        --conf spark.driver.host=127.0.0.1 \
        --conf spark.log.level=WARN \
        "$jar" "$@"
}

status() {
    local any=0
    for pid in "$CLUSTER_DIR"/pids/*.pid; do
        [[ -f $pid ]] || continue
        any=1
        if alive "$pid"; then
            echo "$(basename "$pid" .pid): running, pid $(cat "$pid")"
        else
            echo "$(basename "$pid" .pid): not running (pid $(cat "$pid"))"
        fi
    done
    [[ $any == 1 ]] || echo "nothing started from $CLUSTER_DIR"
    [[ -s $CLUSTER_DIR/master-url ]] && echo "master: $(cat "$CLUSTER_DIR/master-url")"
    return 0
}

stop_pid() {
    local file=$1 pid
    pid=$(cat "$file")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 60); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "$(basename "$file" .pid) (pid $pid) did not stop in 30 s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        echo "stopped $(basename "$file" .pid) (pid $pid)"
    fi
    rm -f "$file"
}

stop() {
    # Workers first: a Worker stopping with SIGTERM kills the executors it started.
    for file in "$CLUSTER_DIR"/pids/worker-*.pid; do
        [[ -f $file ]] && stop_pid "$file"
    done
    [[ -f $CLUSTER_DIR/pids/master.pid ]] && stop_pid "$CLUSTER_DIR/pids/master.pid"
    rm -f "$CLUSTER_DIR/master-url"
    echo "Stopped. Work dirs, logs and Spark's jars stay in $CLUSTER_DIR (rm -rf it to free the space)."
}

case "${1:-}" in
    start) shift; start "$@" ;;
    submit) shift; submit "$@" ;;
    status) status ;;
    stop) stop ;;
    *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
