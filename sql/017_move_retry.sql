-- zxmobile migration 017: where a moved item went.
--
-- MoveItems is the moving device's change: it is not told its own move, because the response
-- gave it the new id.  When that response is lost and the device sends the same MoveItems
-- again, the server answers as the first attempt did (status 3 and the same DstMsgId) instead
-- of status 1, so the device learns the new id; for that the source tombstone keeps it.
ALTER TABLE items ADD COLUMN moved_to bigint;
