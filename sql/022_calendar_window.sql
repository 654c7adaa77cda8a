-- zxmobile migration 022: where a calendar event's window key was before it last moved.
--
-- The window key of an event (items.received: the end of its last occurrence, 020) changes
-- when a change moves the event.  A device that keeps a time window (FilterType 1-7) held the
-- event at its position when the key then was in its window: an event that leaves the window
-- by a change reaches it as a SoftDelete, one that enters it as an Add (not a Change of an
-- item it never had).  prev_received is the key before the last move, received_modseq the
-- folder modseq of the version that moved it (NULL: never moved); the sync engine reads them
-- from the change feed (eas/syncstate.c).
ALTER TABLE items ADD COLUMN prev_received timestamptz;
ALTER TABLE items ADD COLUMN received_modseq bigint;
