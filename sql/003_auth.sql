-- zxmobile migration 003: authentication - mobile passwords (credentials), the auth version
-- stamp that ends cached verifications on every node, and the failure throttle.

-- Bumped whenever anything that decides a password check changes (account password,
-- credentials): nodes compare it with the version their cache entry was made under.
ALTER TABLE accounts ADD COLUMN auth_version bigint NOT NULL DEFAULT 1;

CREATE FUNCTION zx_accounts_auth_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.password_hash IS DISTINCT FROM OLD.password_hash THEN
        NEW.auth_version := OLD.auth_version + 1;
        NEW.password_changed_at := now();
    END IF;
    RETURN NEW;
END$$;
CREATE TRIGGER accounts_auth_version BEFORE UPDATE OF password_hash ON accounts
    FOR EACH ROW EXECUTE FUNCTION zx_accounts_auth_version();

-- Credentials of the Zextras Auth model (spec section 2.2): a mobile password is a credential
-- whose services include 'eas'.  Stored hashed (crypt(3)); the clear text is shown once.
CREATE TABLE credentials (
    id          text PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    label       text NOT NULL DEFAULT '',
    services    text[] NOT NULL,
    hash        text NOT NULL,
    enabled     boolean NOT NULL DEFAULT true,
    generated   boolean NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT credentials_services_check CHECK (cardinality(services) > 0 AND services <@
        ARRAY['eas', 'webui', 'webadminui', 'mobileapp', 'zmwebui', 'dav', 'smtp', 'imap', 'pop3']),
    CONSTRAINT credentials_id_check CHECK (id ~ '^[A-Za-z0-9]{5,16}$')
);
CREATE INDEX credentials_account_idx ON credentials (account_id);

CREATE FUNCTION zx_credentials_auth_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE accounts SET auth_version = auth_version + 1
     WHERE id IN (COALESCE(NEW.account_id, OLD.account_id), COALESCE(OLD.account_id, NEW.account_id));
    RETURN NULL;
END$$;
CREATE TRIGGER credentials_auth_version AFTER INSERT OR UPDATE OR DELETE ON credentials
    FOR EACH ROW EXECUTE FUNCTION zx_credentials_auth_version();

-- Failed verifications per account inside the current window; locked_until set when the
-- count reaches ZxMobile_AuthMaxFailures.
CREATE TABLE auth_failures (
    account_id    bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    window_start  timestamptz NOT NULL,
    failures      integer NOT NULL,
    locked_until  timestamptz
);
