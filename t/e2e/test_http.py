"""The ActiveSync HTTP layer ([MS-ASHTTP]) against the real httpd and module.

Status rules under test (MS-ASHTTP 2.2.2.1.1, MS-ASCMD 2.2.2):
  malformed query / missing parameter           -> 400
  unknown command                               -> 501
  unsupported protocol version                  -> 400 (+ MS-ASProtocolVersions)
  bad DeviceId / DeviceType                     -> 14.0+: <Cmd><Status>108/109; older: 400
  wrong Content-Type                            -> 14.0+: Status 101; older: 400
  undecodable WBXML                             -> 14.0+: Status 102; older: 400
  wrong root element                            -> 14.0+: Status 103; older: 400
  command without a handler (yet)               -> 14.0+: Status 137; older: 501
  command not in the requested version          -> 14.0+: Status 138; older: 400
  body over ZxMobileMaxRequestSize              -> 413
"""

import base64
import http.client
import socket
import urllib.parse

import pytest

from easclient import Node, encode, decode
from easclient.client import base64_query_bytes, basic_auth_header, encode_base64_query
import zxinstance

ALL_VERSIONS = "2.5,12.0,12.1,14.0,14.1,16.0,16.1"
ALL_COMMANDS = ("Sync,SendMail,SmartForward,SmartReply,GetAttachment,FolderSync,FolderCreate,"
                "FolderDelete,FolderUpdate,MoveItems,GetItemEstimate,MeetingResponse,Search,"
                "Settings,Ping,ItemOperations,Provision,ResolveRecipients,ValidateCert,Find")
FOLDERSYNC0 = '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>'
# commands of every version whose handlers may still be missing: the first one OPTIONS does not
# advertise is the probe of "the request reached the command stage" (137 / 501)
MAYBE_UNIMPLEMENTED = ("MeetingResponse", "Search", "ResolveRecipients")


@pytest.fixture(scope="module")
def unimplemented(instance):
    """(name, body) of a command without a handler (not in OPTIONS); skips when every one of
    MAYBE_UNIMPLEMENTED has its handler."""
    status, headers, _ = raw_request(instance, "OPTIONS", "/Microsoft-Server-ActiveSync")
    listed = headers["ms-asprotocolcommands"].split(",")
    for name in MAYBE_UNIMPLEMENTED:
        if name not in listed:
            return name, '<%s xmlns="%s:"/>' % (name, name)
    pytest.skip("every command of every version has a handler")


def raw_request(instance, method, target, headers=None, body=None, auth=True):
    conn = http.client.HTTPConnection("127.0.0.1", instance.port, timeout=30)
    headers = dict(headers or {})
    if auth:
        headers.setdefault("Authorization", basic_auth_header(zxinstance.DEMO_ACCOUNT,
                                                              zxinstance.DEMO_PASSWORD))
    try:
        conn.request(method, target, body=body, headers=headers)
        r = conn.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        conn.close()


def status_of(resp, root):
    """The top-level Status of a 200 WBXML response with the given root element."""
    assert resp.status == 200, resp
    doc = resp.wbxml
    assert doc is not None and doc.name == root, doc
    return doc.findtext("Status")


# ---- OPTIONS ---------------------------------------------------------------------------------

def test_options_lists_versions_and_commands(client):
    status, headers = client.options()
    assert status == 200
    assert headers["MS-ASProtocolVersions"] == ALL_VERSIONS
    # the commands with a handler (test_validatecert.py: exactly those), in the table's order
    listed = headers["MS-ASProtocolCommands"].split(",")
    table = ALL_COMMANDS.split(",")
    assert listed == [c for c in table if c in listed]
    for name in ("Sync", "FolderSync", "Settings", "Ping", "ItemOperations", "ValidateCert"):
        assert name in listed
    assert headers["MS-Server-ActiveSync"]
    assert headers["Allow"] == "OPTIONS,POST"
    assert client.last_response.body == b""


def test_options_with_curl_like_request(instance):
    status, headers, body = raw_request(instance, "OPTIONS", "/Microsoft-Server-ActiveSync")
    assert status == 200
    assert headers["ms-asprotocolversions"] == ALL_VERSIONS
    assert "FolderSync" in headers["ms-asprotocolcommands"].split(",")


def test_endpoint_path_is_case_insensitive_and_other_paths_404(instance):
    assert raw_request(instance, "OPTIONS", "/microsoft-server-activesync")[0] == 200
    assert raw_request(instance, "OPTIONS", "/Microsoft-Server-ActiveSync/")[0] == 200
    # not ours (httpd's core answers OPTIONS for other paths itself)
    assert "ms-asprotocolversions" not in raw_request(instance, "OPTIONS", "/Microsoft-Server-ActiveSyncX")[1]
    assert raw_request(instance, "POST", "/Microsoft-Server-ActiveSyncX?Cmd=Sync")[0] in (404, 405)
    assert raw_request(instance, "GET", "/nothing-here")[0] == 404


def test_get_is_not_implemented(instance):
    status, headers, _ = raw_request(instance, "GET", "/Microsoft-Server-ActiveSync")
    assert status == 501
    assert headers["allow"] == "OPTIONS,POST"


# ---- both query forms -------------------------------------------------------------------------

@pytest.mark.parametrize("b64", [False, True], ids=["plain", "base64"])
@pytest.mark.parametrize("version", ["14.0", "14.1", "16.0", "16.1"])
def test_unimplemented_command_status_137_from_14(client_factory, error_log, unimplemented, b64,
                                                  version):
    name, body = unimplemented
    c = client_factory(protocol=version, use_base64_query=b64)
    r = c.post(name, body)
    assert r.headers["Content-Type"] == "application/vnd.ms-sync.wbxml"
    assert status_of(r, name) == "137"
    assert error_log.contains(r"ZX00017: command %s is not implemented" % name)


@pytest.mark.parametrize("b64", [False, True], ids=["plain", "base64"])
def test_unimplemented_command_501_before_14(client_factory, unimplemented, b64):
    c = client_factory(protocol="12.1", use_base64_query=b64)
    r = c.post(*unimplemented)
    assert r.status == 501
    assert r.body == b""


@pytest.mark.parametrize("version", ["2.5", "12.0"])
def test_old_versions_plain_query(client_factory, unimplemented, version):
    c = client_factory(protocol=version)
    assert c.post(*unimplemented).status == 501


def test_base64_and_plain_forms_give_the_same_answer(client_factory):
    plain = client_factory(protocol="14.1").post("Ping", '<Ping xmlns="Ping:"><HeartbeatInterval>60</HeartbeatInterval></Ping>')
    b64 = client_factory(protocol="14.1", use_base64_query=True).post(
        "Ping", '<Ping xmlns="Ping:"><HeartbeatInterval>60</HeartbeatInterval></Ping>')
    assert plain.status == b64.status == 200
    assert plain.body == b64.body
    # Ping reached: a heartbeat without folders, and none cached, is status 3 (MS-ASCMD)
    assert status_of(plain, "Ping") == "3"


def test_published_base64_query_example(client):
    # MS-ASHTTP 2.2.1.1.1: "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l" = Cmd=Sync, DeviceId
    # v140Device, DeviceType SmartPhone, protocol 14.0 (no User parameter: optional there).
    r = client.post("Sync", None, raw_query="jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l")
    # it reached Sync: an empty Sync with no earlier full request is status 13 (MS-ASCMD)
    assert status_of(r, "Sync") == "13"


def test_base64_query_percent_encoded_and_not(client_factory):
    # reached ValidateCert: it answers (Status 1) with the certificate's own status (5: "eA==" is
    # no certificate)
    body = ('<ValidateCert xmlns="ValidateCert:"><Certificates><Certificate>eA==</Certificate>'
            '</Certificates></ValidateCert>')
    for quote in (True, False):
        c = client_factory(protocol="16.1", use_base64_query=True, quote_base64=quote)
        r = c.post("ValidateCert", body)
        assert status_of(r, "ValidateCert") == "1"
        assert r.wbxml.find("Certificate").findtext("Status") == "5"


def test_base64_query_malformed(client, error_log):
    raw = base64_query_bytes("FolderSync", "dev1", "iPhone", protocol="14.1")
    for cut in (1, 3, 5, len(raw) - 1):
        q = base64.b64encode(raw[:cut]).decode()
        r = client.post("FolderSync", FOLDERSYNC0, raw_query=urllib.parse.quote(q, safe=""))
        assert r.status == 400, (cut, r)
    assert error_log.contains(r"bad query: base64 query truncated")
    # policy key length must be 0 or 4
    bad = bytearray(raw)
    bad[5 + bad[4]] = 3
    r = client.post("FolderSync", FOLDERSYNC0,
                    raw_query=urllib.parse.quote(base64.b64encode(bytes(bad)).decode(), safe=""))
    assert r.status == 400
    assert client.post("FolderSync", FOLDERSYNC0, raw_query="%%%").status == 400
    assert client.post("FolderSync", FOLDERSYNC0, raw_query="not*base64").status == 400


def test_base64_query_with_policy_key_and_parameters(client_factory):
    c = client_factory(protocol="14.1", use_base64_query=True)
    r = c.post("SmartReply", '<SmartReply xmlns="ComposeMail:"><ClientId>1</ClientId>'
               '<SaveInSentItems/><Mime>x</Mime></SmartReply>',
               params={"ItemId": "5:1", "CollectionId": "5", "SaveInSent": True}, policy_key=1234567890)
    # the request reached SmartReply, which refuses a 14.1 request without Source (103)
    assert status_of(r, "SmartReply") == "103"


# ---- parameter and version errors ---------------------------------------------------------------

def test_missing_cmd(client, error_log):
    r = client.post("FolderSync", FOLDERSYNC0, raw_query="User=a&DeviceId=d1&DeviceType=t")
    assert r.status == 400
    assert error_log.contains("ZX00003: query has no Cmd parameter")


def test_unknown_command_501(client, error_log):
    r = client.post("FrobnicateItems", None)
    assert r.status == 501
    assert error_log.contains(r'ZX00004: unknown command "FrobnicateItems"')


@pytest.mark.parametrize("query", [
    "Cmd", "Cmd&User&DeviceId&DeviceType", "Cmd=FolderSync&User&DeviceId=d1&DeviceType=t",
    "&&&", "=", "Cmd=FolderSync&SaveInSent", "Cmd=FolderSync&User=a%00b&DeviceId=d1&DeviceType=t",
    "Cmd=FolderSync&User=a&DeviceId=d1&DeviceType=t&SaveInSent=T&SaveInSent=F",
])
def test_odd_plain_queries_are_refused_not_crashing(client, query):
    r = client.post("FolderSync", FOLDERSYNC0, raw_query=query,
                    extra_headers={"MS-ASProtocolVersion": "14.1"})
    assert r.status in (400, 403, 501)
    assert client.options()[0] == 200


def test_base64_unknown_version_byte(client, error_log):
    raw = bytearray(base64_query_bytes("FolderSync", "dev1", "iPhone", protocol="14.1"))
    raw[0] = 99
    q = urllib.parse.quote(base64.b64encode(bytes(raw)).decode(), safe="")
    r = client.post("FolderSync", FOLDERSYNC0, raw_query=q, extra_headers={"MS-ASProtocolVersion": "14.1"})
    assert r.status == 400
    assert error_log.contains('ZX00007: protocol version "99" not supported')


def test_missing_user(client):
    r = client.post("FolderSync", FOLDERSYNC0, raw_query="Cmd=FolderSync&DeviceId=d1&DeviceType=t",
                    extra_headers={"MS-ASProtocolVersion": "14.1"})
    assert r.status == 400


@pytest.mark.parametrize("device_id", ["", "a" * 33, "bad-id", "dev%20x", "d,1"])
def test_bad_device_id(client_factory, device_id):
    c14 = client_factory(protocol="14.1", device_id=device_id)
    assert status_of(c14.post("FolderSync", FOLDERSYNC0), "FolderSync") == "108"
    c12 = client_factory(protocol="12.1", device_id=device_id)
    assert c12.post("FolderSync", FOLDERSYNC0).status == 400


def test_device_id_of_32_chars_is_fine(client_factory):
    c = client_factory(protocol="14.1", device_id="A1" * 16)
    assert status_of(c.post("FolderSync", FOLDERSYNC0), "FolderSync") == "1"


def test_missing_device_type(client_factory):
    c = client_factory(protocol="14.1", device_type="")
    assert status_of(c.post("FolderSync", FOLDERSYNC0), "FolderSync") == "109"


def test_missing_protocol_version(client):
    r = client.post("FolderSync", FOLDERSYNC0, extra_headers={"MS-ASProtocolVersion": None})
    assert r.status == 400
    assert r.headers["MS-ASProtocolVersions"] == ALL_VERSIONS


@pytest.mark.parametrize("version", ["13.0", "1.0", "17.0", "14", "abc"])
def test_unsupported_protocol_version(client_factory, error_log, version):
    r = client_factory(protocol=version).post("FolderSync", FOLDERSYNC0)
    assert r.status == 400
    assert r.headers["MS-ASProtocolVersions"] == ALL_VERSIONS
    assert error_log.contains(r'ZX00007: protocol version "%s" not supported' % version)


def test_command_not_in_version(client_factory):
    # GetAttachment was removed in 14.0; Find exists only in 16.1.
    assert status_of(client_factory(protocol="16.0").post(
        "Find", '<Find xmlns="Find:"><SearchId>1</SearchId></Find>'), "Find") == "138"
    assert client_factory(protocol="14.1").post(
        "GetAttachment", None, params={"AttachmentName": "1:1"}).status == 400
    # (at 12.1 the command runs: no such attachment is HTTP 500, MS-ASCMD 2.2.1.7)
    assert client_factory(protocol="12.1").post(
        "GetAttachment", None, params={"AttachmentName": "1:1"}).status == 500


def test_bad_policy_key_header(client):
    r = client.post("FolderSync", FOLDERSYNC0, extra_headers={"X-MS-PolicyKey": "12ab"})
    assert r.status == 400


# ---- body errors ---------------------------------------------------------------------------------

def test_wrong_content_type(client_factory):
    body = encode(Node("FolderHierarchy:", "FolderSync", [Node("FolderHierarchy:", "SyncKey", text="0")]))
    r = client_factory(protocol="14.1").post("FolderSync", body, content_type="text/plain")
    assert status_of(r, "FolderSync") == "101"
    assert client_factory(protocol="12.1").post("FolderSync", body, content_type="text/plain").status == 400
    # the short form is allowed from 12.1 on
    r = client_factory(protocol="14.1").post("FolderSync", body, content_type="application/vnd.ms-sync")
    assert status_of(r, "FolderSync") == "1"


@pytest.mark.parametrize("body", [
    b"\x03\x01\x6a\x00\x00\x07\x56\x52\x03",            # truncated
    b"\x03\x01\x6a\x00\x00\x63\x45\x01",                # unknown code page 0x63
    b"\x03\x01\x6a\x00\x00\x07\x56\xFF\x01",            # unknown token / attributes
    b"\x03\x01\x04\x00\x00\x07\x56\x01",                # charset not UTF-8
    b"\x03\x01\x6a\x00\x00\x07\x56\x52\x03\xc0\xaf\x00\x01\x01",  # invalid UTF-8
    b"\x03\x01\x6a\x00" + b"\x45" * 200 + b"\x01" * 200,  # nesting too deep
    b"garbage",
])
def test_malformed_wbxml(client_factory, error_log, body):
    r = client_factory(protocol="14.1").post("FolderSync", body)
    assert status_of(r, "FolderSync") == "102"
    assert client_factory(protocol="12.1").post("FolderSync", body).status == 400
    assert error_log.contains("ZX00015: malformed WBXML body")


def test_wrong_root_element(client_factory):
    r = client_factory(protocol="14.1").post("FolderSync", '<Ping xmlns="Ping:"><HeartbeatInterval>60</HeartbeatInterval></Ping>')
    assert status_of(r, "FolderSync") == "103"


def test_mime_body_for_sendmail_before_14(client_factory, error_log):
    c = client_factory(protocol="12.1")
    # no recipient, so that SendMail itself answers (400) without sending anything
    mime = b"From: a@b.c\r\nSubject: hi\r\n\r\nhello\r\n"
    assert c.post("SendMail", mime, content_type="message/rfc822",
                  params={"SaveInSent": "T"}).status == 400
    assert error_log.contains("ZX00719: the message has no recipient")
    assert c.post("SendMail", mime, content_type="application/vnd.ms-sync.wbxml").status == 400
    assert error_log.contains("ZX00013: MIME body expected")


def test_empty_body_is_passed_to_the_command(client_factory):
    # Empty Sync and Ping are legal requests (MS-ASCMD); the command decides: an empty Sync
    # without an earlier full request is status 13, an empty Ping without cached parameters 3.
    assert status_of(client_factory(protocol="14.1").post("Sync", None), "Sync") == "13"
    assert status_of(client_factory(protocol="14.1").post("Ping", None), "Ping") == "3"


@pytest.mark.parametrize("cmd", ["FolderSync", "Provision", "Settings", "ItemOperations"])
def test_empty_body_refused_for_other_commands(client_factory, error_log, cmd):
    # MS-ASHTTP 2.2.1.1.3: only GetAttachment, Sync and Ping may have no body.
    assert status_of(client_factory(protocol="16.1").post(cmd, None), cmd) == "101"
    assert client_factory(protocol="12.1").post(cmd, None).status == 400
    assert error_log.contains("ZX00018: %s request without a body" % cmd)


def test_string_tables_are_refused(client_factory):
    # MS-ASWBXML 2.1.3: string tables are not used; a STR_T reference is malformed WBXML.
    doc = b"\x03\x01\x6a\x03abc\x00\x00\x07\x56\x52\x83\x00\x01\x01"
    assert status_of(client_factory(protocol="14.1").post("FolderSync", doc), "FolderSync") == "102"


def test_body_over_the_limit_413(instance, client_factory):
    # default ZxMobileMaxRequestSize is 32 MiB
    big = b"\x03\x01\x6a\x00" + b"\x00" * (33 * 1024 * 1024)
    c = client_factory(protocol="14.1")
    try:
        r = c.post("FolderSync", big)
        assert r.status == 413
    except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
        pass   # httpd may close while the client still sends: also a refusal


def test_server_survives_a_burst_of_hostile_requests(instance, client_factory):
    import random
    rnd = random.Random(42)
    c = client_factory(protocol="14.1")
    base = encode(Node("FolderHierarchy:", "FolderSync", [Node("FolderHierarchy:", "SyncKey", text="0")]))
    for _ in range(300):
        b = bytearray(base)
        for _ in range(rnd.randint(1, 4)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        r = c.post("FolderSync", bytes(b[:rnd.randint(0, len(b))]))
        assert r.status in (200, 400), r
    status, headers = c.options()
    assert status == 200


def test_keepalive_connection_reused(client):
    for _ in range(20):
        assert status_of(client.post("FolderSync", FOLDERSYNC0), "FolderSync") == "1"
    assert client.requests_sent >= 20
