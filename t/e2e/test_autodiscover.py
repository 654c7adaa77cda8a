"""Autodiscover (spec 6, [MS-ASCMD] 2.2.1.1) over the real httpd: the mobilesync XML form with
the account password and with a mobile password, the path in any case, every error form, the
v2 JSON form, the URL from the domain's public service settings or the server's, and the
instance's TLS port (EAS OPTIONS and Autodiscover verified against its certificate)."""

import base64
import http.client
import json
import ssl
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

import pytest

from easclient import EASClient

REQ_NS = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006"
RESP_NS = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"
ENV_NS = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
OUTLOOK_SCHEMA = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
PATH = "/autodiscover/autodiscover.xml"
EAS = "/Microsoft-Server-ActiveSync"
PASSWORD = "Ad-Passw0rd-1"


def zx(instance, *args, check=True):
    return instance.zxsuite_run(*args, check=check)


def zxj(instance, *args):
    return json.loads(zx(instance, "--json", *args).stdout)["response"]


def body_for(email, schema=RESP_NS, ns=REQ_NS):
    return ('<?xml version="1.0" encoding="utf-8"?>\n<Autodiscover xmlns="%s"><Request>'
            '<EMailAddress>%s</EMailAddress><AcceptableResponseSchema>%s'
            '</AcceptableResponseSchema></Request></Autodiscover>' % (ns, email, schema)).encode()


class Reply:
    def __init__(self, resp):
        self.status = resp.status
        self.headers = {k.lower(): v for k, v in resp.getheaders()}
        self.body = resp.read()

    def xml(self):
        assert self.headers["content-type"].startswith("text/xml"), self.headers
        root = ET.fromstring(self.body)
        assert root.tag == "{%s}Autodiscover" % ENV_NS
        resp = root.find("{%s}Response" % RESP_NS)
        assert resp is not None, self.body
        return resp

    def json(self):
        assert self.headers["content-type"].startswith("application/json"), self.headers
        return json.loads(self.body)


def request(base, method, target, body=None, user=None, password=None, headers=None, ctx=None):
    u = urllib.parse.urlsplit(base)
    if u.scheme == "https":
        conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=30, context=ctx)
    else:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    h = dict(headers or {})
    if user is not None:
        h["Authorization"] = "Basic " + base64.b64encode(
            ("%s:%s" % (user, password)).encode()).decode()
    try:
        conn.request(method, target, body=body, headers=h)
        return Reply(conn.getresponse())
    finally:
        conn.close()


def autodiscover(base, user, password, body, path=PATH, method="POST", ctx=None,
                 content_type="text/xml"):
    return request(base, method, path, body, user, password,
                   {"Content-Type": content_type} if content_type else None, ctx)


def t(elem, path):
    return elem.findtext(path.replace("x:", "{%s}" % RESP_NS))


def settings_of(reply):
    """(display name, address, Url, Name) of a successful answer."""
    assert reply.status == 200, (reply.status, reply.body)
    r = reply.xml()
    assert t(r, "x:Culture") == "en:us"
    assert r.find("{%s}Action/{%s}Error" % (RESP_NS, RESP_NS)) is None, reply.body
    assert t(r, "x:Action/x:Settings/x:Server/x:Type") == "MobileSync"
    return (t(r, "x:User/x:DisplayName"), t(r, "x:User/x:EMailAddress"),
            t(r, "x:Action/x:Settings/x:Server/x:Url"), t(r, "x:Action/x:Settings/x:Server/x:Name"))


def error_code(reply):
    """(ErrorCode, Message, DebugData) of a Response/Error answer ([MS-ASCMD] 4.2.3)."""
    assert reply.status == 200, (reply.status, reply.body)
    r = reply.xml()
    e = r.find("{%s}Error" % RESP_NS)
    assert e is not None, reply.body
    assert r.find("{%s}Action" % RESP_NS) is None
    # Time = hh:mm:ss.fffffff, Id = an unsigned integer naming the server
    tm = e.get("Time")
    assert len(tm) == 16 and tm[2] == ":" and tm[5] == ":" and tm[8] == ".", tm
    assert e.get("Id").isdigit()
    return t(e, "x:ErrorCode"), t(e, "x:Message"), t(e, "x:DebugData")


def action_error(reply):
    """(Status, Message, address) of an Action/Error answer ([MS-ASCMD] 4.2.2)."""
    assert reply.status == 200, (reply.status, reply.body)
    r = reply.xml()
    assert r.find("{%s}Action/{%s}Settings" % (RESP_NS, RESP_NS)) is None
    return (t(r, "x:Action/x:Error/x:Status"), t(r, "x:Action/x:Error/x:Message"),
            t(r, "x:User/x:EMailAddress"))


@pytest.fixture
def account(instance):
    """A fresh account with mobile sync enabled and a display name, in its own domain."""
    dom = "ad%s.test" % uuid.uuid4().hex[:8]
    zx(instance, "prov", "createDomain", dom)
    name = "ada@" + dom
    zx(instance, "prov", "createAccount", name, PASSWORD, "displayName", "Ada <Lovelace> & Co",
       "zimbraFeatureMobileSyncEnabled", "TRUE")
    return name


def test_account_password(instance, account):
    r = autodiscover(instance.base_url, account, PASSWORD, body_for(account))
    assert r.headers["cache-control"] == "private"
    # the display name is escaped, and comes back as it was written
    assert settings_of(r) == ("Ada <Lovelace> & Co", account, instance.base_url + EAS,
                              instance.base_url + EAS)
    assert b"&lt;Lovelace&gt; &amp; Co" in r.body
    # the address in any case, and the DOMAIN\\user login form (DOMAIN: the mail domain or its
    # first label; README, "Authentication")
    label = account.split("@")[1].split(".")[0]
    r = autodiscover(instance.base_url, label.upper() + "\\" + account, PASSWORD,
                     body_for(account.upper()))
    assert settings_of(r)[1] == account
    r = autodiscover(instance.base_url, "CORP\\" + account, PASSWORD, body_for(account))
    assert r.status == 401


def test_display_name_defaults_to_local_part(instance, account):
    zx(instance, "prov", "modifyAccount", account, "displayName", "")
    r = autodiscover(instance.base_url, account, PASSWORD, body_for(account))
    assert settings_of(r)[0] == "ada"


def test_mobile_password(instance, account):
    added = zxj(instance, "auth", "credential", "add", account, "label", "Phone")
    mobile = added["text_data"]["password"]
    r = autodiscover(instance.base_url, account, mobile, body_for(account))
    assert settings_of(r)[1:3] == (account, instance.base_url + EAS)
    # once a mobile password exists, the account password no longer opens EAS: nor Autodiscover
    r = autodiscover(instance.base_url, account, PASSWORD, body_for(account))
    assert r.status == 401 and r.headers["www-authenticate"].startswith("Basic")
    zx(instance, "auth", "credential", "delete", account, added["credential"]["id"])
    assert autodiscover(instance.base_url, account, PASSWORD, body_for(account)).status == 200


@pytest.mark.parametrize("path", ["/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml",
                                  "/AutoDiscover/AutoDiscover.xml", "/AUTODISCOVER/AUTODISCOVER.XML"])
def test_path_any_case(instance, account, path):
    r = autodiscover(instance.base_url, account, PASSWORD, body_for(account), path=path)
    assert settings_of(r)[2] == instance.base_url + EAS


def test_near_paths_not_claimed(instance, account):
    for path in ("/autodiscover/autodiscover.xmlx", "/autodiscover/other.xml", "/autodiscover"):
        r = autodiscover(instance.base_url, account, PASSWORD, body_for(account), path=path)
        assert r.status == 404, path


def test_credentials_errors(instance, account, error_log):
    r = autodiscover(instance.base_url, None, None, body_for(account))
    assert r.status == 401 and r.headers["www-authenticate"].startswith("Basic")
    r = autodiscover(instance.base_url, account, "wrong", body_for(account))
    assert r.status == 401 and r.headers["www-authenticate"].startswith("Basic")
    assert error_log.contains(r'ZX00019: authentication of "%s" failed: bad credentials '
                              r'\(Autodiscover User=' % account)
    assert autodiscover(instance.base_url, "nobody@" + account.split("@")[1], "x",
                        body_for(account)).status == 401
    # not enabled for mobile sync: 403, as the stock servlet and EAS
    zx(instance, "prov", "modifyAccount", account, "zimbraFeatureMobileSyncEnabled", "FALSE")
    r = autodiscover(instance.base_url, account, PASSWORD, body_for(account))
    assert r.status == 403 and r.body == b""
    assert error_log.contains("ZX00020: account %s refused: zimbraFeatureMobileSyncEnabled is FALSE"
                              % account)
    zx(instance, "prov", "modifyAccount", account, "zimbraAccountStatus", "locked",
       "zimbraFeatureMobileSyncEnabled", "TRUE")
    assert autodiscover(instance.base_url, account, PASSWORD, body_for(account)).status == 403


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Autodiscover [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<Autodiscover xmlns="%s"><Request><EMailAddress>&x;</EMailAddress></Request></Autodiscover>""" % REQ_NS.encode()


@pytest.mark.parametrize("name,body,code,debug,log", [
    ("empty", b"", "600", "empty request", "ZX01302: Autodiscover request without a body"),
    ("malformed", b"<Autodiscover><Request>", "600", "malformed XML",
     "ZX01303: invalid Autodiscover request: malformed XML"),
    ("not xml", b"user@example.com", "600", "malformed XML", "ZX01303: .*malformed XML"),
    ("doctype", XXE, "600", "a DOCTYPE is not allowed", "ZX01303: .*DOCTYPE"),
    ("root", b'<Request xmlns="%s"/>' % REQ_NS.encode(), "600", "root element is Request",
     "ZX01303: .*root element is Request, not Autodiscover"),
    ("no request", b'<Autodiscover xmlns="%s"/>' % REQ_NS.encode(), "600", "no Request element",
     "ZX01303: .*no Request element"),
    ("no address", b'<Autodiscover xmlns="%s"><Request><AcceptableResponseSchema>%s'
     b'</AcceptableResponseSchema></Request></Autodiscover>' % (REQ_NS.encode(), RESP_NS.encode()),
     "600", "no EMailAddress", "ZX01306: Autodiscover request without EMailAddress"),
    ("outlook schema", None, "601", OUTLOOK_SCHEMA, "ZX01304: Autodiscover response schema"),
    ("namespace", "ns", "600", "wrong request namespace", "ZX01305: Autodiscover request in namespace"),
])
def test_error_codes(instance, account, error_log, name, body, code, debug, log):
    if body is None:
        body = body_for(account, schema=OUTLOOK_SCHEMA)
    elif body == "ns":
        body = body_for(account, ns="http://example.com/not-the-schema")
    r = autodiscover(instance.base_url, account, PASSWORD, body)
    got = error_code(r)
    assert got[0] == code
    assert got[1] == ("Requested response schema not available" if code == "601" else "Invalid Request")
    assert got[2].startswith(debug), got
    assert b"root:" not in r.body          # the entity was not expanded
    assert error_log.contains(log), error_log.new_lines()[-3:]


def test_get_is_invalid_request(instance, account, error_log):
    # as Exchange: a browser's GET asks for credentials first, then gets error 600
    assert autodiscover(instance.base_url, None, None, None, method="GET").status == 401
    r = autodiscover(instance.base_url, account, PASSWORD, None, method="GET", content_type=None)
    assert error_code(r)[0] == "600"
    assert error_log.contains("ZX01301: Autodiscover request that is not a POST")


def test_address_of_someone_else(instance, account, error_log):
    other = "bob@" + account.split("@")[1]
    zx(instance, "prov", "createAccount", other, "Bob-Pw-1", "zimbraFeatureMobileSyncEnabled", "TRUE")
    for addr in (other, "ghost@" + account.split("@")[1], "ada@elsewhere.test"):
        r = autodiscover(instance.base_url, account, PASSWORD, body_for(addr))
        status, message, echoed = action_error(r)
        assert status == "2" and echoed == addr
        assert "authenticated" in message
        assert error_log.contains(r'ZX01307: Autodiscover for "%s" refused: not the address of the '
                                  r'authenticated account %s' % (addr, account))
    # another account's answer does not tell whether that account exists
    a = autodiscover(instance.base_url, account, PASSWORD, body_for(other)).xml()
    b = autodiscover(instance.base_url, account, PASSWORD, body_for("ghost@x.test")).xml()
    assert t(a, "x:Action/x:Error/x:Message") == t(b, "x:Action/x:Error/x:Message")


def test_body_limit(instance, account):
    r = autodiscover(instance.base_url, account, PASSWORD, b"<a>" + b" " * 70000 + b"</a>")
    assert r.status == 413


# ---- v2 JSON ----------------------------------------------------------------------------------

def v2(base, query, path="/autodiscover/autodiscover.json", method="GET", ctx=None, **kw):
    return request(base, method, path + ("?" + query if query else ""), ctx=ctx, **kw)


def test_v2_json(instance, account, error_log):
    q = "Email=%s&Protocol=ActiveSync" % urllib.parse.quote(account)
    r = v2(instance.base_url, q)       # anonymous, as Exchange answers it
    assert r.status == 200
    assert r.json() == {"Protocol": "ActiveSync", "Url": instance.base_url + EAS}
    # names and values in any case, the path in any case, the v1.0 path form
    assert v2(instance.base_url, "email=%s&protocol=activesync" % account,
              path="/AutoDiscover/AutoDiscover.json").json()["Url"] == instance.base_url + EAS
    assert v2(instance.base_url, "Protocol=ActiveSync",
              path="/autodiscover/autodiscover.json/v1.0/" + account).json() == \
        {"Protocol": "ActiveSync", "Url": instance.base_url + EAS}
    assert v2(instance.base_url, "Email=%s&Protocol=AutodiscoverV1" % account).json() == \
        {"Protocol": "AutodiscoverV1", "Url": instance.base_url + "/Autodiscover/Autodiscover.xml"}
    # an address nobody has, in a domain served here: the same answer (no account enumeration)
    assert v2(instance.base_url, "Email=ghost@%s&Protocol=ActiveSync" % account.split("@")[1]).json() \
        == {"Protocol": "ActiveSync", "Url": instance.base_url + EAS}


@pytest.mark.parametrize("query,method,status,code,log", [
    ("Email=a@b.test&Protocol=Ews", "GET", 400, "InvalidProtocol", "ZX01313: "),
    ("Email=a@b.test", "GET", 400, "InvalidProtocol", "ZX01313: "),
    ("Protocol=ActiveSync", "GET", 400, "InvalidUser", "ZX01314: "),
    ("Email=not-an-address&Protocol=ActiveSync", "GET", 400, "InvalidUser", "ZX01314: "),
    ("Email=a%ZZb&Protocol=ActiveSync", "GET", 400, "InvalidRequest", "ZX01311: "),
    ("Email=a@no-such-domain.test&Protocol=ActiveSync", "GET", 404, "InvalidDomain", "ZX01315: "),
    ("Email=a@b.test&Protocol=ActiveSync", "POST", 405, "InvalidRequest", "ZX01310: "),
])
def test_v2_errors(instance, error_log, query, method, status, code, log):
    r = v2(instance.base_url, query, method=method)
    assert r.status == status
    body = r.json()
    assert body["ErrorCode"] == code and body["ErrorMessage"]
    if code == "InvalidProtocol":
        assert "Supported values are 'ActiveSync,AutodiscoverV1'" in body["ErrorMessage"]
    if status == 405:
        assert r.headers["allow"] == "GET"
    assert error_log.contains(log)


# ---- the URL: the domain's public service settings, else the server's --------------------------

@pytest.fixture
def global_hostname(instance):
    yield
    zx(instance, "config", "unset", "global", "zimbraPublicServiceHostname")
    zx(instance, "config", "unset", "global", "zimbraPublicServiceProtocol")


def test_public_url_from_domain(instance, account, global_hostname):
    dom = account.split("@")[1]

    def url():
        xml_url = settings_of(autodiscover(instance.base_url, account, PASSWORD, body_for(account)))[2]
        json_url = v2(instance.base_url, "Email=%s&Protocol=ActiveSync" % account).json()["Url"]
        assert xml_url == json_url
        return xml_url

    # nothing set: ZxMobilePublicURL of the virtual host
    assert url() == instance.base_url + EAS
    # the domain's host name, with the scheme and port of the server's URL
    zx(instance, "prov", "modifyDomain", dom, "zimbraPublicServiceHostname", "mail." + dom)
    assert url() == "http://mail.%s:%d%s" % (dom, instance.port, EAS)
    # another scheme: its default port, left out
    zx(instance, "prov", "modifyDomain", dom, "zimbraPublicServiceProtocol", "https")
    assert url() == "https://mail.%s%s" % (dom, EAS)
    zx(instance, "prov", "modifyDomain", dom, "zimbraPublicServicePort", "8443")
    assert url() == "https://mail.%s:8443%s" % (dom, EAS)
    zx(instance, "prov", "modifyDomain", dom, "zimbraPublicServicePort", "443")
    assert url() == "https://mail.%s%s" % (dom, EAS)
    # the global value applies to domains without their own
    zx(instance, "config", "set", "global", "zimbraPublicServiceHostname", "mx.global.test")
    zx(instance, "config", "set", "global", "zimbraPublicServiceProtocol", "https")
    assert url() == "https://mail.%s%s" % (dom, EAS)
    zx(instance, "prov", "modifyDomain", dom, "zimbraPublicServiceHostname", "",
       "zimbraPublicServicePort", "")
    assert url() == "https://mx.global.test" + EAS
    zx(instance, "config", "unset", "global", "zimbraPublicServiceHostname")
    assert url() == instance.base_url + EAS


# ---- TLS ---------------------------------------------------------------------------------------

def test_https(instance, account):
    ctx = ssl.create_default_context(cafile=instance.tls_cert)
    with EASClient(instance.tls_url, account, PASSWORD, "tlstest0001", "TestDevice",
                   ssl_context=ctx) as c:
        status, headers = c.options()
        assert status == 200
        assert "14.1" in headers["MS-ASProtocolVersions"].split(",")
    # Autodiscover over TLS answers with the TLS virtual host's URL
    r = autodiscover(instance.tls_base_url, account, PASSWORD, body_for(account), ctx=ctx,
                     path="/Autodiscover/Autodiscover.xml")
    assert settings_of(r)[2] == instance.tls_base_url + EAS
    assert instance.tls_base_url.startswith("https://")
    assert v2(instance.tls_base_url, "Email=%s&Protocol=ActiveSync" % account, ctx=ctx).json()["Url"] \
        == instance.tls_base_url + EAS
    # the certificate is really checked: without it as a trust anchor the handshake fails
    with pytest.raises(ssl.SSLCertVerificationError):
        autodiscover(instance.tls_base_url, account, PASSWORD, body_for(account),
                     ctx=ssl.create_default_context())
    # and plain HTTP on the TLS port is refused
    assert request("http://127.0.0.1:%d" % instance.tls_port, "GET", "/").status == 400


# ---- the autodiscover service ---------------------------------------------------------------

def wait_status(fn, want, timeout=15):
    end = time.time() + timeout
    while True:
        r = fn()
        if r.status == want or time.time() > end:
            return r
        time.sleep(0.3)


@pytest.fixture
def autodiscover_stopped(instance):
    zx(instance, "mobile", "doStopService", "autodiscover")
    yield
    zx(instance, "mobile", "doStartService", "autodiscover", check=False)


def test_service_stopped(instance, account, autodiscover_stopped, error_log):
    def ask():
        return autodiscover(instance.base_url, account, PASSWORD, body_for(account))
    r = wait_status(ask, 503)
    assert r.status == 503 and r.headers["retry-after"] == "60"
    assert wait_status(lambda: v2(instance.base_url, "Email=%s&Protocol=ActiveSync" % account),
                       503).status == 503
    assert error_log.contains("ZX01318: the autodiscover service is stopped")
    # ActiveSync itself goes on
    with EASClient(instance.url, account, PASSWORD, "adstop0001", "TestDevice") as c:
        assert c.options()[0] == 200
    zx(instance, "mobile", "doStartService", "autodiscover")
    assert wait_status(ask, 200).status == 200
