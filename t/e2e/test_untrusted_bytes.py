"""Bytes from an untrusted peer (issue 13, items 5 and 6; README, "Limits and hardening").

Header and query values become clean text in the request value (bytes that are not UTF-8 and
control characters -> U+FFFD) before any stage sees them; a NUL in a base64 query value is
refused, not cut.  Opaque WBXML data where a string belongs must be UTF-8 text without a NUL,
else the body is invalid WBXML (Status 102 from 14.0, HTTP 400 before)."""

import base64
import uuid

from easclient.client import base64_query_bytes
from syncutil import Device, new_account, zx

FFFD = "\ufffd"


def b64(data):
    return base64.b64encode(data).decode()


def device_row(instance, device_id, column):
    return instance.psql("SELECT %s FROM devices WHERE device_id = '%s'" % (column, device_id))


def test_latin1_user_agent_does_not_lock_the_device_out(instance, error_log):
    """User-Agent "Caf\\xe9" used to fail the device insert (SQLSTATE 22021): 503/111 forever."""
    acct = new_account(instance)
    d = Device(instance, acct)
    d.c.user_agent = "Caf\xe9/1.0"          # http.client sends the byte 0xE9
    try:
        for _ in range(2):
            doc = d.foldersync()
            assert doc.findtext("Status") == "1"
        assert device_row(instance, d.device_id, "user_agent").rstrip("\n") == "Caf" + FFFD + "/1.0"
        assert not error_log.contains("22021")
    finally:
        d.close()


def test_control_characters_in_user_agent_are_replaced(instance):
    acct = new_account(instance)
    d = Device(instance, acct)
    # httpd itself refuses most C0 controls in a header; a TAB and C1 controls (U+0085 NEL, in
    # UTF-8) pass it
    d.c.user_agent = b"Evil\tAgent\xc2\x85/1"
    try:
        assert d.foldersync().findtext("Status") == "1"
        assert device_row(instance, d.device_id, "user_agent").rstrip("\n") == \
            "Evil" + FFFD + "Agent" + FFFD + "/1"
    finally:
        d.close()


def test_base64_device_id_with_nul_is_refused(instance, client_factory, error_log):
    """DeviceId "sec\\0b64" used to be cut to "sec" (a valid DeviceId of another device)."""
    c = client_factory()
    raw = base64_query_bytes("FolderSync", b"sec\x00b64", "TestDevice", protocol="14.1")
    r = c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>',
               raw_query=b64(raw))
    assert r.status == 400
    assert error_log.contains("base64 query device ID contains a NUL byte")
    assert instance.psql("SELECT count(*) FROM devices WHERE device_id = 'sec'").strip() == "0"


def folder_create(d, display_name_xml):
    return d.c.post("FolderCreate", '<FolderCreate xmlns="FolderHierarchy:"><SyncKey>%s</SyncKey>'
                    '<ParentId>0</ParentId>%s<Type>12</Type></FolderCreate>'
                    % (d.hier_key, display_name_xml))


def test_opaque_display_name_with_nul_is_refused_not_cut(instance, error_log):
    acct = new_account(instance)
    d = Device(instance, acct)
    try:
        d.foldersync()
        r = folder_create(d, '<DisplayName opaque="base64">%s</DisplayName>' % b64(b"a\x00b"))
        assert r.status == 200
        assert r.wbxml.name == "FolderCreate" and r.wbxml.findtext("Status") == "102"
        assert error_log.contains("ZX00015: malformed WBXML body: text is not valid UTF-8")
        # no folder "a" (nor anything else) was made
        assert d.foldersync().findall("Changes/Add") == []
        # not UTF-8: refused as well; at 12.1 with 400
        r = folder_create(d, '<DisplayName opaque="base64">%s</DisplayName>' % b64(b"Caf\xe9"))
        assert r.wbxml.findtext("Status") == "102"
        old = Device(instance, acct, protocol="12.1")
        old.foldersync()
        assert folder_create(old, '<DisplayName opaque="base64">%s</DisplayName>'
                             % b64(b"a\x00b")).status == 400
        old.close()
        # valid UTF-8 as opaque data is text like an inline string
        r = folder_create(d, '<DisplayName opaque="base64">%s</DisplayName>'
                          % b64("Caf\u00e9".encode()))
        assert r.wbxml.findtext("Status") == "1"
        other = Device(instance, acct)
        names = [a.findtext("DisplayName") for a in other.foldersync().findall("Changes/Add")]
        other.close()
        assert "Caf\u00e9" in names and "a" not in names and len(names) == 11
    finally:
        d.close()


def test_opaque_settings_and_clientid_and_collectionid_are_refused(instance, error_log):
    acct = new_account(instance)
    d = Device(instance, acct)
    try:
        d.foldersync()
        r = d.c.post("Settings", '<Settings xmlns="Settings:"><DeviceInformation><Set>'
                     '<Model opaque="base64">%s</Model></Set></DeviceInformation></Settings>'
                     % b64(b"X\xff\x00"))
        assert r.status == 200 and r.wbxml.findtext("Status") == "102"
        assert device_row(instance, d.device_id, "info_model").strip() == ""
        r = d.c.post("SendMail", '<SendMail xmlns="ComposeMail:"><ClientId opaque="base64">%s'
                     '</ClientId><SaveInSentItems/><Mime opaque="base64">%s</Mime></SendMail>'
                     % (b64(b"id\xfe"), b64(b"To: x@example.com\r\n\r\nhi\r\n")))
        assert r.status == 200 and r.wbxml.findtext("Status") == "102"
        r = d.c.post("Sync", '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>0</SyncKey>'
                     '<CollectionId opaque="base64">%s</CollectionId></Collection></Collections>'
                     '</Sync>' % b64(b"2\x80"))
        assert r.status == 200 and r.wbxml.findtext("Status") == "102"
        assert b"\x80" not in r.body
    finally:
        d.close()
