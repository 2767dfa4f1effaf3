-- Apps and their credentials. Secrets and tokens are random 24-byte values; only their SHA-256 is stored.
-- Every shard gets the same fixed objects; apps live on shard 0, the catalogue shard.
CREATE TABLE apps (
  owner uuid PRIMARY KEY,
  name text NOT NULL UNIQUE,
  drain_secret_sha256 bytea NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE app_read_tokens (
  token_sha256 bytea PRIMARY KEY,
  owner uuid NOT NULL REFERENCES apps (owner) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX app_read_tokens_owner ON app_read_tokens (owner);
