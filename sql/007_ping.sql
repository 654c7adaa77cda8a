-- zxmobile migration 007: what a waiting device (Ping, hanging Sync) leaves behind.
--
-- The Ping parameters a device sent last ([MS-ASCMD] 3.1.5.8: the server caches the heartbeat
-- interval and the folder list, so an empty Ping reuses them), and the id of its newest waiting
-- request: a new Ping or hanging Sync takes the next wait id and NOTIFYs
-- "<account>:<device>:<wait id>", and every older waiter of that device, on any node, ends.
-- Ids come from one sequence: monotonic across nodes, independent of clocks.

CREATE SEQUENCE wait_ids;

CREATE TABLE device_ping (
    device      bigint PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    heartbeat   integer,                      -- seconds; NULL: never sent
    folders     text,                         -- folder ids, one per line; NULL: never sent
    wait_id     bigint NOT NULL DEFAULT 0,    -- newest waiting request of the device
    updated     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT device_ping_heartbeat_check CHECK (heartbeat IS NULL OR heartbeat BETWEEN 1 AND 3540)
);
