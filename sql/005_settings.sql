-- zxmobile migration 005: what the Settings command stores ([MS-ASCMD] 2.2.1.18) - Out of
-- Office per account, device information and the device recovery password per device - and
-- the ClientIds of sent messages that SendMail/SmartReply/SmartForward use to refuse a
-- message sent twice ([MS-ASCMD] 2.2.3.28.1, status 118).

-- Settings Oof: the state and its time window ([MS-ASCMD] 2.2.3.124: 0 disabled, 1 global,
-- 2 time-based; the times are kept only for 2).
CREATE TABLE account_oof (
    account_id  bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    state       smallint NOT NULL DEFAULT 0,
    start_time  timestamptz,
    end_time    timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT account_oof_state_check CHECK (state IN (0, 1, 2)),
    CONSTRAINT account_oof_times_check CHECK (
        (state = 2 AND start_time IS NOT NULL AND end_time IS NOT NULL AND start_time < end_time)
        OR (state <> 2 AND start_time IS NULL AND end_time IS NULL))
);

-- One reply per audience (AppliesToInternal / AppliesToExternalKnown / AppliesToExternalUnknown).
CREATE TABLE account_oof_messages (
    account_id    bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    audience      text NOT NULL,
    enabled       boolean NOT NULL DEFAULT false,
    reply_message text,
    body_type     text,
    PRIMARY KEY (account_id, audience),
    CONSTRAINT account_oof_messages_audience_check
        CHECK (audience IN ('internal', 'external_known', 'external_unknown')),
    CONSTRAINT account_oof_messages_body_type_check CHECK (body_type IN ('Text', 'HTML'))
);

-- Settings DeviceInformation and DevicePassword, on the device record (devices: 004).
ALTER TABLE devices
    ADD COLUMN info_model               text,
    ADD COLUMN info_imei                text,
    ADD COLUMN info_friendly_name       text,
    ADD COLUMN info_os                  text,
    ADD COLUMN info_os_language         text,
    ADD COLUMN info_phone_number        text,
    ADD COLUMN info_user_agent          text,
    ADD COLUMN info_enable_outbound_sms boolean,
    ADD COLUMN info_mobile_operator     text,
    ADD COLUMN info_updated_at          timestamptz,
    -- the recovery password the device sent ([MS-ASCMD] 2.2.3.46), kept as sent so that an
    -- administrator can give it back to the user of a locked device; NULL = none
    ADD COLUMN recovery_password        text,
    ADD COLUMN recovery_password_at     timestamptz;

-- ClientIds of the messages a device sent, kept 30 days (pruned by the sender).
CREATE TABLE compose_client_ids (
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    device_id   text NOT NULL,              -- DeviceId as the client sends it
    client_id   text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, device_id, client_id)
);
CREATE INDEX compose_client_ids_age_idx ON compose_client_ids (account_id, device_id, created_at);
