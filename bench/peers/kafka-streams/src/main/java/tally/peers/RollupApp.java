package tally.peers;

import com.google.protobuf.InvalidProtocolBufferException;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;
import tally.v1.Measurement.RouterRequest;

/**
 * The aggregator's job as a Kafka Streams application, written the way its users write one: the raw
 * ROUTER_REQUESTS topic (record timestamp = event time), retried deliveries dropped, then per record key
 * (owner:process_type) a tumbling-window aggregate with 5 minutes of grace for each of tally's periods
 * (1m and 15m), in the default RocksDB window stores behind the record cache, and every changed window's
 * series as tally.v1.Summary records on the output topic.
 */
public final class RollupApp {
  static final Duration GRACE = Duration.ofMinutes(5);

  static Topology topology(String input, String output, String[] periods) {
    StreamsBuilder builder = new StreamsBuilder();
    builder.addStateStore(Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(Dedupe.STORE), Serdes.String(), Serdes.String())
        .withCachingEnabled());
    Deserializer<RouterRequest> decode = (topic, data) -> {
      try {
        return RouterRequest.parseFrom(data);
      } catch (InvalidProtocolBufferException e) {
        throw new org.apache.kafka.common.errors.SerializationException(e);
      }
    };
    Serde<RouterRequest> requests = Serdes.serdeFrom((topic, r) -> r.toByteArray(), decode);
    // processValues keeps the key, so the window aggregates below need no repartition topic.
    KStream<String, RouterRequest> firsts = builder
        .stream(input, Consumed.with(Serdes.String(), requests))
        .processValues(Dedupe::new, Named.as("dedupe"), Dedupe.STORE);
    Produced<String, byte[]> produced =
        Produced.with(Serdes.String(), Serdes.ByteArray()).withStreamPartitioner(new TallyPartitioner());
    for (String period : periods) {
      Duration size = switch (period) {
        case "1m" -> Duration.ofMinutes(1);
        case "15m" -> Duration.ofMinutes(15);
        default -> throw new IllegalArgumentException("period must be 1m or 15m: " + period);
      };
      firsts
          .groupByKey()
          .windowedBy(TimeWindows.ofSizeAndGrace(size, GRACE))
          .aggregate(KeyRollup::new, (key, request, rollup) -> rollup.add(key, request), Named.as("rollup-" + period),
              Materialized.<String, KeyRollup, WindowStore<Bytes, byte[]>>as("rollup-" + period)
                  .withKeySerde(Serdes.String())
                  .withValueSerde(new KeyRollup.RollupSerde()))
          .toStream(Named.as("changes-" + period))
          .flatMap((window, rollup) -> rollup.summaries(period, window.window().start()),
              Named.as("summaries-" + period))
          .to(output, produced);
    }
    return builder.build();
  }

  /** run --bootstrap B --app-id ID --input T --output T --threads N --state-dir D [--commit-ms MS] [--cache-mb MB] [--periods 1m,15m] */
  static void run(Args a) throws InterruptedException {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, a.get("app-id"));
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, a.get("bootstrap"));
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Integer.parseInt(a.get("threads", "1")));
    p.put(StreamsConfig.STATE_DIR_CONFIG, a.get("state-dir"));
    // Emit interval: the record cache is flushed downstream (and to RocksDB and the changelogs) on commit.
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Long.parseLong(a.get("commit-ms", "1000")));
    // Large enough to hold every open window's aggregate: updates hit the cache, not RocksDB.
    p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, Long.parseLong(a.get("cache-mb", "64")) << 20);
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    Topology topology = topology(a.get("input"), a.get("output"), a.get("periods", "1m,15m").split(","));
    KafkaStreams streams = new KafkaStreams(topology, p);
    CountDownLatch stopped = new CountDownLatch(1);
    streams.setStateListener((now, before) -> {
      System.err.println("kafka-streams: " + before + " -> " + now);
      if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) stopped.countDown();
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close(Duration.ofSeconds(30));
      stopped.countDown();
    }));
    streams.start();
    stopped.await();
    if (streams.state() == KafkaStreams.State.ERROR) System.exit(1);
  }
}
