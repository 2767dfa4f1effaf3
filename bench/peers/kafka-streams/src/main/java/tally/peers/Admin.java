package tally.peers;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.GroupNotEmptyException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/** What the runner needs from Kafka besides producing: creating topics, deleting groups and a prefix's topics. */
final class Admin {
  /**
   * admin create-topics --bootstrap B   (stdin: one "name partitions replication k=v;k=v" a line)
   * admin delete-groups --bootstrap B [--prefix P] [G...]   (the groups named, and those starting with P)
   * admin cleanup --bootstrap B --prefix P   (every topic and group whose name starts with P)
   */
  static void run(String command, Args a) throws Exception {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, a.get("bootstrap"));
    p.put(AdminClientConfig.CLIENT_ID_CONFIG, "tally-peers-admin");
    try (AdminClient admin = AdminClient.create(p)) {
      switch (command) {
        case "create-topics" -> createTopics(admin);
        case "delete-groups" -> {
          List<String> groups = new ArrayList<>(a.positional);
          String prefix = a.get("prefix", "");
          if (!prefix.isEmpty())
            for (ConsumerGroupListing g : admin.listConsumerGroups().all().get())
              if (g.groupId().startsWith(prefix)) groups.add(g.groupId());
          deleteGroups(admin, groups);
        }
        case "cleanup" -> {
          String prefix = a.get("prefix");
          if (prefix.length() < 6) throw new IllegalArgumentException("refusing a prefix this short: " + prefix);
          List<String> groups = new ArrayList<>();
          for (ConsumerGroupListing g : admin.listConsumerGroups().all().get())
            if (g.groupId().startsWith(prefix)) groups.add(g.groupId());
          deleteGroups(admin, groups);
          List<String> topics = new ArrayList<>();
          for (String t : admin.listTopics().names().get()) if (t.startsWith(prefix)) topics.add(t);
          for (var e : admin.deleteTopics(topics).topicNameValues().entrySet()) {
            try {
              e.getValue().get();
            } catch (ExecutionException x) {
              if (!(x.getCause() instanceof UnknownTopicOrPartitionException)) throw x; // already going
            }
          }
          System.out.println("deleted " + topics.size() + " topics and " + groups.size() + " groups of " + prefix);
        }
        default -> throw new IllegalArgumentException("admin: create-topics, delete-groups or cleanup, not " + command);
      }
    }
  }

  private static void createTopics(AdminClient admin) throws Exception {
    List<NewTopic> topics = new ArrayList<>();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      String[] f = line.trim().split(" ");
      if (f.length < 3) continue;
      Map<String, String> configs = new HashMap<>();
      if (f.length > 3)
        for (String kv : f[3].split(";")) configs.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
      topics.add(new NewTopic(f[0], Integer.parseInt(f[1]), Short.parseShort(f[2])).configs(configs));
    }
    for (var e : admin.createTopics(topics).values().entrySet()) {
      try {
        e.getValue().get();
      } catch (ExecutionException x) {
        if (!(x.getCause() instanceof TopicExistsException)) throw x;
      }
    }
  }

  /** Deletes groups; one whose last member has not left yet (a session still open) is retried for 60 s. */
  private static void deleteGroups(AdminClient admin, List<String> groups) throws Exception {
    long deadline = System.currentTimeMillis() + 60_000;
    List<String> left = new ArrayList<>(groups);
    while (!left.isEmpty()) {
      List<String> busy = new ArrayList<>();
      for (var e : admin.deleteConsumerGroups(left).deletedGroups().entrySet()) {
        try {
          e.getValue().get();
        } catch (ExecutionException x) {
          if (x.getCause() instanceof GroupNotEmptyException && System.currentTimeMillis() < deadline)
            busy.add(e.getKey());
          else if (!(x.getCause() instanceof GroupIdNotFoundException)) throw x;
        }
      }
      left = busy;
      if (!left.isEmpty()) Thread.sleep(1000);
    }
  }
}
