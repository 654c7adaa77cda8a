-- zxmobile migration 020: calendar events.
--
-- An event or a recurring series is a row of items (item_class 'Calendar') and a row of
-- calendar with a column per property of libzxsync/include/zxsync/pim_fields.def (class
-- CALENDAR), as contacts, tasks and notes are (018).  Its exceptions - occurrences deleted or
-- with their own values - are rows of calendar_exceptions, one per occurrence, named by the
-- occurrence's original start (class EXCEPTION of the same file).
--
-- calendar.tzid is the event's IANA time zone (the calendar:Timezone blob a device sends is
-- mapped to one; the blob sent is computed from the zone's rules).  calendar.last_end is the
-- end of the event's last occurrence (NULL: a series without end); items.received of a
-- calendar item holds the same instant (9999-12-31 for no end), so that the sync engine's
-- FilterType window ("events that end after the cutoff"), its aging of what left the window
-- and GetItemEstimate walk the (folder_id, received) index for calendars as for mail.

CREATE TABLE calendar (
    item_id bigint PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tzid text,
    all_day boolean,
    busy_status integer,
    organizer_name text,
    organizer_email text,
    dtstamp timestamptz,
    end_time timestamptz,
    location text,
    reminder integer,
    sensitivity integer,
    subject text,
    start_time timestamptz,
    uid text,
    meeting_status integer,
    attendees text[],
    categories text[],
    rec_type integer,
    rec_occurrences integer,
    rec_interval integer,
    rec_week_of_month integer,
    rec_day_of_week integer,
    rec_month_of_year integer,
    rec_until timestamptz,
    rec_day_of_month integer,
    rec_calendar_type integer,
    rec_is_leap_month boolean,
    rec_first_day_of_week integer,
    disallow_new_time_proposal boolean,
    response_requested boolean,
    appointment_reply_time timestamptz,
    response_type integer,
    online_conf_link text,
    online_external_link text,
    client_uid text,
    loc_annotation text,
    loc_street text,
    loc_city text,
    loc_state text,
    loc_country text,
    loc_postal_code text,
    loc_latitude text,
    loc_longitude text,
    loc_accuracy text,
    loc_altitude text,
    loc_altitude_accuracy text,
    loc_uri text,
    last_end timestamptz,
    body text,
    body_type integer
);

CREATE TABLE calendar_exceptions (
    item_id bigint NOT NULL REFERENCES calendar (item_id) ON DELETE CASCADE ON UPDATE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    exception_start timestamptz NOT NULL,
    deleted boolean,
    all_day boolean,
    busy_status integer,
    dtstamp timestamptz,
    end_time timestamptz,
    location text,
    reminder integer,
    sensitivity integer,
    subject text,
    start_time timestamptz,
    meeting_status integer,
    attendees text[],
    categories text[],
    appointment_reply_time timestamptz,
    response_type integer,
    online_conf_link text,
    online_external_link text,
    body text,
    body_type integer,
    PRIMARY KEY (item_id, exception_start)
);

CREATE INDEX calendar_account_idx ON calendar (account_id);
CREATE INDEX calendar_uid_idx ON calendar (account_id, uid);
CREATE INDEX calendar_exceptions_account_idx ON calendar_exceptions (account_id);

ALTER TABLE items DROP CONSTRAINT items_tombstone_check;
ALTER TABLE items ADD CONSTRAINT items_tombstone_check
    CHECK (deleted OR message_id IS NOT NULL OR
           item_class IN ('Contacts', 'Tasks', 'Notes', 'Calendar'));
