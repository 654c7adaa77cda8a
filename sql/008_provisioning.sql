-- zxmobile migration 008: provisioning ([MS-ASPROV]) - which policy a device's key was issued
-- for, so that a policy change makes every device re-provision at its next request, and how
-- the device acknowledged it.
--
-- policy_hash is a 64-bit hash of the effective values of every policy attribute
-- (libzxsync/mdm/policy.c) at the time the policy was sent; the gate compares it with the
-- hash of the values in force now.  policy_hash_temp belongs to policy_key_temp (downloaded,
-- not yet acknowledged) and becomes policy_hash on acknowledgement.

ALTER TABLE devices
    ADD COLUMN policy_hash        bigint,
    ADD COLUMN policy_hash_temp   bigint,
    -- the Status the device gave in its acknowledgement ([MS-ASPROV] 2.2.2.54.1): 1 applied,
    -- 2 partially applied, 3 not applied, 4 managed by a third party; NULL = never acknowledged
    ADD COLUMN policy_ack_status  smallint,
    ADD CONSTRAINT devices_policy_ack_status_check
        CHECK (policy_ack_status IS NULL OR policy_ack_status BETWEEN 1 AND 4);
