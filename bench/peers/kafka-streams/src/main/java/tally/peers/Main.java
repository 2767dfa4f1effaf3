package tally.peers;

/** java -jar kafka-streams-peer.jar run|watch|produce|admin ... (see RollupApp, Watch, Produce, Admin). */
public final class Main {
  public static void main(String[] argv) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel",
        System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
    if (argv.length == 0) usage();
    switch (argv[0]) {
      case "run" -> RollupApp.run(new Args(argv, 1));
      case "watch" -> Watch.run(new Args(argv, 1));
      case "produce" -> Produce.run(new Args(argv, 1));
      case "admin" -> {
        if (argv.length < 2) usage();
        Admin.run(argv[1], new Args(argv, 2));
      }
      default -> usage();
    }
  }

  private static void usage() {
    System.err.println("usage: run --bootstrap B --app-id ID --input T --output T --threads N --state-dir D"
        + " [--commit-ms 1000] [--cache-mb 64] [--periods 1m,15m]\n"
        + "       watch --bootstrap B --topic T --expect metric=N,... [--periods 1m,15m] [--timeout-s 600]\n"
        + "       produce --bootstrap B --topic T   (stdin: [int32 n][key][int64 ts][int32 n][value]...)\n"
        + "       admin create-topics --bootstrap B   (stdin: name partitions replication k=v;k=v)\n"
        + "       admin delete-groups --bootstrap B [--prefix P] [GROUP...]\n"
        + "       admin cleanup --bootstrap B --prefix P");
    System.exit(2);
  }
}
