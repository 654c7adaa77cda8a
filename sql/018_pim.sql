-- zxmobile migration 018: contacts, tasks and notes.
--
-- An item of these classes is a row of items (item_class 'Contacts', 'Tasks' or 'Notes',
-- no message) for the change feed - modseq, tombstones, creator and changer as for mail, so
-- the sync engine, Ping, the answer cache and doResetDevice work unchanged - and a row of
-- its class's table with a typed column per property (libzxsync/include/zxsync/pim_fields.def
-- lists them: a new property is a line there and a column in a new migration).  The class
-- row follows the item: a move re-points it to the new item, a delete removes it.
--
-- sync_states.supported: the elements a device declared in the airsync:Supported of its
-- first Sync of the collection ([MS-ASCMD] 2.2.3.179), as WBXML tag numbers; NULL = none.

CREATE TABLE contacts (
    item_id bigint PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    anniversary timestamptz,
    assistant_name text,
    assistant_phone text,
    birthday timestamptz,
    business2_phone text,
    business_city text,
    business_country text,
    business_postal_code text,
    business_state text,
    business_street text,
    business_fax text,
    business_phone text,
    car_phone text,
    categories text[],
    children text[],
    company_name text,
    department text,
    email1 text,
    email2 text,
    email3 text,
    file_as text,
    first_name text,
    home2_phone text,
    home_city text,
    home_country text,
    home_postal_code text,
    home_state text,
    home_street text,
    home_fax text,
    home_phone text,
    job_title text,
    last_name text,
    middle_name text,
    mobile_phone text,
    office_location text,
    other_city text,
    other_country text,
    other_postal_code text,
    other_state text,
    other_street text,
    pager text,
    radio_phone text,
    spouse text,
    suffix text,
    title text,
    web_page text,
    yomi_company text,
    yomi_first text,
    yomi_last text,
    picture text,
    customer_id text,
    government_id text,
    im_address text,
    im_address2 text,
    im_address3 text,
    manager_name text,
    company_main_phone text,
    account_name text,
    nickname text,
    mms text,
    body text,
    body_type integer
);

CREATE TABLE tasks (
    item_id bigint PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    subject text,
    importance integer,
    sensitivity integer,
    categories text[],
    start_date timestamptz,
    utc_start_date timestamptz,
    due_date timestamptz,
    utc_due_date timestamptz,
    complete boolean,
    date_completed timestamptz,
    reminder_set boolean,
    reminder_time timestamptz,
    ordinal_date timestamptz,
    sub_ordinal_date text,
    rec_type integer,
    rec_start timestamptz,
    rec_until timestamptz,
    rec_occurrences integer,
    rec_interval integer,
    rec_day_of_month integer,
    rec_day_of_week integer,
    rec_week_of_month integer,
    rec_month_of_year integer,
    rec_regenerate boolean,
    rec_dead_occur boolean,
    rec_calendar_type integer,
    rec_is_leap_month boolean,
    rec_first_day_of_week integer,
    body text,
    body_type integer
);

CREATE TABLE notes (
    item_id bigint PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    subject text,
    message_class text,
    last_modified timestamptz,
    categories text[],
    body text,
    body_type integer
);

CREATE INDEX contacts_account_idx ON contacts (account_id);
CREATE INDEX tasks_account_idx ON tasks (account_id);
CREATE INDEX notes_account_idx ON notes (account_id);

ALTER TABLE sync_states ADD COLUMN supported integer[];

-- a live item is a message, or a contact, task or note (whose data is its class's row)
ALTER TABLE items DROP CONSTRAINT items_tombstone_check;
ALTER TABLE items ADD CONSTRAINT items_tombstone_check
    CHECK (deleted OR message_id IS NOT NULL OR item_class IN ('Contacts', 'Tasks', 'Notes'));
