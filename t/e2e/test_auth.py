"""Authentication over the real httpd: account passwords, mobile passwords (spec 2), account
enablement (spec 1.1), the verification cache and its version stamp, the failure throttle."""

import json
import subprocess
import time
import uuid

import pytest

import zxinstance
from easclient import EASClient

FOLDERSYNC0 = '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>'


def zx(instance, *args, check=True):
    return instance.zxsuite_run(*args, check=check)


def zxj(instance, *args):
    p = zx(instance, "--json", *args)
    return json.loads(p.stdout)["response"]


@pytest.fixture
def account(instance):
    """A fresh account with mobile sync enabled, in its own domain."""
    dom = "a%s.test" % uuid.uuid4().hex[:8]
    zx(instance, "prov", "createDomain", dom)
    name = "user@" + dom
    zx(instance, "prov", "createAccount", name, "Acct-Pw-1", "zimbraFeatureMobileSyncEnabled", "TRUE")
    return name


def client(instance, user, password, **kw):
    kw.setdefault("device_id", "authtest" + uuid.uuid4().hex[:8])
    kw.setdefault("device_type", "TestDevice")
    return EASClient(instance.url, user, password, protocol=kw.pop("protocol", "14.1"), **kw)


def ok(c):
    """200 with the FolderSync answer (status 137 until FolderSync exists) = authenticated."""
    r = c.post("FolderSync", FOLDERSYNC0)
    return r.status


def test_options_needs_credentials(instance):
    c = client(instance, None, None)
    status, headers = c.options()
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Basic")
    assert "MS-ASProtocolVersions" not in headers
    c = client(instance, zxinstance.DEMO_ACCOUNT, zxinstance.DEMO_PASSWORD)
    assert c.options()[0] == 200


def test_wrong_and_unknown_credentials_401(instance, account, error_log):
    r = client(instance, account, "wrong").post("FolderSync", FOLDERSYNC0)
    assert r.status == 401
    assert r.headers["WWW-Authenticate"].startswith("Basic")
    assert error_log.contains(r'ZX00019: authentication of "%s" failed: bad credentials' % account)
    assert ok(client(instance, "nobody@" + account.split("@")[1], "x")) == 401
    assert ok(client(instance, account, "")) == 401


def test_mobile_password_replaces_account_password(instance, account):
    assert ok(client(instance, account, "Acct-Pw-1")) == 200
    added = zxj(instance, "auth", "credential", "add", account, "label", "Phone")
    mobile = added["text_data"]["password"]
    cred_id = added["credential"]["id"]
    assert added["credential"]["services"] == "EAS" and added["credential"]["generated"] is True
    assert len(mobile) >= 20
    # from now on EAS accepts only the mobile password (spec 2.1, changelog 3.1.5)
    assert ok(client(instance, account, "Acct-Pw-1")) == 401
    assert ok(client(instance, account, mobile)) == 200
    # several mobile passwords, each with its own label and enabled flag
    second = zxj(instance, "auth", "credential", "add", account, "password", "Tablet-Pw-9",
                 "label", "Tablet", "service", "eas")
    assert second["credential"]["generated"] is False
    assert ok(client(instance, account, "Tablet-Pw-9")) == 200
    zx(instance, "auth", "credential", "update", account, cred_id, "enabled", "false")
    assert ok(client(instance, account, mobile)) == 401
    assert ok(client(instance, account, "Tablet-Pw-9")) == 200
    # no enabled EAS credential left: the account password works again
    zx(instance, "auth", "credential", "update", account, second["credential"]["id"], "enabled", "false")
    assert ok(client(instance, account, "Acct-Pw-1")) == 200
    zx(instance, "auth", "credential", "update", account, cred_id, "enabled", "true")
    assert ok(client(instance, account, "Acct-Pw-1")) == 401
    zx(instance, "auth", "credential", "delete", account, cred_id)
    zx(instance, "auth", "credential", "delete", account, second["credential"]["id"])
    assert ok(client(instance, account, "Acct-Pw-1")) == 200
    assert zxj(instance, "auth", "credential", "list", account)["credentials"] == []


def test_mobile_password_never_opens_other_services(instance, account):
    added = zxj(instance, "auth", "credential", "add", account)
    mobile = added["text_data"]["password"]
    assert zx(instance, "auth", "check", account, mobile, check=False).returncode == 0
    for svc in ("imap", "smtp", "webui", "pop3"):
        p = zx(instance, "auth", "check", account, mobile, "service", svc, check=False)
        assert p.returncode != 0 and "refused" in p.stderr, svc
        # the account password still opens them
        assert zx(instance, "auth", "check", account, "Acct-Pw-1", "service", svc,
                  check=False).returncode == 0
    assert zx(instance, "auth", "check", account, "Acct-Pw-1", check=False).returncode != 0
    # a credential for IMAP does not open EAS, and does not take EAS from the account password
    zx(instance, "auth", "credential", "delete", account, added["credential"]["id"])
    imap = zxj(instance, "auth", "credential", "add", account, "password", "Imap-Only-1",
               "service", "IMAP,pop3")
    assert imap["credential"]["services"] == "IMAP,POP3"
    assert zx(instance, "auth", "check", account, "Imap-Only-1", "service", "imap", check=False).returncode == 0
    assert ok(client(instance, account, "Imap-Only-1")) == 401
    assert ok(client(instance, account, "Acct-Pw-1")) == 200


def test_credential_list_never_shows_passwords(instance, account):
    added = zxj(instance, "auth", "credential", "add", account, "password", "Secret-Xyz-7", "label", "L1")
    out = zx(instance, "auth", "credential", "list", account).stdout
    assert added["credential"]["id"] in out and "L1" in out
    assert "Secret-Xyz-7" not in out
    human = zx(instance, "auth", "credential", "add", account, "label", "L2").stdout
    assert "Credential correctly added" in human and "password" in human
    h = instance.psql("SELECT string_agg(hash, ' ') FROM credentials c JOIN accounts a ON a.id = c.account_id "
                      "WHERE a.local_part = 'user' AND c.label = 'L1'")
    assert h.startswith("$y$") and "Secret-Xyz-7" not in h


@pytest.mark.parametrize("args,message", [
    (("auth", "credential", "add", "ghost@nowhere.test"), "no such account"),
    (("auth", "credential", "add", "{acct}", "service", "telnet"), 'unknown service "telnet"'),
    (("auth", "credential", "add", "{acct}", "qrcode", "true"), "not supported"),
    (("auth", "credential", "add", "{acct}", "colour", "blue"), 'unknown parameter "colour"'),
    (("auth", "credential", "update", "{acct}", "ZZZZZ", "label", "x"), "has no credential ZZZZZ"),
    (("auth", "credential", "update", "{acct}", "ZZZZZ", "enabled", "maybe"), "true or false"),
    (("auth", "credential", "update", "{acct}", "ZZZZZ"), "nothing to update"),
    (("auth", "credential", "delete", "{acct}", "ZZZZZ"), "has no credential ZZZZZ"),
    (("auth", "credential", "frob", "{acct}"), "unknown credential command"),
    (("auth", "credential", "list"), "requires"),
])
def test_credential_cli_errors(instance, account, args, message):
    args = [a.replace("{acct}", account) for a in args]
    p = zx(instance, *args, check=False)
    assert p.returncode != 0
    assert message in p.stderr, p.stderr


def test_login_name_forms(instance, account):
    local, dom = account.split("@")
    assert ok(client(instance, account.upper(), "Acct-Pw-1")) == 200
    # bare and DOMAIN\user names need a default domain
    assert ok(client(instance, local, "Acct-Pw-1")) == 401
    zx(instance, "config", "set", "global", "zimbraDefaultDomainName", dom)
    try:
        assert ok(client(instance, local, "Acct-Pw-1")) == 200
        label = dom.split(".")[0]
        assert ok(client(instance, label.upper() + "\\" + local, "Acct-Pw-1")) == 200
        # a DOMAIN part that is not the account's domain is refused, not ignored
        assert ok(client(instance, "CORP\\" + local, "Acct-Pw-1")) == 401
    finally:
        zx(instance, "config", "unset", "global", "zimbraDefaultDomainName")


def test_login_domain_part_must_be_the_accounts_domain(instance, account):
    """DOMAIN\\user: DOMAIN is the mail domain or its first label (README, "Authentication")."""
    local, dom = account.split("@")
    label = dom.split(".")[0]
    assert ok(client(instance, "evil.com\\" + account, "Acct-Pw-1")) == 401
    assert ok(client(instance, "evil\\" + account, "Acct-Pw-1")) == 401
    assert ok(client(instance, "\\" + account, "Acct-Pw-1")) == 401
    assert ok(client(instance, label.upper() + "\\" + account, "Acct-Pw-1")) == 200
    assert ok(client(instance, dom.upper() + "\\" + account, "Acct-Pw-1")) == 200
    # the full mail domain also says which domain a bare user is in
    assert ok(client(instance, dom + "\\" + local, "Acct-Pw-1")) == 200


def test_options_user_parameter_must_match(instance, account, error_log):
    """README's table: a User parameter naming another account answers 403 - OPTIONS too."""
    c = client(instance, account, "Acct-Pw-1")
    q = "?Cmd=Sync&User=%s&DeviceId=d1&DeviceType=t"
    r = c.request("OPTIONS", c.path + q % zxinstance.DEMO_ACCOUNT, headers=c._common_headers())
    assert r.status == 403
    assert "MS-ASProtocolVersions" not in r.headers
    assert error_log.contains("ZX00022: User=%s does not match" % zxinstance.DEMO_ACCOUNT)
    r = c.request("OPTIONS", c.path + q % account, headers=c._common_headers())
    assert r.status == 200
    assert r.headers.get("MS-ASProtocolVersions")


def test_user_parameter_must_match(instance, account, error_log):
    c = client(instance, account, "Acct-Pw-1")
    q = "Cmd=FolderSync&User=%s&DeviceId=d1&DeviceType=t"
    hdr = {"MS-ASProtocolVersion": "14.1"}
    local = account.split("@")[0]
    label = account.split("@")[1].split(".")[0]
    for user in (account, local, label.upper() + "%5C" + local, account.upper()):
        assert c.post("FolderSync", FOLDERSYNC0, raw_query=q % user, extra_headers=hdr).status == 200, user
    for user in ("CORP%5C" + local, "evil.com%5C" + account):
        assert c.post("FolderSync", FOLDERSYNC0, raw_query=q % user, extra_headers=hdr).status == 403, user
    r = c.post("FolderSync", FOLDERSYNC0, raw_query=q % zxinstance.DEMO_ACCOUNT, extra_headers=hdr)
    assert r.status == 403
    assert error_log.contains("ZX00022: User=%s does not match" % zxinstance.DEMO_ACCOUNT)


def test_mobile_sync_enablement_account_over_cos(instance, error_log):
    dom = "c%s.test" % uuid.uuid4().hex[:8]
    cos = "cos" + uuid.uuid4().hex[:6]
    zx(instance, "prov", "createDomain", dom)
    zx(instance, "prov", "createCos", cos)
    name = "u@" + dom
    zx(instance, "prov", "createAccount", name, "Pw-1234", "zimbraCOSId", cos)
    # default FALSE (no value anywhere)
    assert ok(client(instance, name, "Pw-1234")) == 403
    assert error_log.contains("ZX00020: account %s refused: zimbraFeatureMobileSyncEnabled is FALSE" % name)
    zx(instance, "prov", "modifyCos", cos, "zimbraFeatureMobileSyncEnabled", "TRUE")
    assert ok(client(instance, name, "Pw-1234")) == 200
    zx(instance, "prov", "modifyAccount", name, "zimbraFeatureMobileSyncEnabled", "FALSE")
    assert ok(client(instance, name, "Pw-1234")) == 403
    zx(instance, "prov", "modifyCos", cos, "zimbraFeatureMobileSyncEnabled", "FALSE")
    zx(instance, "prov", "modifyAccount", name, "zimbraFeatureMobileSyncEnabled", "TRUE")
    assert ok(client(instance, name, "Pw-1234")) == 200
    # a wrong password is still a 401, not a hint about enablement
    zx(instance, "prov", "modifyAccount", name, "zimbraFeatureMobileSyncEnabled", "FALSE")
    assert ok(client(instance, name, "nope")) == 401


@pytest.mark.parametrize("status", ["locked", "closed"])
def test_locked_and_closed_accounts_403(instance, account, status):
    zx(instance, "prov", "modifyAccount", account, "zimbraAccountStatus", status)
    assert ok(client(instance, account, "Acct-Pw-1")) == 403
    assert ok(client(instance, account, "wrong")) == 401
    zx(instance, "prov", "modifyAccount", account, "zimbraAccountStatus", "active")
    assert ok(client(instance, account, "Acct-Pw-1")) == 200


def test_password_change_takes_effect_at_once(instance, account):
    c = client(instance, account, "Acct-Pw-1")     # one keep-alive connection: one child
    assert ok(c) == 200 and ok(c) == 200           # the second is served from the cache
    zx(instance, "prov", "setPassword", account, "Acct-Pw-2")
    assert ok(c) == 401
    assert ok(client(instance, account, "Acct-Pw-2")) == 200


def test_credential_deletion_takes_effect_at_once(instance, account):
    mobile = zxj(instance, "auth", "credential", "add", account, "password", "Mob-Pw-55")
    c = client(instance, account, "Mob-Pw-55")
    assert ok(c) == 200 and ok(c) == 200
    zx(instance, "auth", "credential", "delete", account, mobile["credential"]["id"])
    assert ok(c) == 401


def test_cache_skips_the_hash_and_honours_the_version_stamp(instance, account):
    """White-box: after a cached success, swap the stored hash without bumping auth_version;
    the same connection (same child, same cache) is still accepted - the hash was not
    computed.  Bumping auth_version ends the cached verification."""
    c = client(instance, account, "Acct-Pw-1")
    assert ok(c) == 200
    local, dom = account.split("@")
    other = subprocess.run(["openssl", "passwd", "-6", "-salt", "zxsalt", "something-else"],
                           capture_output=True, text=True, check=True).stdout.strip()
    where = "local_part = '%s' AND domain_id = (SELECT id FROM domains WHERE name = '%s')" % (local, dom)
    instance._psql("zxmobile", "ALTER TABLE accounts DISABLE TRIGGER accounts_auth_version; "
                               "UPDATE accounts SET password_hash = '%s' WHERE %s; "
                               "ALTER TABLE accounts ENABLE TRIGGER accounts_auth_version;" % (other, where))
    assert ok(c) == 200                                         # served by the cache
    instance.psql("UPDATE accounts SET auth_version = auth_version + 1 WHERE %s" % where)
    assert ok(c) == 401                                         # stamp changed: hash checked
    assert ok(client(instance, account, "something-else")) == 200


def test_cache_can_be_turned_off(instance, account):
    zx(instance, "config", "set", "global", "ZxMobile_AuthCacheSeconds", "0")
    try:
        c = client(instance, account, "Acct-Pw-1")
        assert ok(c) == 200
        local, dom = account.split("@")
        instance._psql("zxmobile", "ALTER TABLE accounts DISABLE TRIGGER accounts_auth_version; "
                                   "UPDATE accounts SET password_hash = '$6$x$y' WHERE local_part = '%s' "
                                   "AND domain_id = (SELECT id FROM domains WHERE name = '%s'); "
                                   "ALTER TABLE accounts ENABLE TRIGGER accounts_auth_version;" % (local, dom))
        assert ok(c) == 401                                     # nothing cached: checked again
    finally:
        zx(instance, "config", "unset", "global", "ZxMobile_AuthCacheSeconds")


@pytest.fixture
def throttle_3_failures(instance):
    zx(instance, "config", "set", "global", "ZxMobile_AuthMaxFailures", "3")
    zx(instance, "config", "set", "global", "ZxMobile_AuthLockoutSeconds", "2")
    yield
    zx(instance, "config", "unset", "global", "ZxMobile_AuthMaxFailures")
    zx(instance, "config", "unset", "global", "ZxMobile_AuthLockoutSeconds")


def test_repeated_failures_are_throttled(instance, account, error_log, throttle_3_failures):
    zx(instance, "config", "set", "global", "ZxMobile_AuthCacheSeconds", "0")   # every check is real
    try:
        assert ok(client(instance, account, "Acct-Pw-1")) == 200
        for _ in range(3):
            assert ok(client(instance, account, "guess")) == 401
        assert error_log.contains("ZX00120: account %s: too many failed eas logins" % account)
        # the right password is not even checked while throttled
        assert ok(client(instance, account, "Acct-Pw-1")) == 401
        assert error_log.contains("failed: throttled after repeated failures")
        time.sleep(2.2)
        assert ok(client(instance, account, "Acct-Pw-1")) == 200
        # success clears the failure record
        assert instance.psql("SELECT count(*) FROM auth_failures f JOIN accounts a ON a.id = f.account_id "
                             "JOIN domains d ON d.id = a.domain_id WHERE d.name = '%s'"
                             % account.split("@")[1]).strip() == "0"
    finally:
        zx(instance, "config", "unset", "global", "ZxMobile_AuthCacheSeconds")


def test_cached_device_keeps_syncing_while_throttled(instance, account, throttle_3_failures):
    cached = client(instance, account, "Acct-Pw-1")    # one connection: one child, one cache
    assert ok(cached) == 200
    for _ in range(3):
        assert ok(client(instance, account, "guess")) == 401
    assert ok(cached) == 200


@pytest.mark.parametrize("scheme", ["sha512crypt", "bcrypt"])
def test_imported_hashes(instance, account, scheme):
    if scheme == "sha512crypt":
        h = subprocess.run(["openssl", "passwd", "-6", "-salt", "imp0rt", "Imported-Pw"],
                           capture_output=True, text=True, check=True).stdout.strip()
    else:
        out = subprocess.run(["htpasswd", "-nbBC", "5", "x", "Imported-Pw"],
                             capture_output=True, text=True, check=True).stdout.strip()
        h = out.split(":", 1)[1]
    zx(instance, "prov", "modifyAccount", account, "userPassword", "{CRYPT}" + h)
    assert ok(client(instance, account, "Imported-Pw")) == 200
    assert ok(client(instance, account, "Acct-Pw-1")) == 401
    p = zx(instance, "prov", "modifyAccount", account, "userPassword", "{CRYPT}not-a-hash", check=False)
    assert p.returncode != 0


@pytest.mark.parametrize("service", ["activesync", "module"])
def test_stopped_service_answers_503(instance, service, error_log):
    c = client(instance, zxinstance.DEMO_ACCOUNT, zxinstance.DEMO_PASSWORD)
    assert ok(c) == 200
    zx(instance, "mobile", "doStopService", service)
    try:
        deadline = time.time() + 5
        while time.time() < deadline:
            r = client(instance, zxinstance.DEMO_ACCOUNT, zxinstance.DEMO_PASSWORD).post("FolderSync", FOLDERSYNC0)
            if r.status == 503:
                break
            time.sleep(0.2)
        assert r.status == 503
        assert r.headers["Retry-After"] == "60"
        assert error_log.contains("ZX00023: the activesync service is stopped")
        # every child sees it within the recheck interval (2 s)
        time.sleep(2.1)
        for _ in range(10):
            assert client(instance, zxinstance.DEMO_ACCOUNT, zxinstance.DEMO_PASSWORD).post(
                "FolderSync", FOLDERSYNC0).status == 503
    finally:
        zx(instance, "mobile", "doStartService", service)
    if service == "module":
        # starting the module does not restart a child service someone stopped; here all run
        assert "running" in zx(instance, "mobile", "getServices").stdout
    time.sleep(2.1)
    for _ in range(10):
        assert ok(client(instance, zxinstance.DEMO_ACCOUNT, zxinstance.DEMO_PASSWORD)) == 200
