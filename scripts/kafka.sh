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
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
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

case "${1:-start}" in
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
  *) say "usage: $0 start|stop|status|fetch|reset|perf|topic|home"; exit 2 ;;
esac
