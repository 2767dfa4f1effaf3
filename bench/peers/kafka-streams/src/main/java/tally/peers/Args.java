package tally.peers;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** --name value options and positional arguments. */
final class Args {
  final Map<String, String> options = new HashMap<>();
  final List<String> positional = new ArrayList<>();

  Args(String[] argv, int from) {
    for (int i = from; i < argv.length; i++) {
      if (argv[i].startsWith("--") && i + 1 < argv.length) options.put(argv[i].substring(2), argv[++i]);
      else positional.add(argv[i]);
    }
  }

  String get(String name) {
    String v = options.get(name);
    if (v == null) throw new IllegalArgumentException("missing --" + name);
    return v;
  }

  String get(String name, String fallback) {
    return options.getOrDefault(name, fallback);
  }
}
