package tally.peers;

import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.DDSketchProtoBinding;
import com.datadoghq.sketch.ddsketch.store.UnboundedSizeDenseStore;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import tally.v1.SummaryOuterClass.Period;
import tally.v1.SummaryOuterClass.Summary;

/**
 * Decides when a run is done, the same way for tally and for Kafka Streams: reads the summary topic from
 * its end at start (only this run's output) and keeps the latest snapshot of every series. The run is
 * done when, for each period and metric, the series' counts add up to what the input holds (every
 * measurement consumed and its rollups emitted); the moment the last missing snapshot arrived is "done".
 * Prints `{"ready":true}` once positioned, then one JSON line at the end with a digest of the final
 * snapshots (a hash of every series' count/sum/sumsq/min/max, and merged sketch quantiles) so two
 * systems' outputs can be compared exactly.
 */
final class Watch {
  private record Latest(long count, double sum, double sumsq, double min, double max, byte[] sketch) {}

  /** watch --bootstrap B --topic T --expect metric=N,... [--periods 1m,15m] [--timeout-s S] */
  static void run(Args a) throws Exception {
    Map<String, Long> expected = new TreeMap<>();
    for (String period : a.get("periods", "1m,15m").split(","))
      for (String e : a.get("expect").split(",")) {
        String[] kv = e.split("=");
        expected.put(period + " " + kv[0], Long.parseLong(kv[1]));
      }
    long deadline = System.currentTimeMillis() + Long.parseLong(a.get("timeout-s", "600")) * 1000;
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, a.get("bootstrap"));
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "tally-peers-watch");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
    Map<String, Latest> latest = new HashMap<>();
    Map<String, Long> totals = new TreeMap<>();
    for (String k : expected.keySet()) totals.put(k, 0L);
    long received = 0;
    long firstAt = 0;
    long doneAt = 0;
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts = new ArrayList<>();
      consumer.partitionsFor(a.get("topic"), Duration.ofSeconds(30))
          .forEach(i -> parts.add(new TopicPartition(i.topic(), i.partition())));
      consumer.assign(parts);
      consumer.seekToEnd(parts);
      for (TopicPartition tp : parts) consumer.position(tp, Duration.ofSeconds(30));
      System.out.println("{\"ready\":true}");
      System.out.flush();
      while (doneAt == 0 && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(50))) {
          long now = System.currentTimeMillis();
          if (firstAt == 0) firstAt = now;
          received++;
          Summary s = Summary.parseFrom(r.value());
          Latest before = latest.get(r.key());
          if (before != null && before.count >= s.getCount()) continue;
          latest.put(r.key(), new Latest(s.getCount(), s.getSum(), s.getSumsq(), s.getMin(), s.getMax(),
              s.getSketch().isEmpty() ? null : s.getSketch().toByteArray()));
          String total = periodName(s.getPeriod()) + " " + s.getMetric();
          totals.merge(total, s.getCount() - (before == null ? 0 : before.count), Long::sum);
          if (totals.equals(expected)) doneAt = now;
        }
      }
    }
    StringBuilder out = new StringBuilder("{\"done\":").append(doneAt != 0)
        .append(",\"doneAt\":").append(doneAt).append(",\"firstAt\":").append(firstAt)
        .append(",\"received\":").append(received).append(",\"series\":").append(latest.size())
        .append(",\"totals\":").append(json(totals)).append(",\"expected\":").append(json(expected));
    if (doneAt != 0) out.append(",\"statsHash\":\"").append(statsHash(latest)).append("\",\"quantiles\":")
        .append(quantiles(latest));
    System.out.println(out.append('}'));
    System.out.flush();
    System.exit(doneAt != 0 ? 0 : 1);
  }

  private static String periodName(Period p) {
    return p == Period.PERIOD_1M ? "1m" : p == Period.PERIOD_15M ? "15m" : "?";
  }

  private static String json(Map<String, Long> m) {
    StringBuilder b = new StringBuilder("{");
    m.forEach((k, v) -> b.append(b.length() > 1 ? "," : "").append('"').append(k).append("\":").append(v));
    return b.append('}').toString();
  }

  /** SHA-256 over every series' key and exact count, sum, sumsq, min and max, in key order. */
  private static String statsHash(Map<String, Latest> latest) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    for (Map.Entry<String, Latest> e : new TreeMap<>(latest).entrySet()) {
      Latest l = e.getValue();
      String line = e.getKey() + "|" + l.count + "|" + Double.doubleToLongBits(l.sum) + "|"
          + Double.doubleToLongBits(l.sumsq) + "|" + Double.doubleToLongBits(l.min) + "|"
          + Double.doubleToLongBits(l.max) + "\n";
      sha.update(line.getBytes(StandardCharsets.UTF_8));
    }
    StringBuilder hex = new StringBuilder();
    for (byte b : sha.digest()) hex.append(String.format("%02x", b));
    return hex.substring(0, 16);
  }

  /** p50 and p99 of each sketched metric's final sketches merged, per period. */
  private static String quantiles(Map<String, Latest> latest) throws Exception {
    Map<String, DDSketch> merged = new TreeMap<>();
    for (Map.Entry<String, Latest> e : latest.entrySet()) {
      if (e.getValue().sketch == null) continue;
      String[] parts = e.getKey().split(":");
      String name = parts[4] + " " + parts[2];
      DDSketch s = DDSketchProtoBinding.fromProto(UnboundedSizeDenseStore::new,
          com.datadoghq.sketch.ddsketch.proto.DDSketch.parseFrom(e.getValue().sketch));
      DDSketch into = merged.get(name);
      if (into == null) merged.put(name, s);
      else into.mergeWith(s);
    }
    StringBuilder b = new StringBuilder("{");
    for (Map.Entry<String, DDSketch> e : merged.entrySet())
      b.append(b.length() > 1 ? "," : "").append('"').append(e.getKey()).append("\":[")
          .append(e.getValue().getValueAtQuantile(0.5)).append(',')
          .append(e.getValue().getValueAtQuantile(0.99)).append(']');
    return b.append('}').toString();
  }
}
