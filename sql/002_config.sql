-- zxmobile migration 002: the configuration store ("zxsuite config", the account/COS attributes
-- of "zxsuite prov") and the state of the services of the mobile module.
--
-- One row per (level, target, attribute).  target is '' for global, the lower-case server name
-- for server, and the numeric id of the domain, COS or account for those levels, so renaming
-- never orphans a value.  Attribute names are stored lower-case (the registry in
-- libzxsync/include/zxsync/attrs.def has the canonical spelling); a multi-valued attribute keeps
-- its values in one row, one value per line.  Values are validated by libzxsync before they
-- are written.

CREATE TABLE config_values (
    level       text NOT NULL,
    target      text NOT NULL DEFAULT '',
    name        text NOT NULL,
    value       text NOT NULL,
    modified_at timestamptz NOT NULL DEFAULT now(),
    -- Derived from (level, target): they make the database refuse a value for a domain, COS or
    -- account that does not exist and delete the values of one that is deleted.
    domain_id   bigint GENERATED ALWAYS AS (CASE WHEN level = 'domain' THEN target::bigint END) STORED
                REFERENCES domains (id) ON DELETE CASCADE,
    cos_id      bigint GENERATED ALWAYS AS (CASE WHEN level = 'cos' THEN target::bigint END) STORED
                REFERENCES cos (id) ON DELETE CASCADE,
    account_id  bigint GENERATED ALWAYS AS (CASE WHEN level = 'account' THEN target::bigint END) STORED
                REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (level, target, name),
    CONSTRAINT config_values_level_check
        CHECK (level IN ('global', 'server', 'domain', 'cos', 'account')),
    CONSTRAINT config_values_target_check CHECK (
        CASE level
            WHEN 'global' THEN target = ''
            WHEN 'server' THEN target <> '' AND target = lower(target)
            ELSE target ~ '^[0-9]+$'
        END),
    CONSTRAINT config_values_name_lower CHECK (name = lower(name) AND name <> '')
);
CREATE INDEX config_values_domain_idx ON config_values (domain_id) WHERE domain_id IS NOT NULL;
CREATE INDEX config_values_cos_idx ON config_values (cos_id) WHERE cos_id IS NOT NULL;
CREATE INDEX config_values_account_idx ON config_values (account_id) WHERE account_id IS NOT NULL;

-- The attributes 001 kept per account and per COS move here.
INSERT INTO config_values (level, target, name, value)
SELECT 'account', account_id::text, lower(name), string_agg(value, E'\n' ORDER BY value)
  FROM account_attrs
 GROUP BY account_id, lower(name);
INSERT INTO config_values (level, target, name, value)
SELECT 'cos', cos_id::text, lower(name), string_agg(value, E'\n' ORDER BY value)
  FROM cos_attrs
 GROUP BY cos_id, lower(name);
DROP TABLE account_attrs;
DROP TABLE cos_attrs;

-- Services of the mobile module (spec section 14), shared by every node.  running is the state
-- the administrator asked for (doStartService/doStopService); whether a service actually runs
-- also depends on the module and on configuration (mobileAntiDosServiceEnabled,
-- abq_enabled_at_startup, abqMode), see zx_services_list().  restart_count/restarted_at record
-- doRestartService: the anti-DoS filter resets its jails when it sees them change.
CREATE TABLE services (
    name          text PRIMARY KEY,
    running       boolean NOT NULL DEFAULT true,
    restart_count bigint NOT NULL DEFAULT 0,
    started_at    timestamptz,
    stopped_at    timestamptz,
    restarted_at  timestamptz,
    modified_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT services_name_check
        CHECK (name IN ('module', 'activesync', 'autodiscover', 'abq', 'anti-dos'))
);
INSERT INTO services (name, started_at)
VALUES ('module', now()), ('activesync', now()), ('autodiscover', now()), ('abq', now()),
       ('anti-dos', now());
