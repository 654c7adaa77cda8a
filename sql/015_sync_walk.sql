-- zxmobile migration 015: the sync walk and the items a device holds ahead of its position.
--
-- The changes of a folder after a device's position (sync_states.modseq) are walked with an
-- item created after it at its creation modseq and an older item at its last change, so that
-- an item created, then changed before a windowed Sync reached it, is still sent (an Add at its
-- creation) instead of being passed over as if the device had it.  The walk reads the items by
-- creation modseq through this index.
CREATE INDEX items_folder_created_idx ON items (folder_id, created_modseq);

-- Change rows after a device's position that are no news to it, 'id:modseq,...': items it was
-- sent in a version newer than its position (an Add at the creation of an item changed later,
-- an item of the initial enumeration changed meanwhile; a change it makes to them is no
-- conflict) and tombstones of items deleted before the initial enumeration reached them (never
-- sent, so no Delete).  NULL = none.  prev_ahead belongs to the previous key, like the other
-- prev_ columns.
ALTER TABLE sync_states ADD COLUMN ahead text, ADD COLUMN prev_ahead text;
