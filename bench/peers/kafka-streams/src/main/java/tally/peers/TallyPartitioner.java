package tally.peers;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.processor.StreamPartitioner;

/** Summaries go where tally puts them: murmur2 over the key's owner:process_type prefix. */
final class TallyPartitioner implements StreamPartitioner<String, byte[]> {
  @Override
  public Optional<Set<Integer>> partitions(String topic, String key, byte[] value, int numPartitions) {
    int first = key.indexOf(':');
    int second = first < 0 ? -1 : key.indexOf(':', first + 1);
    String prefix = second < 0 ? key : key.substring(0, second);
    int p = Utils.toPositive(Utils.murmur2(prefix.getBytes(StandardCharsets.UTF_8))) % numPartitions;
    return Optional.of(Set.of(p));
  }
}
