-- zxmobile migration 016: the login throttle per (account, service) and per client address
-- (issue 13, items 3 and 7).
--
-- A lockout used to be per account: ten bad EAS passwords also refused the right IMAP password
-- (`zxsuite auth check ... service imap`).  A mobile password being guessed must not lock the
-- user out of the other services, so failures are now counted and locked per (account,
-- service), as Zextras counts failures per credential/app-specific password.
ALTER TABLE auth_failures ADD COLUMN service text NOT NULL DEFAULT 'eas';
ALTER TABLE auth_failures ALTER COLUMN service DROP DEFAULT;
ALTER TABLE auth_failures DROP CONSTRAINT auth_failures_pkey;
ALTER TABLE auth_failures ADD PRIMARY KEY (account_id, service);

-- Failed logins from one client address for accounts that do not exist, inside the current
-- window (ZxMobile_AuthFailureWindow); locked_until set when the count reaches
-- ZxMobile_AuthAddressMaxFailures: until then, logins from that address that no cached
-- verification vouches for are refused without a password check.
CREATE TABLE auth_address_failures (
    address       text PRIMARY KEY,
    window_start  timestamptz NOT NULL,
    failures      integer NOT NULL,
    locked_until  timestamptz
);
