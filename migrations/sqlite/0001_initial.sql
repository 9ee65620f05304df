-- 0001_initial (SQLite dialect): the same tables as migrations/0001_initial.sql (SPEC §7).
-- Forward-only: never edit this file once applied anywhere; add 0002_… instead.
-- Timestamps are INTEGER microseconds since the Unix epoch (UTC); scopes are space-joined text;
-- booleans are 0/1. STRICT tables give Postgres-like column typing. Id and hash formats are
-- checked with GLOB because SQLite has no built-in regexp.

CREATE TABLE tenants (
  id                TEXT    PRIMARY KEY NOT NULL
                    CHECK (length(id) BETWEEN 1 AND 128 AND id NOT GLOB '*[^A-Za-z0-9._:@-]*'),
  name              TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
  api_access        INTEGER NOT NULL DEFAULT 1 CHECK (api_access IN (0, 1)),
  max_keys_per_user INTEGER CHECK (max_keys_per_user > 0),
  created_at        INTEGER NOT NULL
) STRICT;

-- User ids are unique across tenants (a session names only the user).
CREATE TABLE users (
  id          TEXT    PRIMARY KEY NOT NULL
              CHECK (length(id) BETWEEN 1 AND 128 AND id NOT GLOB '*[^A-Za-z0-9._:@-]*'),
  tenant_id   TEXT    NOT NULL REFERENCES tenants (id),
  role        TEXT    NOT NULL CHECK (role IN ('viewer', 'member', 'admin', 'owner')),
  disabled_at INTEGER,
  created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX users_tenant_idx ON users (tenant_id);

CREATE TABLE api_keys (
  id             TEXT    PRIMARY KEY NOT NULL
                 CHECK (length(id) = 28 AND id GLOB 'key_*' AND substr(id, 5) NOT GLOB '*[^A-Za-z0-9]*'),
  tenant_id      TEXT    NOT NULL REFERENCES tenants (id),
  user_id        TEXT    NOT NULL REFERENCES users (id),
  name           TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
  description    TEXT    NOT NULL DEFAULT '' CHECK (length(description) <= 1024),
  display_prefix TEXT    NOT NULL,
  key_hash       TEXT    NOT NULL CHECK (length(key_hash) = 64 AND key_hash NOT GLOB '*[^0-9a-f]*'),
  scopes         TEXT    NOT NULL DEFAULT '',
  role           TEXT    NOT NULL CHECK (role IN ('viewer', 'member', 'admin', 'owner')),
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  expires_at     INTEGER,
  disabled_at    INTEGER,
  revoked_at     INTEGER,
  last_used_at   INTEGER,
  rotated_from   TEXT    REFERENCES api_keys (id)
) STRICT;
-- The hot path: one lookup by hash per cache miss.
CREATE UNIQUE INDEX api_keys_key_hash_idx ON api_keys (key_hash);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, created_at);
CREATE INDEX api_keys_user_idx ON api_keys (user_id, created_at);

CREATE TABLE sessions (
  id         TEXT    PRIMARY KEY NOT NULL
             CHECK (length(id) = 28 AND id GLOB 'ses_*' AND substr(id, 5) NOT GLOB '*[^A-Za-z0-9]*'),
  token_hash TEXT    NOT NULL CHECK (length(token_hash) = 64 AND token_hash NOT GLOB '*[^0-9a-f]*'),
  tenant_id  TEXT    NOT NULL REFERENCES tenants (id),
  user_id    TEXT    NOT NULL REFERENCES users (id),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER
) STRICT;
CREATE UNIQUE INDEX sessions_token_hash_idx ON sessions (token_hash);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- One row per successful management mutation, written in the mutation's transaction.
CREATE TABLE audit_events (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  at          INTEGER NOT NULL,
  tenant_id   TEXT,
  actor       TEXT    NOT NULL,
  auth_method TEXT    NOT NULL,
  action      TEXT    NOT NULL,
  target      TEXT    NOT NULL,
  request_id  TEXT    NOT NULL DEFAULT '',
  client_ip   TEXT    NOT NULL DEFAULT '',
  outcome     TEXT    NOT NULL,
  detail      TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(detail))
) STRICT;
CREATE INDEX audit_events_tenant_idx ON audit_events (tenant_id, id);
