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
    return sorted(f for f in os.listdir(SQL_DIR) if f.endswith(".sql"))


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
