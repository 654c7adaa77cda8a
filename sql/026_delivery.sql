-- Local delivery (libzxsync/mailflow/deliver.c) finds the account of an envelope address by
-- the account's own address or by an alias (zimbraMailAlias, stored lower-case): the alias
-- look-up gets its index, one per delivered recipient.
CREATE INDEX account_gal_alias ON account_gal (value) WHERE name = 'zimbraMailAlias';
