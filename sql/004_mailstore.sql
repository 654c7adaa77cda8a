-- zxmobile migration 004: the mail store (folders, items, message bytes), the devices and the
-- ActiveSync synchronisation states (per device and folder, and per device for the folder
-- hierarchy).
--
-- Change tracking (see libzxsync/include/zxsync/store.h): each folder has its own modification
-- sequence (folders.modseq).  A writer takes the next values with
--     UPDATE folders SET modseq = modseq + n WHERE id = ... RETURNING modseq
-- which holds the folder's row lock until it commits, so the modseq order of a folder's items is
-- their commit order.  Every change of an item gives it a new modseq of its own (unique per
-- folder); a deletion leaves the row as a tombstone (deleted, no message) until every device
-- state of the folder has passed it.  Folder changes advance the account's hierarchy sequence
-- (mailboxes.hier_seq) the same way.

-- One row per account that has a mailbox: its hierarchy sequence.
CREATE TABLE mailboxes (
    account_id  bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    hier_seq    bigint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The ActiveSync devices of an account (the device-management work extends this table).
CREATE TABLE devices (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    device_id   text NOT NULL,                -- DeviceId as the device sends it
    device_type text NOT NULL,
    user_agent  text,
    protocol    text,                         -- last MS-ASProtocolVersion used
    first_seen  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now(),
    -- The collections of the last Sync request (WBXML, without SyncKeys and commands) that an
    -- empty or partial Sync request refers to ([MS-ASCMD] 2.2.1.21.1, 2.2.3.131).
    sync_cache  bytea,
    CONSTRAINT devices_device_id_check CHECK (device_id ~ '^[A-Za-z0-9]{1,32}$')
);
CREATE UNIQUE INDEX devices_account_device_key ON devices (account_id, device_id);

-- Folders.  type is the [MS-ASCMD] 2.2.3.186.3 FolderSync Type; system marks the standard
-- folders (cannot be renamed, moved or deleted).  A deleted folder stays as a tombstone so that
-- FolderSync can report the deletion.
CREATE TABLE folders (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    parent_id   bigint REFERENCES folders (id) ON DELETE CASCADE,   -- NULL: top level
    name        text NOT NULL,
    type        smallint NOT NULL,
    item_class  text NOT NULL,
    system      boolean NOT NULL DEFAULT false,
    created_seq bigint NOT NULL,              -- hierarchy sequence of its creation
    changed_seq bigint NOT NULL,              -- hierarchy sequence of its last change
    created_by  bigint REFERENCES devices (id) ON DELETE SET NULL,
    changed_by  bigint REFERENCES devices (id) ON DELETE SET NULL,
    deleted     boolean NOT NULL DEFAULT false,
    modseq      bigint NOT NULL DEFAULT 0,    -- last modseq given to one of its items
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT folders_type_check CHECK (type BETWEEN 1 AND 19),
    CONSTRAINT folders_name_check CHECK (name <> '' AND length(name) <= 256),
    CONSTRAINT folders_class_check
        CHECK (item_class IN ('Email', 'Calendar', 'Contacts', 'Tasks', 'Notes', 'Journal'))
);
-- sibling names are unique, case-insensitively, among live folders
CREATE UNIQUE INDEX folders_sibling_name_key
    ON folders (account_id, coalesce(parent_id, 0), lower(name)) WHERE NOT deleted;
-- at most one live standard folder of each type
CREATE UNIQUE INDEX folders_system_type_key ON folders (account_id, type) WHERE system AND NOT deleted;
-- FolderSync: the folders changed after a hierarchy sequence
CREATE INDEX folders_account_changed_idx ON folders (account_id, changed_seq);
CREATE INDEX folders_parent_idx ON folders (parent_id) WHERE parent_id IS NOT NULL;

-- Message content: the RFC 5322 bytes and what ActiveSync shows of them, extracted once at
-- delivery.  Shared by the items that are copies of one message (a move creates a new item).
CREATE TABLE messages (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    mime        bytea NOT NULL,
    text_plain  text NOT NULL DEFAULT '',     -- UTF-8; converted from the HTML when none
    text_html   text,                         -- UTF-8; NULL when the message has no HTML
    preview     text NOT NULL DEFAULT '',     -- first 255 characters of the text, one line
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_account_idx ON messages (account_id);

-- Attachments (leaf parts) of a message, numbered as zx_mime_parse numbers them: the
-- FileReference of attachment <part> of item <id> is "<id>:<part>".
CREATE TABLE message_attachments (
    message_id       bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    part             integer NOT NULL,
    name             text,
    content_type     text NOT NULL DEFAULT 'application/octet-stream',
    content_id       text,
    content_location text,
    is_inline        boolean NOT NULL DEFAULT false,
    size             bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (message_id, part)
);

-- Items (mail) and their tombstones.
CREATE TABLE items (
    id              bigserial PRIMARY KEY,
    account_id      bigint NOT NULL,          -- owner (checked on every access)
    folder_id       bigint NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
    modseq          bigint NOT NULL,          -- folder modseq of its last change
    created_modseq  bigint NOT NULL,          -- folder modseq when it was created
    deleted         boolean NOT NULL DEFAULT false,
    created_by      bigint REFERENCES devices (id) ON DELETE SET NULL,
    changed_by      bigint REFERENCES devices (id) ON DELETE SET NULL,  -- NULL: the server
    message_id      bigint REFERENCES messages (id),                    -- NULL: tombstone
    item_class      text NOT NULL DEFAULT 'Email',
    received        timestamptz NOT NULL DEFAULT now(),
    size            bigint NOT NULL DEFAULT 0,
    -- flags
    read            boolean NOT NULL DEFAULT false,
    answered        boolean NOT NULL DEFAULT false,
    forwarded       boolean NOT NULL DEFAULT false,
    last_verb       smallint NOT NULL DEFAULT 0,   -- MS-ASEMAIL2 LastVerbExecuted
    last_verb_time  timestamptz,
    -- follow-up flag (MS-ASEMAIL Flag)
    flag_status     smallint NOT NULL DEFAULT 0,   -- 0 cleared, 1 complete, 2 active
    flag_type       text,
    flag_start      timestamptz,
    flag_due        timestamptz,
    flag_utc_start  timestamptz,
    flag_utc_due    timestamptz,
    flag_complete_time   timestamptz,
    flag_date_completed  timestamptz,
    flag_reminder_set    boolean NOT NULL DEFAULT false,
    flag_reminder_time   timestamptz,
    flag_subject         text,
    flag_ordinal_date    timestamptz,
    flag_sub_ordinal_date text,
    categories      text[] NOT NULL DEFAULT '{}',
    -- envelope, from the MIME at delivery (UTF-8)
    subject         text,
    from_addr       text,
    to_addr         text,
    cc_addr         text,
    reply_to        text,
    message_hdr_id  text,                     -- Message-ID, without <>
    thread_topic    text,
    importance      smallint NOT NULL DEFAULT 1,
    message_class   text NOT NULL DEFAULT 'IPM.Note',
    content_class   text,
    native_body_type smallint NOT NULL DEFAULT 1,
    has_attachments boolean NOT NULL DEFAULT false,
    conversation_id bytea,                    -- 16 bytes, same for a thread
    CONSTRAINT items_flag_status_check CHECK (flag_status IN (0, 1, 2)),
    CONSTRAINT items_importance_check CHECK (importance IN (0, 1, 2)),
    CONSTRAINT items_last_verb_check CHECK (last_verb BETWEEN 0 AND 3),
    CONSTRAINT items_tombstone_check CHECK (deleted OR message_id IS NOT NULL)
);
-- Sync, incremental: the changes of a folder after a modseq, in modseq order (one index entry
-- and one row per change read).
CREATE UNIQUE INDEX items_folder_modseq_key ON items (folder_id, modseq);
-- Sync, initial: the live items of a folder, newest first (FilterType is a lower bound on
-- received, so the scan stops at the window's oldest item).
CREATE INDEX items_folder_received_idx ON items (folder_id, received DESC, id DESC) WHERE NOT deleted;
-- tombstones, for their purge
CREATE INDEX items_folder_tombstone_idx ON items (folder_id, modseq) WHERE deleted;
CREATE INDEX items_message_idx ON items (message_id) WHERE message_id IS NOT NULL;

-- Per (device, folder) synchronisation state.  A position is the modseq up to which the device
-- has every change (modseq) and, while the initial enumeration of the folder runs, where it is
-- (cursor: '' = not started, 'received_us:item_id' = the last item sent; NULL = enumeration
-- done).  During the enumeration modseq is the folder's modseq when it started: the items
-- created later come as changes after it.  aged ('received_us:item_id') is the FilterType
-- window's lower edge the device has been told about: its items before it have had a
-- SoftDelete.  The previous key and its position stay valid so that a device that lost a
-- response gets the same changes again.
CREATE TABLE sync_states (
    device_id     bigint NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    folder_id     bigint NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
    sync_key      bigint NOT NULL,
    modseq        bigint NOT NULL,
    cursor        text,
    aged          text,
    prev_key      bigint,
    prev_modseq   bigint,
    prev_cursor   text,
    prev_aged     text,
    filter_type   smallint NOT NULL DEFAULT 0,
    options       bytea,                      -- the collection's last AirSync:Options (WBXML)
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, folder_id)
);
CREATE INDEX sync_states_folder_idx ON sync_states (folder_id);

-- Per device folder-hierarchy (FolderSync) state: current and previous key.
CREATE TABLE folder_states (
    device_id     bigint PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    sync_key      bigint NOT NULL,
    hier_seq      bigint NOT NULL,
    prev_key      bigint,
    prev_hier_seq bigint,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
