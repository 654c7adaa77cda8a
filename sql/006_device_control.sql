-- zxmobile migration 006: what administrators control per device (spec 4, 12.1) - sync
-- suspension, remote wipe, the provisioning policy key - and the audit trail of every admin
-- action.  The pipeline reads these columns in the same statement that registers the device
-- (gate/device.c), so the checks cost no extra round trip.

ALTER TABLE devices
    -- doSuspendDeviceSync / doResumeDeviceSync
    ADD COLUMN sync_suspended     boolean NOT NULL DEFAULT false,
    -- remote wipe: 0 none, 1 requested (sent with the next Provision), 2 acknowledged (done);
    -- account_only: AccountOnlyRemoteWipe (16.1) instead of RemoteWipe
    ADD COLUMN wipe_status        smallint NOT NULL DEFAULT 0,
    ADD COLUMN wipe_account_only  boolean NOT NULL DEFAULT false,
    ADD COLUMN wipe_requested_at  timestamptz,
    ADD COLUMN wipe_requested_by  text,
    ADD COLUMN wipe_done_at       timestamptz,
    -- provisioning ([MS-ASPROV]): the final policy key the device acknowledged (NULL: not
    -- provisioned), the temporary key of a policy download not yet acknowledged
    ADD COLUMN policy_key         bigint,
    ADD COLUMN policy_key_temp    bigint,
    ADD COLUMN provisioned_at     timestamptz,
    -- last command (written with last_seen, at most once a minute) and last Ping heartbeat
    ADD COLUMN last_command       text,
    ADD COLUMN last_heartbeat     integer,
    ADD CONSTRAINT devices_wipe_status_check CHECK (wipe_status IN (0, 1, 2)),
    ADD CONSTRAINT devices_policy_key_check CHECK (policy_key IS NULL OR policy_key BETWEEN 1 AND 4294967295),
    ADD CONSTRAINT devices_policy_key_temp_check
        CHECK (policy_key_temp IS NULL OR policy_key_temp BETWEEN 1 AND 4294967295);

-- Every administrative action (CLI or any future admin UI): who, what, on what, when.
CREATE TABLE admin_audit (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,          -- the operating-system user running zxsuite, or "server"
    action      text NOT NULL,          -- e.g. "doWipeDevice", "setProvisioning"
    account     text,                   -- the account concerned, if any
    device_id   text,                   -- the DeviceId concerned, if any
    details     text                    -- parameters, human-readable
);
CREATE INDEX admin_audit_at_idx ON admin_audit (at);
CREATE INDEX admin_audit_account_idx ON admin_audit (account, at);
