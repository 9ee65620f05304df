-- 0001_initial: tenants, users, API keys, sessions and the audit trail (SPEC §7).
-- Forward-only: never edit this file once applied anywhere; add 0002_… instead.
-- Timestamps are timestamptz (UTC). ids of tenants and users are the caller's own; key and
-- session ids are generated ("key_…", "ses_…").

CREATE TABLE tenants (
  id                text        PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._:@-]{1,128}$'),
  name              text        NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
  api_access        boolean     NOT NULL DEFAULT true,
  max_keys_per_user integer     CHECK (max_keys_per_user > 0),
  created_at        timestamptz NOT NULL DEFAULT now()
);

-- User ids are unique across tenants (a session names only the user).
CREATE TABLE users (
  id          text        PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._:@-]{1,128}$'),
  tenant_id   text        NOT NULL REFERENCES tenants (id),
  role        text        NOT NULL CHECK (role IN ('viewer', 'member', 'admin', 'owner')),
  disabled_at timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_tenant_idx ON users (tenant_id);

CREATE TABLE api_keys (
  id             text        PRIMARY KEY CHECK (id ~ '^key_[A-Za-z0-9]{24}$'),
  tenant_id      text        NOT NULL REFERENCES tenants (id),
  user_id        text        NOT NULL REFERENCES users (id),
  name           text        NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
  description    text        NOT NULL DEFAULT '' CHECK (length(description) <= 1024),
  display_prefix text        NOT NULL,
  key_hash       text        NOT NULL CHECK (key_hash ~ '^[0-9a-f]{64}$'),
  scopes         text[]      NOT NULL DEFAULT '{}',
  role           text        NOT NULL CHECK (role IN ('viewer', 'member', 'admin', 'owner')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz,
  disabled_at    timestamptz,
  revoked_at     timestamptz,
  last_used_at   timestamptz,
  rotated_from   text        REFERENCES api_keys (id)
);
-- The hot path: one lookup by hash per cache miss.
CREATE UNIQUE INDEX api_keys_key_hash_idx ON api_keys (key_hash);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, created_at);
CREATE INDEX api_keys_user_idx ON api_keys (user_id, created_at);

CREATE TABLE sessions (
  id         text        PRIMARY KEY CHECK (id ~ '^ses_[A-Za-z0-9]{24}$'),
  token_hash text        NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  tenant_id  text        NOT NULL REFERENCES tenants (id),
  user_id    text        NOT NULL REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE UNIQUE INDEX sessions_token_hash_idx ON sessions (token_hash);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- One row per successful management mutation, written in the mutation's transaction.
CREATE TABLE audit_events (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  tenant_id   text,
  actor       text        NOT NULL,
  auth_method text        NOT NULL,
  action      text        NOT NULL,
  target      text        NOT NULL,
  request_id  text        NOT NULL DEFAULT '',
  client_ip   text        NOT NULL DEFAULT '',
  outcome     text        NOT NULL,
  detail      jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_tenant_idx ON audit_events (tenant_id, id);
