package tally.peers;

/** count, sum, sum of squares, min, max: the same arithmetic, in the same order, as tally's Stats. */
final class Stats {
  long count;
  double sum;
  double sumsq;
  double min = Double.POSITIVE_INFINITY;
  double max = Double.NEGATIVE_INFINITY;

  void add(double value) {
    count++;
    sum += value;
    sumsq += value * value;
    if (value < min) min = value;
    if (value > max) max = value;
  }
}
