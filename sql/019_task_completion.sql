-- zxmobile migration 019: when a task was last completed and last reopened.
--
-- A device that keeps incomplete tasks only (FilterType 8) is not sent a completed task, and
-- loses one it holds when it is completed (SoftDelete).  When such a task is reopened, that
-- device needs it as an Add, a device that kept all tasks as a Change: the task was not on
-- the device at its position when it was completed at or before that position and reopened
-- after it.  Both are folder modseqs of the item's versions (NULL: never); the sync engine
-- reads them from the change feed (eas/syncstate.c).
ALTER TABLE items ADD COLUMN completed_modseq bigint;
ALTER TABLE items ADD COLUMN reopened_modseq bigint;
