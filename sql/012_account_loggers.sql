-- zxmobile migration 012: mobile account loggers (spec 10).  `zxsuite mobile doAddAccountLogger`
-- adds a row; every httpd child keeps the rows in memory (re-read every few seconds, see
-- gate/acctlog.c), writes each EAS exchange of the account to `file` at `level`, and caps the
-- Sync WindowSize of the account's devices at `window_size` while the row exists.
-- Unlike Zextras (where loggers live in the mailboxd's memory and end with it), a row stays
-- until `doRemoveLogger` or the deletion of its account: the CLI and the httpd children of every
-- node only share the database.

CREATE TABLE account_loggers (
    id           bigserial PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    level        text NOT NULL,
    file         text NOT NULL,             -- absolute path, opened by the httpd children
    window_size  integer,                   -- NULL: no cap
    created      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT account_loggers_level_check
        CHECK (level IN ('trace', 'debug', 'info', 'warn', 'err', 'crit')),
    CONSTRAINT account_loggers_window_check CHECK (window_size IS NULL OR window_size > 0),
    CONSTRAINT account_loggers_file_check CHECK (file LIKE '/%')
);
-- one logger per (account, file): two would write every exchange twice into the same file
CREATE UNIQUE INDEX account_loggers_account_file_key ON account_loggers (account_id, file);
