-- zxmobile migration 025: loop detection (issue 18).
--
-- A device that sends the previous SyncKey of a collection again and again has not stored
-- the last response: the engine answers it with narrower and narrower windows of the same
-- changes, and when a window of one item still does not pass, that item is skipped for that
-- device (eas/cmd_sync.c, "Loop detection").  sync_states.retries counts the consecutive
-- Syncs with the previous key (0 once the device acknowledged the current one).
ALTER TABLE sync_states ADD COLUMN retries smallint NOT NULL DEFAULT 0;

-- The items skipped for a device: never sent to it in any version until an administrator
-- clears them (zxsuite mobile clearLoop), which also resets the device's state of the folder
-- so that it gets the folder again.
CREATE TABLE sync_skipped (
    device_id   bigint NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    folder_id   bigint NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
    item_id     bigint NOT NULL,
    attempts    integer NOT NULL,          -- the Syncs with the same key before the skip
    window_size integer NOT NULL,          -- the WindowSize the device asked for
    skipped_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, folder_id, item_id)
);
CREATE INDEX sync_skipped_folder_idx ON sync_skipped (folder_id);

-- what a no-change Sync answers depends on it: outdate the device's cached answers
CREATE TRIGGER sync_skipped_zx_cache AFTER INSERT OR UPDATE OR DELETE ON sync_skipped
    FOR EACH ROW EXECUTE FUNCTION zx_cache_notify_state();
