-- zxmobile migration 010: ABQ - Allow/Block/Quarantine (spec 11).  The device control list,
-- the regex rules, the custom notice messages, what each device was last served, and the
-- bookkeeping of the administrator notifications.  libzxsync/abq/abq.c reads and writes them;
-- the request pipeline reads everything it needs in one statement.

-- The device control list: a DeviceId for every account (account_id NULL) or for one account
-- (the "device_id/account" entries).  DeviceIds compare case-insensitively.  source says who
-- made the entry: an administrator ("admin", "import"), the import of known devices on the
-- first start of the service ("startup"), or the mode that decided about an unknown device
-- ("interactive": Quarantined, "strict": Blocked).
CREATE TABLE abq_devices (
    id          bigserial PRIMARY KEY,
    device_id   text NOT NULL,
    account_id  bigint REFERENCES accounts (id) ON DELETE CASCADE,
    status      text NOT NULL,
    source      text NOT NULL DEFAULT 'admin',
    created_at  timestamptz NOT NULL DEFAULT now(),
    modified_at timestamptz NOT NULL DEFAULT now(),
    modified_by text,
    CONSTRAINT abq_devices_device_id_check CHECK (device_id ~ '^[A-Za-z0-9]{1,32}$'),
    CONSTRAINT abq_devices_status_check CHECK (status IN ('Allowed', 'Blocked', 'Quarantined')),
    CONSTRAINT abq_devices_source_check
        CHECK (source IN ('admin', 'import', 'startup', 'interactive', 'strict'))
);
CREATE UNIQUE INDEX abq_devices_key ON abq_devices (lower(device_id), COALESCE(account_id, 0));
CREATE INDEX abq_devices_account_idx ON abq_devices (account_id) WHERE account_id IS NOT NULL;

-- Rules: a regular expression (POSIX extended, matched against the whole DeviceId) with a
-- status, evaluated in ascending order (ties: a domain's rules first, then by regex); a rule
-- with a domain applies only to that domain's accounts.
CREATE TABLE abq_rules (
    id          bigserial PRIMARY KEY,
    regex       text NOT NULL,
    status      text NOT NULL,
    ord         bigint NOT NULL,
    domain_id   bigint REFERENCES domains (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    modified_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT abq_rules_status_check CHECK (status IN ('Allowed', 'Blocked', 'Quarantined')),
    CONSTRAINT abq_rules_regex_check CHECK (regex <> '' AND regex !~ '[[:cntrl:]]')
);
CREATE UNIQUE INDEX abq_rules_key ON abq_rules (regex, COALESCE(domain_id, 0));

-- The notice a held-back device finds in its dummy Inbox (setABQMessage): global (domain_id
-- NULL) or per domain, per type and per locale ('default' or a locale such as 'fr', 'en_US').
CREATE TABLE abq_messages (
    domain_id   bigint REFERENCES domains (id) ON DELETE CASCADE,
    type        text NOT NULL,
    locale      text NOT NULL,
    from_addr   text,
    reply_to    text,
    subject     text NOT NULL,
    body_plain  text NOT NULL,
    body_html   text,
    modified_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT abq_messages_type_check CHECK (type IN ('quarantined', 'blocked')),
    CONSTRAINT abq_messages_locale_check
        CHECK (locale = 'default' OR locale ~ '^[a-z]{2,3}(_[A-Za-z0-9]{2,8})?$')
);
CREATE UNIQUE INDEX abq_messages_key ON abq_messages (COALESCE(domain_id, 0), type, locale);

-- What the pipeline last served each device: 'A' its mailbox, 'Q' / 'B' the dummy mailbox of
-- a quarantined / blocked device (NULL: never held back, as 'A').  A change resets the
-- device's sync states.  abq_notified: the administrators were told about this quarantine.
ALTER TABLE devices
    ADD COLUMN abq_status   char(1),
    ADD COLUMN abq_since    timestamptz,
    ADD COLUMN abq_notified boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT devices_abq_status_check CHECK (abq_status IN ('A', 'Q', 'B'));
CREATE INDEX devices_abq_pending_idx ON devices (abq_since)
    WHERE abq_status = 'Q' AND NOT abq_notified;

-- One row: the import of the known devices on the first start (imported_at), and the last
-- administrator notification.  A node sends a notification only after claiming this row with a
-- conditional UPDATE (due, and not locked by another node), so exactly one node sends it.
CREATE TABLE abq_state (
    id                 integer PRIMARY KEY DEFAULT 1,
    imported_at        timestamptz,
    imported_count     bigint,
    last_notification  timestamptz,
    notifications_sent bigint NOT NULL DEFAULT 0,
    CONSTRAINT abq_state_one_row CHECK (id = 1)
);
INSERT INTO abq_state (id) VALUES (1);
