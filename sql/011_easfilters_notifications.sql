-- zxmobile migration 011: EAS filters (spec section 9) and server notifications (spec section 5,
-- "added to server notifications").

-- EAS filters, evaluated in the order of position.  The CLI shows position as the filter's ID
-- (0-based; IDs renumber after a move or a delete), so positions are kept 0..n-1: every change
-- takes a table lock and renumbers in the same transaction (hence the deferred unique check).
-- versions is a comma list ("2.5,12.0,14.1"); the built-in Outlook filter (builtin = 'outlook')
-- stores none: its version is ZxMobile_MaxOutlookVersion.
CREATE TABLE eas_filters (
    id          bigserial PRIMARY KEY,
    position    integer NOT NULL,
    type        text NOT NULL,
    parameter   text NOT NULL DEFAULT '',
    mode        text NOT NULL,
    versions    text NOT NULL DEFAULT '',
    blocking    boolean NOT NULL DEFAULT false,
    builtin     text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT eas_filters_position_key UNIQUE (position) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT eas_filters_position_check CHECK (position >= 0),
    CONSTRAINT eas_filters_type_check
        CHECK (type IN ('and', 'or', 'regex', 'contains', 'account', 'domain', 'always')),
    CONSTRAINT eas_filters_mode_check CHECK (mode IN ('add', 'subtract', 'fixed', 'limit')),
    CONSTRAINT eas_filters_builtin_check CHECK (builtin IS NULL OR builtin = 'outlook'),
    CONSTRAINT eas_filters_versions_check CHECK (builtin IS NOT NULL OR versions <> '')
);

-- The default Outlook EAS filter of the documented getAllEASFilters output (ID 0).
INSERT INTO eas_filters (position, type, parameter, mode, versions, blocking, builtin)
VALUES (0, 'or', 'contains=outlook/,contains=microsoft.outlook', 'fixed', '', true, 'outlook');

-- Server notifications (zxsuite core getNotification).  mail_status says whether the e-mail
-- to the administrators (ZxMobile_NotificationRecipients) went out, or why not.
CREATE TABLE notifications (
    id          bigserial PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now(),
    server      text NOT NULL DEFAULT '',
    module      text NOT NULL,
    source      text NOT NULL DEFAULT '',
    level       text NOT NULL DEFAULT 'info',
    subject     text NOT NULL,
    body        text NOT NULL DEFAULT '',
    account     text,
    device_id   text,
    mail_status text,
    CONSTRAINT notifications_level_check CHECK (level IN ('info', 'warning', 'error'))
);
CREATE INDEX notifications_created_idx ON notifications (created_at);
