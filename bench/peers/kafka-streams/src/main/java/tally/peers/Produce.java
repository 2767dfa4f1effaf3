package tally.peers;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Loads the benchmark's input: records already encoded by tally's ingress encoder arrive on stdin as
 * [int32 key length][key][int64 timestamp][int32 value length][value] and go to one topic, acks=all,
 * partitioned by Kafka's default murmur2 over the key (what tally's partitioner computes for raw keys).
 */
final class Produce {
  /** produce --bootstrap B --topic T */
  static void run(Args a) throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, a.get("bootstrap"));
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "tally-peers-load");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "20");
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(256 * 1024));
    String topic = a.get("topic");
    AtomicReference<Exception> failed = new AtomicReference<>();
    long n = 0;
    try (KafkaProducer<String, byte[]> producer =
            new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        DataInputStream in = new DataInputStream(new BufferedInputStream(System.in, 1 << 20))) {
      while (failed.get() == null) {
        int keyLength;
        try {
          keyLength = in.readInt();
        } catch (EOFException end) {
          break;
        }
        byte[] key = new byte[keyLength];
        in.readFully(key);
        long timestamp = in.readLong();
        byte[] value = new byte[in.readInt()];
        in.readFully(value);
        producer.send(new ProducerRecord<>(topic, null, timestamp, new String(key, StandardCharsets.UTF_8), value),
            (metadata, e) -> {
              if (e != null) failed.compareAndSet(null, e);
            });
        n++;
      }
      producer.flush();
    }
    if (failed.get() != null) throw failed.get();
    System.out.println("{\"produced\":" + n + "}");
  }
}
