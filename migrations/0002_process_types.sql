-- Which process types each app has, and so on which shard each of its series lives: the API needs it
-- to name the process types of a shard that is down (the `missing` list) without asking that shard.
CREATE TABLE app_process_types (
  owner uuid NOT NULL,
  process_type text NOT NULL,
  first_seen timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, process_type)
);
