-- zxmobile migration 001: the directory (domains, classes of service, accounts).
-- Names are stored lower-case; lookups are case-insensitive through that rule.

CREATE TABLE domains (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT domains_name_lower CHECK (name = lower(name) AND name <> '')
);
CREATE UNIQUE INDEX domains_name_key ON domains (name);

CREATE TABLE cos (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT cos_name_lower CHECK (name = lower(name) AND name <> '')
);
CREATE UNIQUE INDEX cos_name_key ON cos (name);
INSERT INTO cos (name) VALUES ('default');

CREATE TABLE accounts (
    id            bigserial PRIMARY KEY,
    uuid          uuid NOT NULL DEFAULT gen_random_uuid(),
    local_part    text NOT NULL,
    domain_id     bigint NOT NULL REFERENCES domains (id) ON DELETE RESTRICT,
    display_name  text,
    status        text NOT NULL DEFAULT 'active',
    cos_id        bigint REFERENCES cos (id) ON DELETE SET NULL,
    password_hash text,                 -- crypt(3) format: $y$, $6$, $2b$ ...
    password_changed_at timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    modified_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_status_check CHECK (status IN ('active', 'locked', 'closed')),
    CONSTRAINT accounts_local_lower CHECK (local_part = lower(local_part) AND local_part <> '')
);
CREATE UNIQUE INDEX accounts_uuid_key ON accounts (uuid);
CREATE UNIQUE INDEX accounts_name_key ON accounts (domain_id, local_part);
CREATE INDEX accounts_cos_idx ON accounts (cos_id);

-- Attributes of an account or a COS that are not columns (zmprov-style "attr value"),
-- e.g. zimbraFeatureMobileSyncEnabled.  One row per (owner, attribute, value): multi-valued
-- attributes have several rows.
CREATE TABLE account_attrs (
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        text NOT NULL,
    value       text NOT NULL,
    PRIMARY KEY (account_id, name, value)
);
CREATE TABLE cos_attrs (
    cos_id      bigint NOT NULL REFERENCES cos (id) ON DELETE CASCADE,
    name        text NOT NULL,
    value       text NOT NULL,
    PRIMARY KEY (cos_id, name, value)
);
