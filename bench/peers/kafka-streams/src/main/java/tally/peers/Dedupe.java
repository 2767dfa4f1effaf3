package tally.peers;

import java.time.Duration;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import tally.v1.Measurement.RouterRequest;
import tally.v1.OriginOuterClass.Origin;

/**
 * A retried drain batch counts once, as in tally's Rollup.ts: per (record key, drain, Frame-Id) the first
 * delivery seen on the partition wins; records of any other delivery of that batch are dropped. The
 * first delivery is kept in a state store (RocksDB, cached, changelogged) until the 15-minute windows
 * holding the record's measurements have closed (window end + 5 minutes of grace), then expired on stream
 * time. A raw record holds one delivery's measurements of its key (measurement.proto: the message, then
 * `next`): a first delivery's are forwarded one by one, each with its own event time as its timestamp.
 */
final class Dedupe implements FixedKeyProcessor<String, RouterRequest, RouterRequest> {
  static final String STORE = "first-delivery";
  private static final long FIFTEEN_MINUTES = 15 * 60_000L;
  private static final long GRACE = 5 * 60_000L;

  private FixedKeyProcessorContext<String, RouterRequest> context;
  private KeyValueStore<String, String> firsts;

  @Override
  public void init(FixedKeyProcessorContext<String, RouterRequest> context) {
    this.context = context;
    this.firsts = context.getStateStore(STORE);
    context.schedule(Duration.ofMinutes(1), PunctuationType.STREAM_TIME, this::expire);
  }

  private static long until(RouterRequest r) {
    long t = Math.floorDiv(r.getOrigin().getTimeUs(), 1000L);
    return t - Math.floorMod(t, FIFTEEN_MINUTES) + FIFTEEN_MINUTES + GRACE;
  }

  @Override
  public void process(FixedKeyRecord<String, RouterRequest> record) {
    RouterRequest value = record.value();
    Origin origin = value.getOrigin();
    if (!origin.getFrameId().isEmpty()) {
      long until = until(value);
      for (RouterRequest n : value.getNextList()) until = Math.max(until, until(n));
      String id = record.key() + '\u0000' + origin.getDrain() + '\u0000' + origin.getFrameId();
      String first = firsts.get(id); // "<until>\u0000<delivery>"
      if (first == null) firsts.put(id, until + "\u0000" + origin.getDelivery());
      else {
        int cut = first.indexOf('\u0000');
        if (!first.regionMatches(cut + 1, origin.getDelivery(), 0, origin.getDelivery().length())
            || first.length() - cut - 1 != origin.getDelivery().length()) return; // a retry: drop
        if (until > Long.parseLong(first, 0, cut, 10)) firsts.put(id, until + "\u0000" + origin.getDelivery());
      }
    }
    // The measurements one by one, each at its own event time (the aggregates' windows and stream time).
    context.forward(record.withTimestamp(Math.floorDiv(origin.getTimeUs(), 1000L)));
    for (RouterRequest n : value.getNextList())
      context.forward(record.withValue(n).withTimestamp(Math.floorDiv(n.getOrigin().getTimeUs(), 1000L)));
  }

  private void expire(long streamTime) {
    try (KeyValueIterator<String, String> it = firsts.all()) {
      while (it.hasNext()) {
        KeyValue<String, String> e = it.next();
        int cut = e.value.indexOf('\u0000');
        if (Long.parseLong(e.value, 0, cut, 10) <= streamTime) firsts.delete(e.key);
      }
    }
  }
}
