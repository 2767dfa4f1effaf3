#!/usr/bin/env bash
# A real single-node KRaft Kafka broker from Apache's jars on Maven Central, for tests and local runs.
#
#   scripts/kafka.sh start    fetch jars (first time), format storage (first time), start, wait until it answers
#   scripts/kafka.sh stop     stop it cleanly (SIGTERM, then wait)
#   scripts/kafka.sh status   exit 0 when a broker answers on 127.0.0.1:9092
#   scripts/kafka.sh fetch    only fetch the jars into the cache
#   scripts/kafka.sh reset    stop and delete the broker's data (jars stay cached)
#   scripts/kafka.sh perf ... run org.apache.kafka.tools.ProducerPerformance with the given arguments
#   scripts/kafka.sh topic NAME [PARTITIONS]  create a topic if it is missing
#
# A three-node cluster beside it (combined KRaft nodes: controller + broker, the same jars), for the
# chaos run on three brokers and for operators trying replication 3:
#   scripts/kafka.sh cluster start [N]  start every node (or node N, 1-3) and wait until each answers
#   scripts/kafka.sh cluster kill N     SIGKILL node N (an unclean stop)
#   scripts/kafka.sh cluster stop [N]   stop every node (or node N) cleanly (SIGTERM, then wait)
#   scripts/kafka.sh cluster status     one line per node; exit 0 only when all three answer
#   scripts/kafka.sh cluster brokers    the bootstrap list (for TALLY_KAFKA_BROKERS)
#   scripts/kafka.sh cluster reset      stop every node and delete the cluster's data
# Node N listens on 127.0.0.1:1909(1+N) (19092, 19093, 19094), its controller on 2909(1+N); state, logs and
# data in $TALLY_KAFKA_HOME/cluster/node-N/. Heap per node: TALLY_KAFKA_CLUSTER_HEAP (default 384m).
# Topics for it: TALLY_KAFKA_REPLICATION=3 (tally sets min.insync.replicas=2 on them).
#
# Every broker (the single one and each cluster node) also has a PROXIED listener on its port + 100 that
# advertises port + 200: a client bootstrapped there is told to reach every broker at port + 200, where
# the chaos harness runs TCP proxies (tools/chaos/proxy.ts) to delay or black-hole one stage's traffic.
#
# Idempotent: start on a running broker returns at once; a second start reuses the cache.
# Cache (outside git): $TALLY_KAFKA_HOME, default ~/.cache/tally/kafka-<version>.
#
# A private broker beside the shared one (for experiments that stop brokers): set
#   TALLY_KAFKA_PORT             listener port (default 9092)
#   TALLY_KAFKA_CONTROLLER_PORT  KRaft controller port (default 9093)
#   TALLY_KAFKA_DATA             log dir (default $TALLY_KAFKA_HOME/data; on another port $TALLY_KAFKA_HOME/port-<port>/data)
#   TALLY_KAFKA_HEAP             JVM heap (default 1g)
# On a port other than 9092 the broker's properties, pid file, log and start lock live in
# $TALLY_KAFKA_HOME/port-<port>/, so stop and reset never touch the broker on 9092.
set -euo pipefail

VERSION="${TALLY_KAFKA_VERSION:-4.1.1}"
LOG4J="2.24.3"
HOME_DIR="${TALLY_KAFKA_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/tally/kafka-$VERSION}"
LIBS="$HOME_DIR/libs"
TOOLS="$HOME_DIR/tools"
PORT="${TALLY_KAFKA_PORT:-9092}"
CONTROLLER_PORT="${TALLY_KAFKA_CONTROLLER_PORT:-9093}"
HEAP="${TALLY_KAFKA_HEAP:-1g}"
if [ "$PORT" = 9092 ]; then STATE="$HOME_DIR"; else STATE="$HOME_DIR/port-$PORT"; fi
DATA="${TALLY_KAFKA_DATA:-$STATE/data}"
PIDFILE="$STATE/kafka.pid"
LOG="$STATE/kafka.log"
PROPS_FILE="$STATE/server.properties"

say() { echo "kafka.sh: $*" >&2; }

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

pom() { # $1 = artifact list (groupId:artifactId:version[:exclude-all])
  cat <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>tally</groupId><artifactId>kafka-fetch</artifactId><version>1</version>
  <dependencies>
POM
  for a in $1; do
    IFS=: read -r g n v x <<<"$a"
    echo "    <dependency><groupId>$g</groupId><artifactId>$n</artifactId><version>$v</version>"
    if [ "${x:-}" = "nodeps" ]; then
      echo "      <exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions>"
    fi
    echo "    </dependency>"
  done
  echo "  </dependencies></project>"
}

fetch_into() { # $1 dir, $2 artifacts
  local dir="$1" tmp
  [ -f "$dir/.complete" ] && return 0
  command -v mvn >/dev/null || { say "Maven (mvn) is missing: install it (apt-get install -y maven) to fetch Kafka $VERSION"; exit 1; }
  command -v java >/dev/null || { say "Java is missing: install a JDK 17 (apt-get install -y openjdk-17-jdk-headless)"; exit 1; }
  tmp="$(mktemp -d)"
  pom "$2" >"$tmp/pom.xml"
  say "fetching $(echo "$2" | wc -w) artifacts (and their dependencies) from Maven Central into $dir"
  mkdir -p "$dir"
  if ! mvn -q -B -f "$tmp/pom.xml" dependency:copy-dependencies -DoutputDirectory="$dir" -DincludeScope=runtime >"$tmp/mvn.log" 2>&1; then
    cat "$tmp/mvn.log" >&2
    say "Maven could not fetch Kafka $VERSION jars (see above)"
    exit 1
  fi
  rm -rf "$tmp"
  touch "$dir/.complete"
}

fetch() {
  fetch_into "$LIBS" "org.apache.kafka:kafka_2.13:$VERSION org.apache.logging.log4j:log4j-api:$LOG4J org.apache.logging.log4j:log4j-core:$LOG4J org.apache.logging.log4j:log4j-slf4j-impl:$LOG4J"
  fetch_into "$TOOLS" "org.apache.kafka:kafka-tools:$VERSION:nodeps org.apache.kafka:kafka-tools-api:$VERSION:nodeps net.sourceforge.argparse4j:argparse4j:0.7.0:nodeps"
  cat >"$HOME_DIR/log4j2.properties" <<'L4J'
status = error
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = warn
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = info
L4J
}

properties() {
  cat <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT,PROXIED://127.0.0.1:$((PORT + 100))
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT,PROXIED://127.0.0.1:$((PORT + 200))
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PROXIED:PLAINTEXT
log.dirs=$DATA
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.cleaner.backoff.ms=1000
PROPS
}

java_opts() { echo "-Xmx$HEAP -Xms256m -XX:+UseG1GC -Dlog4j2.configurationFile=$HOME_DIR/log4j2.properties"; }

start() {
  mkdir -p "$STATE"
  # One start at a time per port: two JVMs racing for the ports leave a broker without a controller.
  exec 9>"$STATE/start.lock"
  flock 9
  if answers; then say "a broker already answers on 127.0.0.1:$PORT"; return 0; fi
  fetch
  properties >"$PROPS_FILE"
  if [ ! -f "$DATA/meta.properties" ]; then
    mkdir -p "$DATA"
    local id
    id="$(java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
    say "formatting KRaft storage in $DATA (cluster $id)"
    # shellcheck disable=SC2046
    java $(java_opts) -cp "$LIBS/*" kafka.tools.StorageTool format --standalone -t "$id" -c "$PROPS_FILE" >>"$LOG" 2>&1 \
      || { tail -n 30 "$LOG" >&2; say "formatting storage failed"; exit 1; }
  fi
  say "starting Kafka $VERSION on 127.0.0.1:$PORT (log: $LOG)"
  local mark
  mark=$(wc -l <"$LOG" 2>/dev/null || echo 0)
  # shellcheck disable=SC2046
  nohup setsid java $(java_opts) -cp "$LIBS/*" kafka.Kafka "$PROPS_FILE" >>"$LOG" 2>&1 </dev/null 9>&- &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 240); do
    # Ready when the server says it started (listening alone is not enough to serve requests).
    if tail -n +"$((mark + 1))" "$LOG" | grep -q "Kafka Server started" && answers; then
      say "broker answers on 127.0.0.1:$PORT"
      return 0
    fi
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then tail -n 40 "$LOG" >&2; say "the broker exited during start"; exit 1; fi
    sleep 0.5
  done
  tail -n 40 "$LOG" >&2
  say "the broker did not start on 127.0.0.1:$PORT within 120 s"
  exit 1
}

stop() {
  local pid
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
    pid="$(pgrep -f "kafka.Kafka $PROPS_FILE\$" || true)"
  fi
  if [ -z "$pid" ]; then say "no broker of ours is running"; return 0; fi
  say "stopping broker (pid $pid)"
  kill -TERM $pid 2>/dev/null || true
  for _ in $(seq 1 120); do
    kill -0 $pid 2>/dev/null || { rm -f "$PIDFILE"; say "stopped"; return 0; }
    sleep 0.5
  done
  say "broker did not stop in 60 s; killing it"
  kill -KILL $pid 2>/dev/null || true
  rm -f "$PIDFILE"
}

# ---- the three-node cluster ----
CLUSTER="$HOME_DIR/cluster"
CLUSTER_HEAP="${TALLY_KAFKA_CLUSTER_HEAP:-384m}"
CLUSTER_NODES="1 2 3"
node_port() { echo $((19091 + $1)); }
node_controller_port() { echo $((29091 + $1)); }
node_dir() { echo "$CLUSTER/node-$1"; }
node_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$(node_port "$1")") 2>/dev/null; }
node_pid() { # the running JVM of node N (its pid file, else found by its properties file)
  local pid
  pid="$(cat "$(node_dir "$1")/kafka.pid" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; return 0; fi
  pgrep -f "kafka.Kafka $(node_dir "$1")/server.properties\$" || true
}
voters() {
  local n out=""
  for n in $CLUSTER_NODES; do out="${out:+$out,}$n@127.0.0.1:$(node_controller_port "$n")"; done
  echo "$out"
}
cluster_brokers() {
  local n out=""
  for n in $CLUSTER_NODES; do out="${out:+$out,}127.0.0.1:$(node_port "$n")"; done
  echo "$out"
}
valid_node() { case "${1:-}" in 1 | 2 | 3) return 0 ;; *) say "cluster: a node is 1, 2 or 3; got '${1:-}'"; exit 2 ;; esac; }

node_properties() { # $1 = node
  local n="$1" port controller
  port="$(node_port "$n")"
  controller="$(node_controller_port "$n")"
  cat <<PROPS
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$(voters)
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller,PROXIED://127.0.0.1:$((port + 100))
advertised.listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller,PROXIED://127.0.0.1:$((port + 200))
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PROXIED:PLAINTEXT
log.dirs=$(node_dir "$n")/data
num.partitions=1
default.replication.factor=3
min.insync.replicas=2
unclean.leader.election.enable=false
offsets.topic.replication.factor=3
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.cleaner.backoff.ms=1000
# A dead node is fenced (and leaves every ISR, so acks=all produces go on with the other two) after
# 6 s without a heartbeat instead of 9 s.
broker.session.timeout.ms=6000
broker.heartbeat.interval.ms=1000
# Sized for a 2-core machine running three nodes: fewer threads than the defaults.
num.network.threads=2
num.io.threads=4
num.replica.fetchers=1
background.threads=4
log.cleaner.threads=1
PROPS
}

cluster_java_opts() {
  echo "-Xmx$CLUSTER_HEAP -Xms128m -XX:+UseG1GC -XX:ParallelGCThreads=2 -XX:ConcGCThreads=1 -XX:ReservedCodeCacheSize=64m -XX:MaxDirectMemorySize=128m -Dlog4j2.configurationFile=$HOME_DIR/log4j2.properties"
}

# Formats every node's storage with one cluster id (the first time, or after reset).
cluster_format() {
  local n id formatted=1
  for n in $CLUSTER_NODES; do [ -f "$(node_dir "$n")/data/meta.properties" ] || formatted=0; done
  [ "$formatted" = 1 ] && return 0
  id="$(java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
  say "cluster: formatting KRaft storage of nodes $CLUSTER_NODES (cluster $id)"
  for n in $CLUSTER_NODES; do
    rm -rf "$(node_dir "$n")/data"
    mkdir -p "$(node_dir "$n")/data"
    node_properties "$n" >"$(node_dir "$n")/server.properties"
    # shellcheck disable=SC2046
    java $(cluster_java_opts) -cp "$LIBS/*" kafka.tools.StorageTool format -t "$id" -c "$(node_dir "$n")/server.properties" >>"$(node_dir "$n")/kafka.log" 2>&1 \
      || { tail -n 30 "$(node_dir "$n")/kafka.log" >&2; say "cluster: formatting node $n failed"; exit 1; }
  done
}

# Launches node N's JVM (no wait); prints the line count of its log before the launch.
node_launch() {
  local n="$1" dir mark
  dir="$(node_dir "$n")"
  node_properties "$n" >"$dir/server.properties"
  mark=$(wc -l <"$dir/kafka.log" 2>/dev/null || echo 0)
  # shellcheck disable=SC2046
  nohup setsid java $(cluster_java_opts) -cp "$LIBS/*" kafka.Kafka "$dir/server.properties" >>"$dir/kafka.log" 2>&1 </dev/null 8>&- 9>&- &
  echo $! >"$dir/kafka.pid"
  echo "$mark"
}

# Waits until node N says it started and answers (the others must run too: a node needs a quorum).
node_wait() { # $1 node, $2 log mark
  local n="$1" mark="$2" dir
  dir="$(node_dir "$n")"
  for _ in $(seq 1 240); do
    if tail -n +"$((mark + 1))" "$dir/kafka.log" | grep -q "Kafka Server started" && node_answers "$n"; then
      say "cluster: node $n answers on 127.0.0.1:$(node_port "$n")"
      return 0
    fi
    if ! kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null; then
      tail -n 40 "$dir/kafka.log" >&2
      say "cluster: node $n exited during start"
      exit 1
    fi
    sleep 0.5
  done
  tail -n 40 "$dir/kafka.log" >&2
  say "cluster: node $n did not start on 127.0.0.1:$(node_port "$n") within 120 s"
  exit 1
}

cluster_start() { # [N]
  local nodes="${1:-$CLUSTER_NODES}" n
  [ -n "${1:-}" ] && valid_node "$1"
  mkdir -p "$CLUSTER"
  exec 8>"$CLUSTER/start.lock"
  flock 8
  fetch
  for n in $CLUSTER_NODES; do mkdir -p "$(node_dir "$n")"; done
  cluster_format
  declare -A marks=()
  for n in $nodes; do
    if [ -n "$(node_pid "$n")" ]; then
      say "cluster: node $n already runs (pid $(node_pid "$n"))"
      continue
    fi
    say "cluster: starting node $n on 127.0.0.1:$(node_port "$n") (heap $CLUSTER_HEAP; log: $(node_dir "$n")/kafka.log)"
    marks[$n]="$(node_launch "$n")"
  done
  for n in "${!marks[@]}"; do node_wait "$n" "${marks[$n]}"; done
  for n in $nodes; do
    node_answers "$n" || { say "cluster: node $n runs but does not answer yet"; exit 1; }
  done
}

cluster_signal_stop() { # $1 node, $2 TERM|KILL
  local n="$1" pid
  pid="$(node_pid "$n")"
  if [ -z "$pid" ]; then say "cluster: node $n is not running"; return 0; fi
  if [ "$2" = KILL ]; then
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    rm -f "$(node_dir "$n")/kafka.pid"
    say "cluster: node $n (pid $pid) SIGKILLed"
    return 0
  fi
  say "cluster: stopping node $n (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$(node_dir "$n")/kafka.pid"; say "cluster: node $n stopped"; return 0; }
    sleep 0.5
  done
  say "cluster: node $n did not stop in 60 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$(node_dir "$n")/kafka.pid"
}

cluster_stop() { # [N]
  local n
  if [ -n "${1:-}" ]; then valid_node "$1"; cluster_signal_stop "$1" TERM; return 0; fi
  # All at once: stopped one by one, the last ones would wait for a quorum that is gone.
  for n in $CLUSTER_NODES; do
    local pid
    pid="$(node_pid "$n")"
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && say "cluster: stopping node $n (pid $pid)"
  done
  for _ in $(seq 1 120); do
    local left=0
    for n in $CLUSTER_NODES; do [ -n "$(node_pid "$n")" ] && left=1; done
    [ "$left" = 0 ] && { rm -f "$CLUSTER"/node-*/kafka.pid; say "cluster: stopped"; return 0; }
    sleep 0.5
  done
  for n in $CLUSTER_NODES; do cluster_signal_stop "$n" KILL; done
}

cluster_status() {
  local n pid all=0
  for n in $CLUSTER_NODES; do
    pid="$(node_pid "$n")"
    if [ -n "$pid" ] && node_answers "$n"; then
      echo "node $n: running (pid $pid), answers on 127.0.0.1:$(node_port "$n")"
    elif [ -n "$pid" ]; then
      echo "node $n: running (pid $pid), not answering on 127.0.0.1:$(node_port "$n")"
      all=1
    else
      echo "node $n: stopped"
      all=1
    fi
  done
  return $all
}

cluster() {
  case "${1:-status}" in
    start) cluster_start "${2:-}" ;;
    kill) valid_node "${2:-}"; cluster_signal_stop "$2" KILL ;;
    stop) cluster_stop "${2:-}" ;;
    status) cluster_status ;;
    brokers) cluster_brokers ;;
    reset) cluster_stop; rm -rf "$CLUSTER"/node-*/data ;;
    *) say "usage: $0 cluster start [N]|kill N|stop [N]|status|brokers|reset"; exit 2 ;;
  esac
}

case "${1:-start}" in
  cluster) shift; cluster "$@" ;;
  start) start ;;
  stop) stop ;;
  status) answers ;;
  fetch) fetch ;;
  reset) stop; rm -rf "$DATA" ;;
  topic) # topic NAME PARTITIONS: create a topic if it is missing (for benchmarks)
    shift; fetch
    java -Xmx256m -Dlog4j2.configurationFile="$HOME_DIR/log4j2.properties" -cp "$LIBS/*:$TOOLS/*" org.apache.kafka.tools.TopicCommand \
      --bootstrap-server "127.0.0.1:$PORT" --create --if-not-exists --topic "$1" --partitions "${2:-32}" --replication-factor 1 >/dev/null ;;
  perf) shift; fetch; exec java -Xmx512m -Dlog4j2.configurationFile="$HOME_DIR/log4j2.properties" -cp "$LIBS/*:$TOOLS/*" org.apache.kafka.tools.ProducerPerformance "$@" ;;
  home) echo "$HOME_DIR" ;;
  *) say "usage: $0 start|stop|status|fetch|reset|perf|topic|home|cluster …"; exit 2 ;;
esac
