-- zxmobile migration 023: the Global Address List (Search Store=GAL, ResolveRecipients).
--
-- The GAL attributes of an account (Zimbra names: givenName, sn, initials, company, title, ou,
-- physicalDeliveryOfficeName, telephoneNumber, homePhone, mobile, zimbraMailAlias,
-- thumbnailPhoto, userCertificate, userSMIMECertificate, zimbraHideInGal) are rows of
-- account_gal, one per value (multi-valued ones have several); displayName stays the column of
-- accounts.  Binary values (thumbnailPhoto, the certificates) are stored as base64 text, as
-- zmprov shows them.  The library (core/gal.c) checks names and values.
--
-- GAL search is a prefix match over the display name (as a whole and word by word), the
-- given name, the surname, the address and the aliases, case- and accent-insensitive: each
-- of those strings, folded by zx_gal_fold (lower(unaccent)), is a row of gal_keys, kept by
-- the triggers below.  A hidden (zimbraHideInGal TRUE) or closed account has no keys.  The
-- index (domain_id, key) with the "C" collation answers `key LIKE 'prefix%'` as a range scan.
CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;

CREATE FUNCTION zx_gal_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, t)) $$;

CREATE TABLE account_gal (
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        text NOT NULL,
    value       text NOT NULL,
    PRIMARY KEY (account_id, name, value)
);

CREATE TABLE gal_keys (
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    domain_id   bigint NOT NULL,
    key         text COLLATE "C" NOT NULL,
    sort        text COLLATE "C" NOT NULL    -- the account's place in a result: folded name
);
-- a search reads the matches, their accounts and their order from this index alone, and
-- the accounts rows of one page only
CREATE INDEX gal_keys_prefix ON gal_keys (domain_id, key) INCLUDE (account_id, sort);
CREATE INDEX gal_keys_account ON gal_keys (account_id);

-- the keys of the accounts ids, rebuilt
CREATE FUNCTION zx_gal_reindex(ids bigint[]) RETURNS void LANGUAGE sql AS $$
    DELETE FROM gal_keys WHERE account_id = ANY (ids);
    INSERT INTO gal_keys (account_id, domain_id, key, sort)
    SELECT DISTINCT a.id, a.domain_id, left(zx_gal_fold(k.s), 256),
           left(zx_gal_fold(coalesce(a.display_name, a.local_part)), 256) || ' ' || a.local_part
      FROM accounts a
      JOIN domains d ON d.id = a.domain_id
     CROSS JOIN LATERAL (
            SELECT a.display_name
            UNION ALL SELECT w FROM regexp_split_to_table(a.display_name, '[[:space:]]+') w
            UNION ALL SELECT a.local_part || '@' || d.name
            UNION ALL SELECT g.value FROM account_gal g
                       WHERE g.account_id = a.id AND g.name IN ('givenName', 'sn', 'zimbraMailAlias')
           ) AS k(s)
     WHERE a.id = ANY (ids) AND a.status <> 'closed' AND k.s IS NOT NULL AND k.s <> ''
       AND NOT EXISTS (SELECT 1 FROM account_gal h
                        WHERE h.account_id = a.id AND h.name = 'zimbraHideInGal'
                          AND upper(h.value) = 'TRUE');
$$;

CREATE FUNCTION zx_gal_accounts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM zx_gal_reindex(ARRAY(SELECT id FROM new_rows));
    RETURN NULL;
END $$;
CREATE TRIGGER accounts_gal_insert AFTER INSERT ON accounts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION zx_gal_accounts_changed();
CREATE TRIGGER accounts_gal_update AFTER UPDATE ON accounts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION zx_gal_accounts_changed();

CREATE FUNCTION zx_gal_attrs_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM zx_gal_reindex(ARRAY(SELECT DISTINCT account_id FROM old_rows));
    ELSE
        PERFORM zx_gal_reindex(ARRAY(SELECT DISTINCT account_id FROM new_rows));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER account_gal_insert AFTER INSERT ON account_gal
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION zx_gal_attrs_changed();
CREATE TRIGGER account_gal_delete AFTER DELETE ON account_gal
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION zx_gal_attrs_changed();

-- the accounts that exist already
SELECT zx_gal_reindex(ARRAY(SELECT id FROM accounts));
