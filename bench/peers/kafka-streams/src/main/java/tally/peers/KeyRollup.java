package tally.peers;

import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.DDSketches;
import com.datadoghq.sketch.ddsketch.encoding.Input;
import com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput;
import com.datadoghq.sketch.ddsketch.encoding.VarEncodingHelper;
import com.datadoghq.sketch.ddsketch.mapping.LogarithmicMapping;
import com.datadoghq.sketch.ddsketch.store.UnboundedSizeDenseStore;
import com.google.protobuf.ByteString;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KeyValue;
import tally.v1.Measurement.RouterRequest;
import tally.v1.SummaryOuterClass.Period;
import tally.v1.SummaryOuterClass.Summary;

/**
 * The rollup of one record key (owner:process_type) in one window: the samples tally's Samples.ts
 * takes from a router measurement. router_status (label = status code, value 1) always; router_service_ms
 * and router_connect_ms (with DDSketch, LogarithmicMapping at 1%, like tally) and router_bytes when set.
 * One aggregate per record key keeps the aggregation on the input's own partitioning (no repartition topic).
 */
final class KeyRollup {
  static final double RELATIVE_ACCURACY = 0.01;
  static final LogarithmicMapping MAPPING = new LogarithmicMapping(RELATIVE_ACCURACY);

  String owner = "";
  String processType = "";
  // router_status: requests per status code (each sample is 1: sum = sumsq = count, min = max = 1)
  int[] statusCodes = new int[4];
  long[] statusCounts = new long[4];
  int statuses;
  final Stats service = new Stats();
  final Stats connect = new Stats();
  final Stats bytes = new Stats();
  DDSketch serviceSketch;
  DDSketch connectSketch;

  static DDSketch newSketch() {
    return new DDSketch(MAPPING, UnboundedSizeDenseStore::new);
  }

  /** Adds one measurement (its own fields: a record's `next` is forwarded one by one, see Dedupe) of `key`. */
  KeyRollup add(String key, RouterRequest r) {
    if (statuses == 0) {
      // The record key is owner:process_type (a further measurement's origin holds only dyno and time).
      int colon = key.indexOf(':');
      owner = key.substring(0, colon);
      processType = key.substring(colon + 1);
    }
    addStatus(r.getStatus(), 1);
    if (r.hasServiceMs()) {
      service.add(r.getServiceMs());
      if (serviceSketch == null) serviceSketch = newSketch();
      serviceSketch.accept(r.getServiceMs());
    }
    if (r.hasConnectMs()) {
      connect.add(r.getConnectMs());
      if (connectSketch == null) connectSketch = newSketch();
      connectSketch.accept(r.getConnectMs());
    }
    if (r.hasBytes()) bytes.add((double) r.getBytes());
    return this;
  }

  private void addStatus(int code, long n) {
    for (int i = 0; i < statuses; i++)
      if (statusCodes[i] == code) {
        statusCounts[i] += n;
        return;
      }
    if (statuses == statusCodes.length) {
      statusCodes = java.util.Arrays.copyOf(statusCodes, statuses * 2);
      statusCounts = java.util.Arrays.copyOf(statusCounts, statuses * 2);
    }
    statusCodes[statuses] = code;
    statusCounts[statuses++] = n;
  }

  /** Full snapshots of every series, keyed and encoded exactly like tally's summaries. */
  List<KeyValue<String, byte[]>> summaries(String period, long startMs) {
    List<KeyValue<String, byte[]>> out = new ArrayList<>(statuses + 3);
    Period wire = period.equals("1m") ? Period.PERIOD_1M : Period.PERIOD_15M;
    String prefix = owner + ":" + processType + ":";
    String suffix = ":" + period + ":" + startMs;
    for (int i = 0; i < statuses; i++) {
      long n = statusCounts[i];
      String label = Integer.toString(statusCodes[i]);
      out.add(summary(prefix + "router_status:" + label + suffix, wire, startMs, "router_status", label,
          n, n, n, 1, 1, null));
    }
    if (service.count > 0)
      out.add(summary(prefix + "router_service_ms:" + suffix, wire, startMs, "router_service_ms", "",
          service.count, service.sum, service.sumsq, service.min, service.max, serviceSketch));
    if (connect.count > 0)
      out.add(summary(prefix + "router_connect_ms:" + suffix, wire, startMs, "router_connect_ms", "",
          connect.count, connect.sum, connect.sumsq, connect.min, connect.max, connectSketch));
    if (bytes.count > 0)
      out.add(summary(prefix + "router_bytes:" + suffix, wire, startMs, "router_bytes", "",
          bytes.count, bytes.sum, bytes.sumsq, bytes.min, bytes.max, null));
    return out;
  }

  private KeyValue<String, byte[]> summary(String key, Period period, long startMs, String metric,
      String label, long count, double sum, double sumsq, double min, double max, DDSketch sketch) {
    Summary.Builder b = Summary.newBuilder()
        .setOwner(owner)
        .setProcessType(processType)
        .setMetric(metric)
        .setLabel(label)
        .setPeriod(period)
        .setStartMs(startMs)
        .setCount(count)
        .setSum(sum)
        .setSumsq(sumsq)
        .setMin(min)
        .setMax(max)
        .setVersion(count);
    if (sketch != null) b.setSketch(ByteString.copyFrom(sketch.serialize())); // DDSketch protobuf
    return KeyValue.pair(key, b.build().toByteArray());
  }

  /** A compact binary serde for the window stores (varints, raw doubles, DDSketch's own encoding). */
  static final class RollupSerde implements Serde<KeyRollup> {
    private static final ThreadLocal<GrowingByteArrayOutput> OUT =
        ThreadLocal.withInitial(() -> GrowingByteArrayOutput.withInitialCapacity(4096));
    private static final ThreadLocal<GrowingByteArrayOutput> SKETCH =
        ThreadLocal.withInitial(() -> GrowingByteArrayOutput.withInitialCapacity(4096));

    @Override
    public Serializer<KeyRollup> serializer() {
      return (topic, r) -> r == null ? null : write(r);
    }

    @Override
    public Deserializer<KeyRollup> deserializer() {
      return (topic, data) -> data == null ? null : read(data);
    }

    static byte[] write(KeyRollup r) {
      try {
        GrowingByteArrayOutput out = OUT.get();
        out.clear();
        writeString(out, r.owner);
        writeString(out, r.processType);
        VarEncodingHelper.encodeUnsignedVarLong(out, r.statuses);
        for (int i = 0; i < r.statuses; i++) {
          VarEncodingHelper.encodeUnsignedVarLong(out, r.statusCodes[i]);
          VarEncodingHelper.encodeUnsignedVarLong(out, r.statusCounts[i]);
        }
        writeStats(out, r.service);
        writeStats(out, r.connect);
        writeStats(out, r.bytes);
        // service sketch length-prefixed, then the connect sketch to the end
        GrowingByteArrayOutput sketch = SKETCH.get();
        sketch.clear();
        if (r.serviceSketch != null) r.serviceSketch.encode(sketch, true);
        VarEncodingHelper.encodeUnsignedVarLong(out, sketch.numWrittenBytes());
        byte[] s = sketch.backingArray();
        for (int i = 0, n = sketch.numWrittenBytes(); i < n; i++) out.writeByte(s[i]);
        if (r.connectSketch != null) r.connectSketch.encode(out, true);
        return out.trimmedCopy();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    static KeyRollup read(byte[] data) {
      try {
        Cursor in = new Cursor(data, 0, data.length);
        KeyRollup r = new KeyRollup();
        r.owner = readString(in);
        r.processType = readString(in);
        int statuses = (int) VarEncodingHelper.decodeUnsignedVarLong(in);
        for (int i = 0; i < statuses; i++) {
          int code = (int) VarEncodingHelper.decodeUnsignedVarLong(in);
          r.addStatus(code, VarEncodingHelper.decodeUnsignedVarLong(in));
        }
        readStats(in, r.service);
        readStats(in, r.connect);
        readStats(in, r.bytes);
        int serviceLength = (int) VarEncodingHelper.decodeUnsignedVarLong(in);
        if (serviceLength > 0)
          r.serviceSketch = DDSketch.decode(new Cursor(data, in.pos, in.pos + serviceLength),
              UnboundedSizeDenseStore::new, MAPPING);
        int connectAt = in.pos + serviceLength;
        if (connectAt < data.length)
          r.connectSketch = DDSketch.decode(new Cursor(data, connectAt, data.length),
              UnboundedSizeDenseStore::new, MAPPING);
        return r;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** DDSketch's Input over a byte range, with its position readable. */
    static final class Cursor implements Input {
      final byte[] data;
      int pos;
      final int end;

      Cursor(byte[] data, int from, int end) {
        this.data = data;
        this.pos = from;
        this.end = end;
      }

      @Override
      public boolean hasRemaining() {
        return pos < end;
      }

      @Override
      public byte readByte() throws EOFException {
        if (pos >= end) throw new EOFException();
        return data[pos++];
      }
    }

    private static void writeString(GrowingByteArrayOutput out, String s) throws IOException {
      byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      VarEncodingHelper.encodeUnsignedVarLong(out, b.length);
      for (byte x : b) out.writeByte(x);
    }

    private static String readString(Cursor in) throws IOException {
      int n = (int) VarEncodingHelper.decodeUnsignedVarLong(in);
      byte[] b = new byte[n];
      for (int i = 0; i < n; i++) b[i] = in.readByte();
      return new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }

    private static void writeStats(GrowingByteArrayOutput out, Stats s) throws IOException {
      VarEncodingHelper.encodeUnsignedVarLong(out, s.count);
      if (s.count == 0) return;
      out.writeDoubleLE(s.sum);
      out.writeDoubleLE(s.sumsq);
      out.writeDoubleLE(s.min);
      out.writeDoubleLE(s.max);
    }

    private static void readStats(Cursor in, Stats s) throws IOException {
      s.count = VarEncodingHelper.decodeUnsignedVarLong(in);
      if (s.count == 0) return;
      s.sum = in.readDoubleLE();
      s.sumsq = in.readDoubleLE();
      s.min = in.readDoubleLE();
      s.max = in.readDoubleLE();
    }
  }
}
