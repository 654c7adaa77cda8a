"""zxsuite against the real database: migrations and the directory commands of this stage."""

import json
import os
import shutil
import uuid

import pytest

import zxinstance

SQL_DIR = os.path.join(zxinstance.SRC_DIR, "sql")


@pytest.fixture
def scratch_db(instance):
    name = "zxtest_" + uuid.uuid4().hex[:10]
    instance.create_database(name)
    yield name, instance.conninfo_for(name)
    instance.drop_database(name)


def zx(instance, *args, db=None, check=False):
    return instance.zxsuite_run(*args, check=check, db=db)


def migrations():
    # what the migrator reads (NNN_name.sql): sql/schema.sql is the generated snapshot
    return sorted(f for f in os.listdir(SQL_DIR) if f[:3].isdigit() and f[3:4] == "_" and f.endswith(".sql"))


def test_migrate_fresh_then_idempotent(instance, scratch_db):
    name, ci = scratch_db
    p = zx(instance, "--json", "db", "migrate", db=ci)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["ok"] is True
    assert out["response"]["applied"] == migrations()
    known = int(migrations()[-1][:3])
    assert out["response"]["known"] == known
    rows = instance.psql("SELECT version, name FROM zx_schema_migrations ORDER BY version", dbname=name)
    assert rows.split("\n")[0] == "1|001_directory.sql"
    # second run: nothing to do
    out2 = json.loads(zx(instance, "--json", "db", "migrate", db=ci).stdout)
    assert out2["response"]["applied"] == []
    assert out2["response"]["current"] == known
    st = json.loads(zx(instance, "--json", "db", "status", db=ci).stdout)
    assert st["response"]["upToDate"] is True


def test_migrate_refuses_newer_schema(instance, scratch_db):
    name, ci = scratch_db
    assert zx(instance, "db", "migrate", db=ci).returncode == 0
    instance.psql("INSERT INTO zx_schema_migrations (version, name) VALUES (999, '999_future.sql')",
                  dbname=name)
    p = zx(instance, "db", "migrate", db=ci)
    assert p.returncode != 0
    assert "newer than the newest this program knows" in p.stderr


def test_migrate_failure_rolls_back_that_migration(instance, scratch_db, tmp_path):
    name, ci = scratch_db
    d = tmp_path / "sql"
    shutil.copytree(SQL_DIR, d)
    (d / "900_broken.sql").write_text("CREATE TABLE zx_broken_a (x int);\nSELECT * FROM no_such_table;\n")
    p = instance.zxsuite_run("--sql-dir", str(d), "db", "migrate", check=False, db=ci)
    assert p.returncode != 0
    assert "900_broken.sql failed" in p.stderr
    # the earlier migrations are applied, the broken one left nothing behind
    assert instance.psql("SELECT max(version) FROM zx_schema_migrations", dbname=name).strip() == str(int(migrations()[-1][:3]))
    assert instance.psql("SELECT to_regclass('zx_broken_a') IS NULL", dbname=name).strip() == "t"


def test_migrate_without_database_fails_cleanly(instance):
    p = instance.zxsuite_run("db", "migrate", check=False,
                             db="host=/nonexistent dbname=x connect_timeout=2")
    assert p.returncode != 0
    assert "cannot connect to the database" in p.stderr


def test_demo_account_exists(instance):
    out = json.loads(zx(instance, "--json", "prov", "getAccount", zxinstance.DEMO_ACCOUNT.upper()).stdout)
    acct = out["response"]
    assert acct["name"] == zxinstance.DEMO_ACCOUNT
    assert acct["zimbraAccountStatus"] == "active"
    assert acct["zimbraFeatureMobileSyncEnabled"] == "TRUE"
    # stored as a yescrypt hash, never in clear
    h = instance.psql("SELECT password_hash FROM accounts WHERE local_part = 'demo'").strip()
    assert h.startswith("$y$") and zxinstance.DEMO_PASSWORD not in h


@pytest.mark.parametrize("args,message", [
    (("prov", "createDomain", "not a domain"), "invalid domain name"),
    (("prov", "createDomain", zxinstance.DEMO_DOMAIN), "already exists"),
    (("prov", "createAccount", "nobody@nowhere.example", "pw"), "no such domain"),
    (("prov", "createAccount", "bad name", "pw"), "invalid account name"),
    (("prov", "createAccount", zxinstance.DEMO_ACCOUNT, "pw"), "already exists"),
    (("prov", "createAccount", "x@" + zxinstance.DEMO_DOMAIN, "pw", "zimbraAccountStatus", "sleepy"), "invalid zimbraAccountStatus"),
    (("prov", "createAccount", "x@" + zxinstance.DEMO_DOMAIN, "pw", "noSuchAttr", "1"), "unknown attribute"),
    (("prov", "createAccount", "x@" + zxinstance.DEMO_DOMAIN, "pw", "displayName"), "name value pairs"),
    (("prov", "createAccount", "x@" + zxinstance.DEMO_DOMAIN, "pw", "zimbraCOSId", "nocos"), "no such COS"),
    (("prov", "getAccount", "ghost@" + zxinstance.DEMO_DOMAIN), "no such account"),
    (("prov", "createDomain"), "requires more parameters"),
    (("prov", "noSuchCommand"), "unknown command"),
    (("nosuchmodule", "x"), "unknown module"),
])
def test_cli_errors(instance, args, message):
    p = zx(instance, *args)
    assert p.returncode != 0
    assert message in p.stderr, p.stderr
    pj = zx(instance, "--json", *args)
    assert json.loads(pj.stdout)["ok"] is False


def test_create_and_list_accounts(instance):
    dom = "d%s.example" % uuid.uuid4().hex[:8]
    assert zx(instance, "prov", "createDomain", dom.upper()).returncode == 0
    p = zx(instance, "--json", "prov", "createAccount", "Alice@" + dom, "secret-1",
           "displayName", "Alice A", "zimbraAccountStatus", "locked")
    assert p.returncode == 0, p.stderr
    a = json.loads(p.stdout)["response"]
    assert a["name"] == "alice@" + dom and a["displayName"] == "Alice A"
    assert a["zimbraAccountStatus"] == "locked" and a["cos"] == "default"
    lst = json.loads(zx(instance, "--json", "prov", "getAllAccounts", dom).stdout)["response"]["accounts"]
    assert [x["name"] for x in lst] == ["alice@" + dom]
    human = zx(instance, "prov", "getAccount", "alice@" + dom).stdout
    assert "displayName" in human and "Alice A" in human


# ---- prov: COS, domains, modifyAccount, passwords, deletion, zmprov aliases ---------------------

DEMO = zxinstance.DEMO_ACCOUNT
DEMO_DOMAIN = zxinstance.DEMO_DOMAIN
GHOST = "ghost@" + DEMO_DOMAIN
SHA512_HASH = "$6$saltsalt$/IPHqOKFLshLv2e7PxV1b9Aavi0HQF3L5hvjX3BebPTLoEz68r7Kdr9dat8b6motOKvNdYMXgC.vOLrMdG6PL0"


def ok(instance, *args):
    p = zx(instance, "--json", *args)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["response"]


def fails(instance, *args):
    p = zx(instance, *args)
    assert p.returncode != 0, p.stdout
    pj = zx(instance, "--json", *args)
    assert pj.returncode != 0 and json.loads(pj.stdout)["ok"] is False
    return p.stderr


def fresh_domain(instance):
    dom = "p%s.example" % uuid.uuid4().hex[:8]
    ok(instance, "prov", "createDomain", dom)
    return dom


@pytest.mark.parametrize("args,message", [
    (("modifyAccount", GHOST, "displayName", "X"), "no such account: " + GHOST),
    (("ma", DEMO, "noSuchAttr", "1"), 'unknown attribute "noSuchAttr"'),
    (("ma", DEMO, "zimbraMobilePolicyAllowCamera", "5"),
     'invalid value "5" for zimbraMobilePolicyAllowCamera: expected an integer from -1 to 1'),
    (("ma", DEMO, "mobileAntiDosServiceEnabled", "TRUE"),
     "mobileAntiDosServiceEnabled is not available at account level (allowed levels: global)"),
    (("ma", DEMO, "abqMode", "Lenient"), "expected one of Permissive, Interactive, Strict, Disabled"),
    (("ma", DEMO, "zimbraFeatureMobileSyncEnabled", "perhaps"), "expected TRUE or FALSE"),
    (("ma", DEMO, "zimbraAccountStatus", "asleep"), 'invalid zimbraAccountStatus "asleep"'),
    (("ma", DEMO, "zimbraCOSId", "nocos"), "no such COS: nocos"),
    (("ma", DEMO, "+abqMode", "Strict"), "abqMode is single-valued"),
    (("ma", DEMO, "abqMode", "Strict", "abqMode", "Interactive"), "abqMode given more than once"),
    (("ma", DEMO, "userPassword", "clear-text"), "userPassword must be a crypt(3) hash"),
    (("ma", DEMO, "displayName", "x", "abqMode"), "name value pairs"),
    (("ma", DEMO, "displayName"), "requires more parameters"),
    (("setPassword", GHOST, "x"), "no such account"),
    (("setPassword", DEMO), "requires more parameters"),
    (("deleteAccount", GHOST), "no such account: " + GHOST),
    (("getAllAccounts", "nodomain.example"), "no such domain: nodomain.example"),
    (("createAccount", "y@" + DEMO_DOMAIN, "pw", "userPassword", SHA512_HASH), "either a password or userPassword"),
    (("createAccount", "y@" + DEMO_DOMAIN, "pw", "mobileAntiDosServiceEnabled", "TRUE"), "not available at account level"),
    (("createCos", "default"), "COS default already exists"),
    (("createCos", "bad name"), 'invalid COS name "bad name"'),
    (("createCos", "123"), "invalid COS name"),
    (("createCos", "errcos", "mobileAntiDosServiceEnabled", "TRUE"), "not available at cos level"),
    (("createCos", "errcos", "zimbraAccountStatus", "active"), 'unknown attribute "zimbraAccountStatus"'),
    (("modifyCos", "nocos", "abqMode", "Strict"), "no such COS: nocos"),
    (("mc", "default", "zimbraFeatureMobileSyncEnabled", "perhaps"), "expected TRUE or FALSE"),
    (("mc", "default", "ZxMobile_AuthCacheSeconds", "5"), "allowed levels: server, global"),
    (("getCos", "nocos"), "no such COS: nocos"),
    (("deleteCos", "default"), "the default COS cannot be deleted"),
    (("deleteCos", "nocos"), "no such COS: nocos"),
    (("getDomain", "nodomain.example"), "no such domain: nodomain.example"),
    (("modifyDomain", "nodomain.example", "zimbraLocale", "fr"), "no such domain"),
    (("md", DEMO_DOMAIN, "abqMode", "Strict"), "not available at domain level"),
    (("deleteDomain", "nodomain.example"), "no such domain: nodomain.example"),
    (("deleteDomain", DEMO_DOMAIN), "delete them first"),
    (("createDomain", "errdomain.example", "abqMode", "Strict"), "not available at domain level"),
])
def test_prov_errors(instance, args, message):
    err = fails(instance, "prov", *args)
    assert message in err, err


def test_prov_refused_changes_leave_nothing_behind(instance):
    before = ok(instance, "prov", "getAccount", DEMO)
    fails(instance, "prov", "ma", DEMO, "displayName", "Changed", "zimbraMobilePolicyAllowCamera", "9")
    fails(instance, "prov", "ma", DEMO, "zimbraAccountStatus", "locked", "zimbraCOSId", "nocos")
    assert ok(instance, "prov", "getAccount", DEMO) == before
    assert "no such COS" in fails(instance, "prov", "getCos", "errcos")
    assert "no such domain" in fails(instance, "prov", "getDomain", "errdomain.example")
    assert "no such account" in fails(instance, "prov", "getAccount", "y@" + DEMO_DOMAIN)


def test_prov_cos_lifecycle(instance):
    cos = "c%s" % uuid.uuid4().hex[:8]
    c = ok(instance, "prov", "createCos", cos.upper(), "abqMode", "strict",
           "zimbraFeatureMobileSyncEnabled", "true",
           "zimbraMobilePolicyApprovedApplication", "hash1",
           "zimbraMobilePolicyApprovedApplication", "hash2")
    assert (c["name"], c["accounts"], c["abqMode"], c["zimbraFeatureMobileSyncEnabled"]) == \
        (cos, 0, "Strict", "TRUE")
    assert c["zimbraMobilePolicyApprovedApplication"] == ["hash1", "hash2"]
    assert ok(instance, "prov", "getCos", str(c["id"])) == c          # by id too
    assert cos in [x["name"] for x in ok(instance, "prov", "getAllCos")["cos"]]
    assert "default" in [x["name"] for x in ok(instance, "prov", "getAllCos")["cos"]]
    m = ok(instance, "prov", "modifyCos", cos, "-zimbraMobilePolicyApprovedApplication", "hash1",
           "+zimbraMobilePolicyApprovedApplication", "hash3", "abqMode", "",
           "zimbraMobilePolicyMaxEmailAgeFilter", "3")
    assert m["zimbraMobilePolicyApprovedApplication"] == ["hash2", "hash3"]
    assert "abqMode" not in m and m["zimbraMobilePolicyMaxEmailAgeFilter"] == "3"
    # removing a value that is not there changes nothing (as zmprov)
    m2 = ok(instance, "prov", "mc", cos, "-zimbraMobilePolicyApprovedApplication", "nothere")
    assert m2["zimbraMobilePolicyApprovedApplication"] == ["hash2", "hash3"]
    human = zx(instance, "prov", "getCos", cos).stdout
    assert "zimbraMobilePolicyMaxEmailAgeFilter" in human and "hash3" in human

    dom = fresh_domain(instance)
    acct = "u@" + dom
    a = ok(instance, "prov", "createAccount", acct, "pw-1", "zimbraCOSId", str(c["id"]))
    assert a["cos"] == cos
    assert ok(instance, "prov", "getCos", cos)["accounts"] == 1
    assert "has 1 account" in fails(instance, "prov", "deleteCos", cos)
    ok(instance, "prov", "modifyAccount", acct, "zimbraCOSId", "default")
    assert ok(instance, "prov", "deleteCos", cos.upper()) == {"cos": cos.upper(), "deleted": True}
    assert "no such COS" in fails(instance, "prov", "getCos", cos)


def test_prov_modify_account(instance):
    dom = fresh_domain(instance)
    acct = "Mia@" + dom
    ok(instance, "prov", "createAccount", acct, "pw-mia-1", "displayName", "Mia")
    cos = "m%s" % uuid.uuid4().hex[:8]
    ok(instance, "prov", "createCos", cos)
    a = ok(instance, "prov", "modifyAccount", acct.upper(), "displayName", "Mia M",
           "zimbraAccountStatus", "LOCKED", "zimbraCOSId", cos.upper(),
           "zimbraFeatureMobileSyncEnabled", "yes", "abqMode", "interactive",
           "zimbraMobilePolicyAllowBluetooth", "1",
           "zimbraMobilePolicyUnapprovedInROMApplication", "app one",
           "+zimbraMobilePolicyUnapprovedInROMApplication", "app two")
    assert (a["name"], a["displayName"], a["zimbraAccountStatus"], a["cos"]) == \
        ("mia@" + dom, "Mia M", "locked", cos)
    assert (a["zimbraFeatureMobileSyncEnabled"], a["abqMode"], a["zimbraMobilePolicyAllowBluetooth"]) == \
        ("TRUE", "Interactive", "1")
    assert a["zimbraMobilePolicyUnapprovedInROMApplication"] == ["app one", "app two"]
    assert ok(instance, "prov", "getAccount", acct) == a
    a = ok(instance, "prov", "ma", acct, "zimbraAccountStatus", "closed", "displayName", "",
           "abqMode", "", "-zimbraMobilePolicyUnapprovedInROMApplication", "app one")
    assert a["zimbraAccountStatus"] == "closed" and a["displayName"] is None
    assert "abqMode" not in a
    assert a["zimbraMobilePolicyUnapprovedInROMApplication"] == ["app two"]
    a = ok(instance, "prov", "ma", acct, "zimbraAccountStatus", "active", "zimbraCOSId", "")
    assert a["zimbraAccountStatus"] == "active" and a["cos"] is None
    # getAllAccounts carries the attributes too
    lst = ok(instance, "prov", "getAllAccounts", dom.upper())["accounts"]
    assert [x["name"] for x in lst] == ["mia@" + dom]
    assert lst[0]["zimbraMobilePolicyUnapprovedInROMApplication"] == ["app two"]
    human = zx(instance, "prov", "ga", acct).stdout
    assert "zimbraFeatureMobileSyncEnabled" in human and "app two" in human


def test_prov_passwords(instance):
    dom = fresh_domain(instance)
    acct = "pat@" + dom
    ok(instance, "prov", "createAccount", acct, "first-Passw0rd")
    q = "SELECT password_hash FROM accounts a JOIN domains d ON d.id = a.domain_id " \
        "WHERE a.local_part = 'pat' AND d.name = '%s'" % dom
    h1 = instance.psql(q).strip()
    assert h1.startswith("$y$")
    # import an existing hash, as Dovecot/LDAP write it
    ok(instance, "prov", "modifyAccount", acct, "userPassword", "{CRYPT}" + SHA512_HASH,
       "displayName", "Pat")
    assert instance.psql(q).strip() == SHA512_HASH
    ok(instance, "prov", "ma", acct, "userPassword", SHA512_HASH)
    assert instance.psql(q).strip() == SHA512_HASH
    r = ok(instance, "prov", "setPassword", acct.upper(), "second-Passw0rd")
    assert r == {"name": acct.upper(), "passwordChanged": True}
    h2 = instance.psql(q).strip()
    assert h2.startswith("$y$") and h2 != h1 and "second-Passw0rd" not in h2
    ok(instance, "prov", "sp", acct, "third-Passw0rd")
    assert instance.psql(q).strip() not in (h1, h2)
    # createAccount with no password and an imported hash
    ok(instance, "prov", "createAccount", "imp@" + dom, "", "userPassword", "{crypt}" + SHA512_HASH)
    assert instance.psql(q.replace("'pat'", "'imp'")).strip() == SHA512_HASH
    # no password at all
    ok(instance, "prov", "createAccount", "nopw@" + dom, "")
    assert instance.psql(q.replace("'pat'", "'nopw'")).strip() == ""


def test_prov_domains_and_deletion(instance):
    dom = "q%s.example" % uuid.uuid4().hex[:8]
    d = ok(instance, "prov", "createDomain", dom.upper(), "zimbraLocale", "fr_FR")
    assert (d["name"], d["accounts"], d["zimbraLocale"], d["created"]) == (dom, 0, "fr_FR", True)
    assert ok(instance, "prov", "getDomain", dom)["zimbraLocale"] == "fr_FR"
    d = ok(instance, "prov", "modifyDomain", dom, "zimbraPublicServiceHostname", "mail." + dom,
           "zimbraLocale", "")
    assert d["zimbraPublicServiceHostname"] == "mail." + dom and "zimbraLocale" not in d
    names = [x["name"] for x in ok(instance, "prov", "getAllDomains")["domains"]]
    assert dom in names and DEMO_DOMAIN in names
    ok(instance, "prov", "createAccount", "a@" + dom, "pw", "abqMode", "Strict")
    assert ok(instance, "prov", "getDomain", dom)["accounts"] == 1
    assert "domain %s has 1 account: delete them first" % dom in fails(instance, "prov", "deleteDomain", dom)
    assert ok(instance, "prov", "deleteAccount", "A@" + dom.upper()) == {"name": "A@" + dom.upper(), "deleted": True}
    assert "no such account" in fails(instance, "prov", "getAccount", "a@" + dom)
    assert ok(instance, "prov", "getAllAccounts", dom)["accounts"] == []
    assert ok(instance, "prov", "deleteDomain", dom)["deleted"] is True
    assert dom not in [x["name"] for x in ok(instance, "prov", "getAllDomains")["domains"]]
    human = zx(instance, "prov", "getAllDomains").stdout
    assert DEMO_DOMAIN in human


def test_prov_zmprov_aliases(instance):
    dom = "z%s.example" % uuid.uuid4().hex[:8]
    cos = "z%s" % uuid.uuid4().hex[:8]
    acct = "al@" + dom
    assert ok(instance, "prov", "cd", dom)["name"] == dom
    assert ok(instance, "prov", "gd", dom)["name"] == dom
    assert dom in [x["name"] for x in ok(instance, "prov", "gad")["domains"]]
    assert ok(instance, "prov", "md", dom, "zimbraLocale", "it")["zimbraLocale"] == "it"
    assert ok(instance, "prov", "cc", cos)["name"] == cos
    assert ok(instance, "prov", "gc", cos)["name"] == cos
    assert cos in [x["name"] for x in ok(instance, "prov", "gac")["cos"]]
    assert ok(instance, "prov", "mc", cos, "abqMode", "Strict")["abqMode"] == "Strict"
    assert ok(instance, "prov", "ca", acct, "pw-1", "zimbraCOSId", cos)["cos"] == cos
    assert ok(instance, "prov", "ma", acct, "displayName", "Al")["displayName"] == "Al"
    assert ok(instance, "prov", "ga", acct)["displayName"] == "Al"
    assert [x["name"] for x in ok(instance, "prov", "gaa", dom)["accounts"]] == [acct]
    assert ok(instance, "prov", "sp", acct, "pw-2")["passwordChanged"] is True
    assert ok(instance, "prov", "da", acct)["deleted"] is True
    assert ok(instance, "prov", "dc", cos)["deleted"] is True
    assert ok(instance, "prov", "dd", dom)["deleted"] is True
