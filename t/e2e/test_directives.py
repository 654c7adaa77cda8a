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
    ("ZxMobilePublicURL ftp://x", "http:// or https://"),
    ("ZxMobileSendmail sendmail -t", "absolute program path"),
    ('ZxMobileDatabase "host=/tmp port=notanumber dbname=x bogus_option=1"', "invalid libpq conninfo"),
    ("ZxMobileEnable maybe", "ZxMobileEnable"),
    ("ZxMobileAuthHashSlots 0", "number of slots must be from 1 to 1024"),
    ("ZxMobileAuthHashSlots four", "number of slots must be from 1 to 1024"),
    ("ZxMobileAuthHashSlots 4 0", "wait must be from 1 to 60000 ms"),
    ("ZxMobileAuthHashSlots 4 1 2", "ZxMobileAuthHashSlots"),
])
def test_invalid_directive_values_are_refused(instance, tmp_path, directive, message):
    ok, out = configtest(instance, tmp_path, directive)
    assert not ok
    assert message in out, out


def test_valid_configuration_passes(instance, tmp_path):
    ok, out = configtest(instance, tmp_path, textwrap.dedent("""\
        ZxMobileProtocolVersions 12.1, 14.1 16.1
        ZxMobileMaxRequestSize 1048576
        ZxMobileSendmail /usr/sbin/sendmail -t -i -f bounce@example.com
        ZxMobilePublicURL https://mail.example.com
        ZxMobileAuthHashSlots 2 250
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
    assert "Find" in headers["MS-ASProtocolCommands"].split(",")
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
