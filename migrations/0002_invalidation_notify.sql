-- 0002_invalidation_notify: announce every committed change that a cached credential depends on,
-- so a backend that edits these tables with plain SQL revokes on every keygate instance without
-- calling POST /cache/invalidate (keygate LISTENs when store.postgres.listen_notify is true;
-- src/adapters/postgres/pg_listener.cpp). Forward-only: never edit once applied; add 0003_… instead.
--
-- Channel: keygate_invalidate. Payload (parsed strictly by src/cache/change_notice.cpp; anything
-- else is counted as malformed and ignored):
--   k:<key_hash>            an api_keys row was inserted, deleted or changed
--   k:<old_hash>,<new_hash> an UPDATE changed key_hash itself (both must be re-read)
--   s:<token_hash>          the same for sessions (s:<old>,<new> when token_hash changed)
--   u:<user id>             a user's role, disabled_at or tenant_id changed (all their credentials)
--   t:<tenant id>           a tenant's api_access changed (all its credentials)
-- At most 2 + 64 + 1 + 64 bytes, far below pg_notify's 8000-byte limit. NOTIFY is transactional:
-- delivered at commit (never for a rollback), with identical payloads of one transaction merged.
--
-- Not announced, on purpose:
--  * UPDATEs of api_keys that change only last_used_at/updated_at: keygate writes last_used_at
--    itself in batches every second; announcing those would purge hot keys on every instance;
--  * users/tenants columns that no cache entry carries (created_at, name, max_keys_per_user):
--    one such row fans out to every credential of the user/tenant, so only the columns that
--    decide a request trigger it;
--  * INSERT/DELETE of users and tenants: no credential can reference a new row, and the foreign
--    keys forbid deleting a referenced one;
--  * TRUNCATE (no row triggers): follow it with POST /cache/invalidate.

CREATE FUNCTION keygate_notify_credential() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  -- TG_ARGV[0]: payload prefix ('k' or 's'); TG_ARGV[1]: the hash column.
  old_hash text;
  new_hash text;
BEGIN
  IF TG_OP <> 'INSERT' THEN
    old_hash := to_jsonb(OLD) ->> TG_ARGV[1];
  END IF;
  IF TG_OP <> 'DELETE' THEN
    new_hash := to_jsonb(NEW) ->> TG_ARGV[1];
  END IF;
  IF old_hash IS NULL OR new_hash IS NULL OR old_hash = new_hash THEN
    PERFORM pg_notify('keygate_invalidate', TG_ARGV[0] || ':' || coalesce(new_hash, old_hash));
  ELSE
    PERFORM pg_notify('keygate_invalidate', TG_ARGV[0] || ':' || old_hash || ',' || new_hash);
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION keygate_notify_owner() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- TG_ARGV[0]: payload prefix ('u' or 't'). OLD.id: the id credentials reference.
  PERFORM pg_notify('keygate_invalidate', TG_ARGV[0] || ':' || OLD.id);
  RETURN NULL;
END
$$;

CREATE TRIGGER api_keys_notify_insert_delete AFTER INSERT OR DELETE ON api_keys
  FOR EACH ROW EXECUTE FUNCTION keygate_notify_credential('k', 'key_hash');
-- The WHEN clause is evaluated without calling the function: last_used_at batches cost no plpgsql.
CREATE TRIGGER api_keys_notify_update AFTER UPDATE ON api_keys
  FOR EACH ROW
  WHEN ((to_jsonb(OLD) - 'last_used_at' - 'updated_at') IS DISTINCT FROM (to_jsonb(NEW) - 'last_used_at' - 'updated_at'))
  EXECUTE FUNCTION keygate_notify_credential('k', 'key_hash');

CREATE TRIGGER sessions_notify_insert_delete AFTER INSERT OR DELETE ON sessions
  FOR EACH ROW EXECUTE FUNCTION keygate_notify_credential('s', 'token_hash');
CREATE TRIGGER sessions_notify_update AFTER UPDATE ON sessions
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*)
  EXECUTE FUNCTION keygate_notify_credential('s', 'token_hash');

CREATE TRIGGER users_notify_update AFTER UPDATE ON users
  FOR EACH ROW
  WHEN (OLD.role IS DISTINCT FROM NEW.role OR OLD.disabled_at IS DISTINCT FROM NEW.disabled_at
        OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id)
  EXECUTE FUNCTION keygate_notify_owner('u');

CREATE TRIGGER tenants_notify_update AFTER UPDATE ON tenants
  FOR EACH ROW WHEN (OLD.api_access IS DISTINCT FROM NEW.api_access)
  EXECUTE FUNCTION keygate_notify_owner('t');
