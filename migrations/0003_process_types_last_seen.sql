-- When each app's process type last brought data: the ingress notes it (at most once a UTC day a pair),
-- and retention removes the process types unseen for longer than the rollups are kept, so they stop
-- counting against the app's TALLY_MAX_PROCESS_TYPES. Rows of before this migration count as seen now.
ALTER TABLE app_process_types ADD COLUMN last_seen timestamptz NOT NULL DEFAULT now();
CREATE INDEX app_process_types_last_seen ON app_process_types (last_seen);
