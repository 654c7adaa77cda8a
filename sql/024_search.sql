-- zxmobile migration 024: full-text search of mail (Search Store=Mailbox, Find).
--
-- One row per stored message: the words of its subject (weight A), sender (B), recipients
-- To and Cc (C) and body text (D) as a tsvector built by the library (store/fts.c), not by a
-- PostgreSQL text search configuration: the text is NFKD-normalised, stripped of combining
-- marks and case-folded (ICU), cut into words at every character that is not a letter or a
-- digit, whatever the script; text of scripts written without spaces (Han, Hiragana,
-- Katakana, Thai, Lao, Khmer, Myanmar) is indexed as overlapping character bigrams (and the
-- last character of a run alone), so that a word of such a script is found as a phrase of
-- its bigrams.  A query is built by the same code (prefix match on every word).
--
-- The row belongs to the message, shared by the items that are copies of it: a move keeps
-- it.  account_id is repeated so that every search is scoped to the searching account by the
-- index row itself.
CREATE TABLE message_search (
    message_id  bigint PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    account_id  bigint NOT NULL,
    vec         tsvector NOT NULL
);
CREATE INDEX message_search_vec_idx ON message_search USING gin (vec);
CREATE INDEX message_search_account_idx ON message_search (account_id);

-- A search of every folder whose words are in many messages walks the account's items newest
-- first and stops at the 1,000th match (libzxsync/store/pg_search.c): the order of this index.
CREATE INDEX items_account_received_idx ON items (account_id, received DESC, id DESC)
    WHERE NOT deleted;

-- Mailboxes whose messages were stored before this migration have no rows yet: the store
-- indexes them in small batches (500 messages, one short transaction each) when the account
-- first searches, and clears the flag when none is left.  New mailboxes need none.
ALTER TABLE mailboxes ADD COLUMN search_backfill boolean NOT NULL DEFAULT true;
ALTER TABLE mailboxes ALTER COLUMN search_backfill SET DEFAULT false;
