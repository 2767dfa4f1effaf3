-- Alert rules (DESIGN.md "Alerts") and the alerter's durable state, kept on the catalogue shard (shard 0).
-- The alerter writes each evaluation's states, transitions (as events) and deliveries in ONE transaction
-- before it commits the summary offsets they cover (docs/architecture.md, "Alerts").
CREATE TABLE alert_rules (
  id uuid PRIMARY KEY,
  owner uuid NOT NULL REFERENCES apps (owner) ON DELETE CASCADE,
  name text NOT NULL,
  metric text NOT NULL,
  process_type text NOT NULL,
  threshold double precision NOT NULL,
  for_minutes integer NOT NULL,
  repeat_minutes integer NOT NULL,
  min_requests bigint NOT NULL,
  webhook text,
  -- The key of the webhook's HMAC signature: needed to sign, so kept as is (shown once at creation).
  secret text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (owner, name)
);

-- Each rule's state as of the alerter's last evaluation that changed it. breaches: bit k is the minute
-- k minutes before history_minute (1 = breached); minutes after history_minute up to the alerter's
-- evaluated minute did not breach.
CREATE TABLE alert_state (
  rule_id uuid PRIMARY KEY REFERENCES alert_rules (id) ON DELETE CASCADE,
  state text NOT NULL,
  since timestamptz NOT NULL,
  value double precision,
  history_minute timestamptz,
  breaches bigint NOT NULL DEFAULT 0,
  fired_at timestamptz,
  notified_at timestamptz,
  -- Notifications made for the rule so far: numbers its deliveries (their ids derive from it).
  notices bigint NOT NULL DEFAULT 0
);

-- The last minute each alerter worker (its consumer group) has evaluated for every rule it owns.
CREATE TABLE alert_progress (
  consumer text PRIMARY KEY,
  evaluated_minute timestamptz NOT NULL
);

-- The outbox: notifications written with the transition that caused them, deleted once the receiver
-- answered 2xx. kind: alertmanager or webhook; receiver: what deliveries queue by (a webhook's origin).
-- status: pending, or abandoned (undelivered for a day, or refused).
CREATE TABLE alert_outbox (
  seq bigserial PRIMARY KEY,
  id uuid NOT NULL UNIQUE,
  rule_id uuid NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
  partition integer NOT NULL,
  kind text NOT NULL,
  receiver text NOT NULL,
  url text NOT NULL,
  body text NOT NULL,
  signature text,
  status text NOT NULL DEFAULT 'pending',
  created_at timestamptz NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  done_at timestamptz
);
CREATE INDEX alert_outbox_pending ON alert_outbox (partition, seq) WHERE status = 'pending';
CREATE INDEX alert_outbox_rule ON alert_outbox (rule_id);

-- Grows with every rule created or deleted: alerters poll it to reload the rules when it moves.
CREATE TABLE alert_catalogue (
  id integer PRIMARY KEY CHECK (id = 1),
  version bigint NOT NULL
);
INSERT INTO alert_catalogue (id, version) VALUES (1, 0);
