-- Out-of-office replies (libzxsync/mailflow/oof.c): one automatic reply per sender per Oof
-- period (RFC 3834 2: not again to the same sender "within a period of several days"; here:
-- while the same Oof setting lasts).  The period is named by account_oof.updated_at, which a
-- device's Settings Oof set moves: a new setting replies to everyone once again.  Rows of
-- earlier periods are removed when the next reply of the account is recorded.
CREATE TABLE oof_replies (
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    sender      text NOT NULL,              -- the envelope sender replied to, lower-case
    period      timestamptz NOT NULL,       -- account_oof.updated_at of the setting
    replied_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, sender, period)
);
