"""ZxMobile* directives: validation at config time and the per-server merge, on the real httpd."""

import os
import textwrap

import pytest

from easclient import EASClient
import zxinstance

FOLDERSYNC0 = '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>'


def configtest(instance, tmp_path, directives):
    conf = tmp_path / "test.conf"
    base = open(instance.conf_path).read().replace('IncludeOptional', '# IncludeOptional')
    conf.write_text(base + "\n" + directives + "\n")
    return instance.httpd_configtest(str(conf))


@pytest.mark.parametrize("directive,message", [
    ("ZxMobileProtocolVersions 14.1 13.0", 'unknown version "13.0"'),
    ("ZxMobileProtocolVersions", "unknown version"),
    ("ZxMobileEndpoint relative/path", "must be an absolute URL path"),
    ("ZxMobileMaxRequestSize 0", "positive number of bytes"),
    ("ZxMobileMaxRequestSize lots", "positive number of bytes"),
    ("ZxMobileFetchBudget 1000", "from 65536 to 1073741824"),
    ("ZxMobileFetchBudget 2147483648", "from 65536 to 1073741824"),
    ("ZxMobileFetchMaxOperations 0", "from 1 to 1000"),
    ("ZxMobileFetchMaxOperations many", "from 1 to 1000"),
    ("ZxMobilePublicURL ftp://x", "http:// or https://"),
    ("ZxMobileSendmail sendmail -t", "absolute program path"),
    ('ZxMobileDatabase "host=/tmp port=notanumber dbname=x bogus_option=1"', "invalid libpq conninfo"),
    ("ZxMobileEnable maybe", "ZxMobileEnable"),
    ("ZxMobileAuthHashSlots 0", "number of slots must be from 1 to 1024"),
    ("ZxMobileAuthHashSlots four", "number of slots must be from 1 to 1024"),
    ("ZxMobileAuthHashSlots 4 0", "wait must be from 1 to 60000 ms"),
    ("ZxMobileAuthHashSlots 4 1 2", "ZxMobileAuthHashSlots"),
    ("ZxMobileValidateCertCAFile /nonexistent/ca.pem", "is not a readable file"),
])
def test_invalid_directive_values_are_refused(instance, tmp_path, directive, message):
    ok, out = configtest(instance, tmp_path, directive)
    assert not ok
    assert message in out, out


def test_valid_configuration_passes(instance, tmp_path):
    ok, out = configtest(instance, tmp_path, textwrap.dedent("""\
        ZxMobileProtocolVersions 12.1, 14.1 16.1
        ZxMobileMaxRequestSize 1048576
        ZxMobileSendmail /bin/cat -t -i -f bounce@example.com
        ZxMobilePublicURL https://mail.example.com
        ZxMobileAuthHashSlots 2 250
        ZxMobileFetchBudget 65536
        ZxMobileFetchMaxOperations 1000
        ZxMobileValidateCertCAFile /etc/ssl/certs/ca-certificates.crt
        """))
    assert ok, out


@pytest.fixture(scope="module")
def vhosts(instance):
    """Two extra virtual hosts: one overriding versions, endpoint and body limit, one off."""
    p1, p2 = zxinstance.free_port(), zxinstance.free_port()
    path = os.path.join(instance.extra_dir, "vhosts.conf")
    with open(path, "w") as f:
        f.write(textwrap.dedent("""\
            Listen 127.0.0.1:{p1}
            Listen 127.0.0.1:{p2}
            <VirtualHost 127.0.0.1:{p1}>
                ZxMobileProtocolVersions 14.1 16.1
                ZxMobileEndpoint /eas
                ZxMobileMaxRequestSize 2000
                ZxMobileFetchBudget 65536
                ZxMobileFetchMaxOperations 2
            </VirtualHost>
            <VirtualHost 127.0.0.1:{p2}>
                ZxMobileEnable Off
            </VirtualHost>
            """).format(p1=p1, p2=p2))
    instance.reload()
    zxinstance._wait_port(p1)
    zxinstance._wait_port(p2)
    yield p1, p2
    os.unlink(path)
    instance.reload()


def test_vhost_overrides_and_inherits(instance, vhosts, client_factory):
    p1, p2 = vhosts
    c = client_factory(url="http://127.0.0.1:%d/eas" % p1)
    status, headers = c.options()
    assert status == 200
    assert headers["MS-ASProtocolVersions"] == "14.1,16.1"
    assert "GetAttachment" not in headers["MS-ASProtocolCommands"].split(",")
    assert "ValidateCert" in headers["MS-ASProtocolCommands"].split(",")
    # a version the vhost does not offer
    assert client_factory(url="http://127.0.0.1:%d/eas" % p1, protocol="12.1").post(
        "FolderSync", FOLDERSYNC0).status == 400
    # its body limit
    r = c.post("FolderSync", b"\x03\x01\x6a\x00" + b"\x00" * 3000)
    assert r.status == 413
    # the default endpoint is not served there, and the main server is unchanged
    assert "MS-ASProtocolVersions" not in client_factory(
        url="http://127.0.0.1:%d/Microsoft-Server-ActiveSync" % p1).options()[1]
    main = client_factory()
    assert main.options()[1]["MS-ASProtocolVersions"] == "2.5,12.0,12.1,14.0,14.1,16.0,16.1"
    assert main.post("FolderSync", b"\x03\x01\x6a\x00\x00\x07\x56\x52\x03" + b"0" * 3000 + b"\x00\x01\x01").status == 200


def test_vhost_disabled(instance, vhosts, client_factory):
    p1, p2 = vhosts
    c = client_factory(url="http://127.0.0.1:%d/Microsoft-Server-ActiveSync" % p2)
    status, headers = c.options()
    assert "MS-ASProtocolVersions" not in headers
    assert c.post("FolderSync", FOLDERSYNC0).status == 404


def test_vhost_fetch_budget_and_operations(instance, vhosts, client_factory):
    # ZxMobileFetchBudget 65536 and ZxMobileFetchMaxOperations 2 on the first vhost only
    import base64
    import uuid
    from mailtools import (INBOX, PASSWORD, client_for, deliver, items, message_with_attachment,
                           new_account, sql)
    p1, _ = vhosts
    acct = new_account(instance)
    payload = bytes(range(256)) * 400                 # 102400 bytes
    subject = "Budget " + uuid.uuid4().hex[:8]
    deliver(instance, acct, message_with_attachment("ann@example.com", acct, subject, "x",
                                                    "a.bin", payload))
    it = items(instance, acct, INBOX, subject=subject)[0]
    part = sql(instance, "SELECT a.part FROM items i JOIN message_attachments a ON "
                         "a.message_id = i.message_id WHERE i.id = %s", it["id"])[0][0]
    ref = "%s:%s" % (it["id"], part)
    io = ('<ItemOperations xmlns="ItemOperations:" xmlns:airsyncbase="AirSyncBase:">%s'
          '</ItemOperations>')
    whole = "<Fetch><Store>Mailbox</Store><airsyncbase:FileReference>%s</airsyncbase:FileReference></Fetch>" % ref
    ranged = ("<Fetch><Store>Mailbox</Store><airsyncbase:FileReference>%s</airsyncbase:FileReference>"
              "<Options><Range>0-99999</Range></Options></Fetch>" % ref)
    statuses = lambda r: [f.findtext("Status") for f in r.wbxml.findall("Response/Fetch")]
    vh = EASClient("http://127.0.0.1:%d/eas" % p1, acct, PASSWORD, "dev" + uuid.uuid4().hex[:12],
                   "TestPhone", protocol="14.1")
    main = client_for(instance, acct)
    # the whole attachment is over 64 KiB there, not on the main server
    assert statuses(vh.post("ItemOperations", io % whole)) == ["11"]
    assert statuses(main.post("ItemOperations", io % whole)) == ["1"]
    # a range is cut to the budget; a third Fetch is over the count
    r = vh.post("ItemOperations", io % (ranged + ranged + ranged))
    assert statuses(r) == ["1", "11", "11"]
    f = r.wbxml.findall("Response/Fetch")[0]
    assert f.findtext("Properties/Range") == "0-65535"
    assert base64.b64decode(f.findtext("Properties/Data")) == payload[:65536]
