-- zxmobile migration 021: meeting messages (libzxsync/meeting/, zxsync/meeting.h).
--
-- A message delivered with an iTIP object (RFC 5546: METHOD REQUEST, CANCEL, REPLY in a
-- text/calendar part) gets a row here at delivery, keyed by its messages row (which a moved
-- item keeps, so that the invitation follows the message from folder to folder): what the Email class renders as the
-- email:MeetingRequest of the message ([MS-ASEMAIL] 2.2.2.48) and what MeetingResponse
-- ([MS-ASCMD] 2.2.1.11) answers, without reparsing the message on every Sync.  props holds
-- the invitation's event as the CALENDAR fields of pim_fields.def, records "column<US>value"
-- separated by RS (US = 0x1F, RS = 0x1E; a LIST field one record per element), values in the
-- ActiveSync form of zxsync/pim.h.
-- sequence is the event's SEQUENCE (NULL: none); recurrence_id the occurrence an invitation
-- of one occurrence names.  event_id is the calendar item it was applied to, when any.

CREATE TABLE meeting_messages (
    message_id bigint PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    method text NOT NULL,
    uid text,
    sequence integer,
    dtstamp timestamptz,
    recurrence_id timestamptz,
    message_type integer NOT NULL DEFAULT 0,
    rsvp boolean NOT NULL DEFAULT false,
    intended_busy integer,
    event_id bigint,
    props text NOT NULL DEFAULT ''
);

CREATE INDEX meeting_messages_uid ON meeting_messages (account_id, uid);
