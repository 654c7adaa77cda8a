"""Exchange ActiveSync HTTP test client, written from [MS-ASHTTP].

Source: [MS-ASHTTP] "Exchange ActiveSync: HTTP Protocol", revision 23.0 of
2025-05-20 (sections cited inline); the command-parameter table and the
base64 example were also read on the Microsoft Learn pages of sections
2.2.1.1.1.1 and 2.2.1.1.1.1.3.

Only the Python standard library is used (http.client).
"""

import base64
import http.client
import ssl
import struct
import urllib.parse

from . import schema
from .wbxml import Node, decode, encode, from_xml

__all__ = [
    "EASClient", "Response", "Headers", "COMMAND_CODES", "PARAMETER_TAGS",
    "OPTION_FLAGS", "WBXML_CONTENT_TYPE", "protocol_version_byte",
    "base64_query_bytes", "encode_base64_query", "decode_base64_query",
    "plain_query", "basic_auth_header",
]

#: [MS-ASHTTP] 2.2.1.1.2.3 / 2.2.2.1.2.4
WBXML_CONTENT_TYPE = "application/vnd.ms-sync.wbxml"
#: shortened form allowed by 2.2.1.1.2.3 (not for 2.5 and 12.0)
WBXML_CONTENT_TYPE_SHORT = "application/vnd.ms-sync"

#: [MS-ASHTTP] 2.2.1.1.1.1.2 "Command Codes"
COMMAND_CODES = {
    "Sync": 0,
    "SendMail": 1,
    "SmartForward": 2,
    "SmartReply": 3,
    "GetAttachment": 4,
    "FolderSync": 9,
    "FolderCreate": 10,
    "FolderDelete": 11,
    "FolderUpdate": 12,
    "MoveItems": 13,
    "GetItemEstimate": 14,
    "MeetingResponse": 15,
    "Search": 16,
    "Settings": 17,
    "Ping": 18,
    "ItemOperations": 19,
    "Provision": 20,
    "ResolveRecipients": 21,
    "ValidateCert": 22,
    "Find": 23,
}

#: [MS-ASHTTP] 2.2.1.1.1.1.3 "Command Parameters" (tag values)
PARAMETER_TAGS = {
    "AttachmentName": 0,
    "CollectionId": 1,
    "ItemId": 3,
    "LongId": 4,
    "Occurrence": 6,
    "Options": 7,
    "User": 8,
}

#: [MS-ASHTTP] 2.2.1.1.1.1.3, bit flags of the Options parameter
OPTION_FLAGS = {
    "SaveInSent": 0x01,
    "AcceptMultiPart": 0x02,
}

DEFAULT_LOCALE = 0x0409       # en-US; the spec's example encodes 09 04
DEFAULT_USER_AGENT = "zxmobile-e2e-easclient/1.0"


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

class Headers:
    """Case-insensitive, multi-valued header mapping (order preserved)."""

    def __init__(self, items=()):
        self._items = [(str(k), str(v)) for k, v in items]

    def __getitem__(self, key):
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def get(self, key, default=None):
        lk = key.lower()
        for k, v in self._items:
            if k.lower() == lk:
                return v
        return default

    def get_all(self, key):
        lk = key.lower()
        return [v for k, v in self._items if k.lower() == lk]

    def __contains__(self, key):
        return self.get(key) is not None

    def keys(self):
        seen, out = set(), []
        for k, _ in self._items:
            if k.lower() not in seen:
                seen.add(k.lower())
                out.append(k)
        return out

    def items(self):
        return list(self._items)

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self.keys())

    def __repr__(self):
        return "Headers(%r)" % (self._items,)


def _is_wbxml_content_type(value):
    if not value:
        return False
    media = value.split(";", 1)[0].strip().lower()
    return media in (WBXML_CONTENT_TYPE, WBXML_CONTENT_TYPE_SHORT)


class Response:
    """An HTTP response: ``status``, ``reason``, ``headers`` (case-insensitive),
    ``body`` (bytes) and ``wbxml`` (decoded Node, or None)."""

    def __init__(self, status, reason, headers, body, method=None, url=None):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.method = method
        self.url = url
        self._wbxml = None
        self._decoded = False

    @property
    def content_type(self):
        return self.headers.get("Content-Type")

    @property
    def is_wbxml(self):
        """True when the body is non-empty and labelled (or, without a
        Content-Type, looks like) ActiveSync WBXML."""
        if not self.body:
            return False
        ctype = self.content_type
        if ctype is None:
            return self.body[:4] == b"\x03\x01\x6a\x00"
        return _is_wbxml_content_type(ctype)

    @property
    def wbxml(self):
        """Decoded body, or None when the body is empty or not WBXML.

        A body labelled WBXML that does not decode raises WBXMLError: a
        server sending broken WBXML is a test failure, not a None."""
        if not self._decoded:
            self._wbxml = decode(self.body) if self.is_wbxml else None
            self._decoded = True
        return self._wbxml

    def __repr__(self):
        return "<Response %s %s %d bytes%s>" % (
            self.status, self.reason, len(self.body),
            " %s" % self.content_type if self.content_type else "")


def protocol_version_byte(version):
    """"14.1" -> 141 ([MS-ASHTTP] 2.2.1.1.1.1: "141, 160 or 161 ... 140 or 121")."""
    if isinstance(version, int):
        return version
    major, _, minor = str(version).partition(".")
    if not major.isdigit() or not minor.isdigit() or len(minor) != 1:
        raise ValueError("bad protocol version %r" % (version,))
    value = int(major) * 10 + int(minor)
    if not 0 <= value <= 255:
        raise ValueError("protocol version %r does not fit in one byte" % (version,))
    return value


def basic_auth_header(user, password):
    """Value of the Authorization header for HTTP basic authentication
    ([MS-ASHTTP] 2.2.1.1.2.2)."""
    raw = ("%s:%s" % (user, password)).encode("utf-8")
    return "Basic " + base64.b64encode(raw).decode("ascii")


def _to_bytes(value, what):
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError("%s must be str or bytes, got %r" % (what, type(value).__name__))


def _flag_value(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value.upper() in ("T", "TRUE", "1"):
            return True
        if value.upper() in ("F", "FALSE", "0", ""):
            return False
    if isinstance(value, int):
        return bool(value)
    raise ValueError("flag value must be T/F or a bool, got %r" % (value,))


def _param_items(params):
    if params is None:
        return []
    if isinstance(params, dict):
        return list(params.items())
    return list(params)


def base64_query_bytes(command, device_id, device_type, protocol="14.1",
                       locale=DEFAULT_LOCALE, policy_key=None, user=None,
                       params=None, policy_key_byteorder="little"):
    """The byte sequence of [MS-ASHTTP] 2.2.1.1.1.1 (before base64).

    Layout: protocol version (1 byte), command code (1), locale (uint16,
    little-endian as in the spec's example "09 04"), device ID length (1) +
    device ID, policy key length (1; 0 or 4) + policy key (uint32), device
    type length (1) + device type, then command parameters as
    tag (1) / length (1) / value.

    ``command``: name from COMMAND_CODES or an int code.
    ``user``: if given, appended as the User parameter (tag 8).
    ``params``: dict or list of (name or int tag, value).  The flags
    ``SaveInSent`` and ``AcceptMultiPart`` (T/F or bool) are folded into one
    ``Options`` byte (tag 7); ``Options`` itself takes an int.  Values are
    str (UTF-8) or bytes.
    ``policy_key_byteorder``: the spec does not state the byte order of the
    4-byte policy key; little-endian (like Locale) is the default.
    """
    if isinstance(command, int):
        code = command
    else:
        try:
            code = COMMAND_CODES[command]
        except KeyError:
            raise ValueError("command %r has no code in [MS-ASHTTP] 2.2.1.1.1.1.2" % (command,))
    dev_id = _to_bytes(device_id, "device_id")
    dev_type = _to_bytes(device_type, "device_type")
    if len(dev_id) > 255 or len(dev_type) > 255:
        raise ValueError("device id/type longer than 255 bytes")
    out = bytearray()
    out.append(protocol_version_byte(protocol))
    out.append(code)
    out += struct.pack("<H", locale)
    out.append(len(dev_id))
    out += dev_id
    if policy_key is None:
        out.append(0)
    else:
        out.append(4)
        out += int(policy_key).to_bytes(4, policy_key_byteorder)
    out.append(len(dev_type))
    out += dev_type

    options = None
    encoded = []
    for key, value in _param_items(params):
        if key in OPTION_FLAGS:
            if _flag_value(value):
                options = (options or 0) | OPTION_FLAGS[key]
            elif options is None:
                options = 0
            continue
        if key == "Options" or key == PARAMETER_TAGS["Options"]:
            options = (options or 0) | int(value)
            continue
        if isinstance(key, int):
            tag = key
        else:
            try:
                tag = PARAMETER_TAGS[key]
            except KeyError:
                raise ValueError("parameter %r has no tag in [MS-ASHTTP] 2.2.1.1.1.1.3" % (key,))
        encoded.append((tag, _to_bytes(value, "parameter %r" % (key,))))
    if user is not None:
        encoded.append((PARAMETER_TAGS["User"], _to_bytes(user, "user")))
    if options is not None:
        encoded.append((PARAMETER_TAGS["Options"], bytes((options & 0xFF,))))
    for tag, value in encoded:
        if len(value) > 255:
            raise ValueError("parameter value longer than 255 bytes (tag %d)" % tag)
        out.append(tag)
        out.append(len(value))
        out += value
    return bytes(out)


def encode_base64_query(command, device_id, device_type, protocol="14.1",
                        locale=DEFAULT_LOCALE, policy_key=None, user=None,
                        params=None, policy_key_byteorder="little"):
    """base64 text of ``base64_query_bytes(...)`` (RFC 2045/4648 alphabet,
    with padding), e.g. "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l" for the
    example of [MS-ASHTTP] 2.2.1.1.1.  Not URL-quoted."""
    raw = base64_query_bytes(command, device_id, device_type, protocol, locale,
                             policy_key, user, params, policy_key_byteorder)
    return base64.b64encode(raw).decode("ascii")


def decode_base64_query(value, policy_key_byteorder="little"):
    """Parse a base64 query value back into a dict (for tests and debugging).

    Raises ValueError on malformed input."""
    if isinstance(value, str):
        value = urllib.parse.unquote(value)
    raw = base64.b64decode(value, validate=True)
    pos = 0

    def take(count, what):
        nonlocal pos
        if pos + count > len(raw):
            raise ValueError("truncated base64 query value: %s" % what)
        chunk = raw[pos:pos + count]
        pos += count
        return chunk

    result = {}
    result["protocol"] = take(1, "protocol version")[0]
    result["command_code"] = take(1, "command code")[0]
    names = {v: k for k, v in COMMAND_CODES.items()}
    result["command"] = names.get(result["command_code"])
    result["locale"] = struct.unpack("<H", take(2, "locale"))[0]
    n = take(1, "device id length")[0]
    result["device_id"] = take(n, "device id")
    n = take(1, "policy key length")[0]
    if n not in (0, 4):
        raise ValueError("policy key length must be 0 or 4, got %d" % n)
    result["policy_key"] = int.from_bytes(take(n, "policy key"), policy_key_byteorder) if n else None
    n = take(1, "device type length")[0]
    result["device_type"] = take(n, "device type")
    params = []
    while pos < len(raw):
        tag = take(1, "parameter tag")[0]
        n = take(1, "parameter length")[0]
        params.append((tag, take(n, "parameter value")))
    result["params"] = params
    return result


_QUERY_SAFE = "@:!$'()*,;"
#: the protocol versions of [MS-ASHTTP] 2.2.1.1.2.6 (the response checker's version check)
_PROTOCOLS = ("2.5", "12.0", "12.1", "14.0", "14.1", "16.0", "16.1")


def plain_query(command, user, device_id, device_type, params=None):
    """Plain text query value of [MS-ASHTTP] 2.2.1.1.1.2:
    ``Cmd=...&User=...&DeviceId=...&DeviceType=...`` then ``&name=value``
    for each parameter (in the given order).  Values are percent-encoded
    where a URI requires it.  ``True``/``False`` become "T"/"F"."""
    parts = [("Cmd", command), ("User", user), ("DeviceId", device_id),
             ("DeviceType", device_type)]
    for key, value in _param_items(params):
        if isinstance(value, bool):
            value = "T" if value else "F"
        parts.append((key, value))
    out = []
    for key, value in parts:
        if value is None:
            continue
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        out.append("%s=%s" % (urllib.parse.quote(str(key), safe=_QUERY_SAFE),
                              urllib.parse.quote(str(value), safe=_QUERY_SAFE)))
    return "&".join(out)


# --------------------------------------------------------------------------
# client
# --------------------------------------------------------------------------

_RETRYABLE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
              ConnectionAbortedError, http.client.CannotSendRequest)


class EASClient:
    """A minimal ActiveSync client over one keep-alive HTTP connection.

    ``base_url`` is the full URL of the ActiveSync endpoint, e.g.
    "http://127.0.0.1:8080/Microsoft-Server-ActiveSync".  ``user=None``
    sends no Authorization header.  ``policy_key`` (attribute) is sent with
    every POST unless ``post(policy_key=False)``.
    """

    def __init__(self, base_url, user, password, device_id, device_type,
                 protocol="14.1", user_agent=DEFAULT_USER_AGENT,
                 use_base64_query=False, locale=DEFAULT_LOCALE, timeout=60.0,
                 ssl_context=None, policy_key=None, base64_user=True,
                 quote_base64=True, use_cookies=True):
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https"):
            raise ValueError("base_url must be http:// or https://, got %r" % (base_url,))
        self.base_url = base_url
        self.scheme = parsed.scheme
        self.host = parsed.hostname
        self.port = parsed.port or (443 if parsed.scheme == "https" else 80)
        self.path = parsed.path or "/Microsoft-Server-ActiveSync"
        self.user = user
        self.password = password
        self.device_id = device_id
        self.device_type = device_type
        self.protocol = protocol
        self.user_agent = user_agent
        self.use_base64_query = use_base64_query
        self.locale = locale
        self.timeout = timeout
        self.ssl_context = ssl_context
        self.policy_key = policy_key
        #: include the User parameter (tag 8) in base64 queries
        self.base64_user = base64_user
        #: percent-encode '+', '/' and '=' of the base64 query value
        self.quote_base64 = quote_base64
        self.use_cookies = use_cookies
        #: check every WBXML response with easclient.schema (violations go to
        #: schema.VIOLATIONS, which t/e2e/conftest.py turns into test failures)
        self.check_schema = True
        self.cookies = {}
        self.last_response = None
        self.requests_sent = 0
        self._conn = None
        self._conn_used = False

    # -- connection ---------------------------------------------------------
    def _new_connection(self):
        if self.scheme == "https":
            ctx = self.ssl_context
            if ctx is None:
                ctx = ssl.create_default_context()
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                               context=ctx)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def close(self):
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
                self._conn_used = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def request(self, method, target, body=None, headers=None):
        """Send one raw HTTP request (``target`` = path and query) and return
        a Response.  Reconnects once if a reused keep-alive connection turns
        out to be closed."""
        headers = dict(headers or {})
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = self._new_connection()
                self._conn_used = False
            reused = self._conn_used
            try:
                self._conn.request(method, target, body=body, headers=headers)
                resp = self._conn.getresponse()
                data = resp.read()
            except _RETRYABLE:
                self.close()
                if attempt == 0 and reused:
                    continue
                raise
            except Exception:
                self.close()
                raise
            self._conn_used = True
            self.requests_sent += 1
            response = Response(resp.status, resp.reason, Headers(resp.getheaders()), data,
                                method=method, url=target)
            if resp.will_close:
                self.close()
            if self.use_cookies:
                self._store_cookies(response.headers)
            if self.check_schema and response.is_wbxml:
                self._check_schema(method, target, headers, response)
            self.last_response = response
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _command_of(target, headers):
        """(command name, protocol version) of a request (plain or base64 query); None for
        what the request does not say or says wrongly."""
        query = target.partition("?")[2]
        if not query:
            return None, None
        cmd = proto = None
        if "=" in urllib.parse.unquote(query).rstrip("="):
            for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
                if key == "Cmd":
                    cmd = value
            for key, value in headers.items():
                if key.lower() == "ms-asprotocolversion":
                    proto = value
        else:
            try:
                q = decode_base64_query(query)
                cmd, proto = q["command"], "%d.%d" % divmod(q["protocol"], 10)
            except Exception:  # noqa: BLE001 - a deliberately broken query says nothing
                pass
        if proto not in _PROTOCOLS:
            proto = None
        return cmd, proto

    def _check_schema(self, method, target, headers, response):
        """Check a WBXML body against easclient.schema and record the violations (the e2e
        conftest fails the test with them): every WBXML answer of the server must be a
        well-formed command response of the request's protocol version, including the
        answers to malformed requests."""
        cmd, proto = self._command_of(target, headers)
        context = "%s %s%s (HTTP %s)" % (method, cmd or target, " " + proto if proto else "",
                                          response.status)
        try:
            root = response.wbxml
        except Exception as e:  # noqa: BLE001 - a body that does not decode is a violation
            schema.record(context, ["the body does not decode as WBXML: %s" % e])
            return
        found = schema.check(root, proto)
        if cmd is not None and root is not None and root.name != cmd and \
                cmd in {name for _, name in schema.COMMANDS}:
            found.insert(0, "the root element is %s, expected the %s command's" % (
                root.name, cmd))
        schema.record(context, found)

    def _store_cookies(self, headers):
        for value in headers.get_all("Set-Cookie"):
            pair = value.split(";", 1)[0]
            name, sep, val = pair.partition("=")
            if sep and name.strip():
                self.cookies[name.strip()] = val.strip()

    # -- header construction ------------------------------------------------
    def _common_headers(self):
        headers = {}
        if self.user is not None:
            headers["Authorization"] = basic_auth_header(self.user, self.password or "")
        if self.user_agent:
            headers["User-Agent"] = self.user_agent
        if self.use_cookies and self.cookies:
            headers["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        return headers

    @staticmethod
    def _apply_extra(headers, extra_headers):
        for key, value in (extra_headers or {}).items():
            for existing in [k for k in headers if k.lower() == key.lower()]:
                del headers[existing]
            if value is not None:
                headers[key] = value
        return headers

    # -- commands -----------------------------------------------------------
    def options(self, extra_headers=None):
        """HTTP OPTIONS on the endpoint ([MS-ASHTTP] 2.2.3); returns
        (status, headers).  The full Response is in ``last_response``."""
        headers = self._apply_extra(self._common_headers(), extra_headers)
        resp = self.request("OPTIONS", self.path, headers=headers)
        return resp.status, resp.headers

    def build_query(self, cmd, params=None, policy_key=None, use_base64_query=None,
                    protocol=None):
        """The query string a post() would use, and the extra headers it
        implies: returns (query, headers)."""
        use_b64 = self.use_base64_query if use_base64_query is None else use_base64_query
        proto = self.protocol if protocol is None else protocol
        headers = {}
        if use_b64:
            value = encode_base64_query(
                cmd, self.device_id, self.device_type, protocol=proto, locale=self.locale,
                policy_key=policy_key, user=self.user if self.base64_user else None,
                params=params)
            if self.quote_base64:
                value = urllib.parse.quote(value, safe="")
            return value, headers
        plain_params = []
        for key, value in _param_items(params):
            if key == "AcceptMultiPart":
                # A header, not a URI parameter, in the plain form
                # ([MS-ASHTTP] 2.2.1.1.2.5).
                headers["MS-ASAcceptMultiPart"] = "T" if _flag_value(value) else "F"
                continue
            plain_params.append((key, value))
        query = plain_query(cmd, self.user, self.device_id, self.device_type, plain_params)
        headers["MS-ASProtocolVersion"] = proto
        if policy_key is not None:
            headers["X-MS-PolicyKey"] = str(policy_key)
        return query, headers

    def post(self, cmd, body=None, params=None, policy_key=None, raw_query=None,
             extra_headers=None, use_base64_query=None, protocol=None,
             content_type=WBXML_CONTENT_TYPE):
        """POST one command; returns a Response.

        ``body``: a Node (WBXML-encoded), bytes (sent as is), str (parsed with
        from_xml and encoded) or None (no body, no Content-Type).
        ``params``: command parameters (CollectionId, ItemId, LongId,
        Occurrence, AttachmentName, SaveInSent, AcceptMultiPart, ... or any
        other name for the plain form).
        ``policy_key``: None = the client's ``policy_key`` attribute;
        False = send none; otherwise the key (X-MS-PolicyKey header in the
        plain form, Policy key field in the base64 form).
        ``raw_query``: use this query string verbatim instead of building one
        (no MS-ASProtocolVersion/X-MS-PolicyKey headers are added then).
        ``extra_headers``: added last; a value of None removes a header.
        """
        if policy_key is None:
            policy_key = self.policy_key
        elif policy_key is False:
            policy_key = None
        if isinstance(body, str):
            body = from_xml(body)
        if isinstance(body, Node):
            body = encode(body)
        elif body is not None and not isinstance(body, (bytes, bytearray)):
            raise TypeError("body must be a Node, bytes, XML str or None")

        headers = self._common_headers()
        if raw_query is not None:
            query = raw_query
        else:
            query, qheaders = self.build_query(cmd, params, policy_key, use_base64_query,
                                               protocol)
            headers.update(qheaders)
        if body is not None and content_type:
            headers["Content-Type"] = content_type
        self._apply_extra(headers, extra_headers)
        target = self.path + ("?" + query if query else "")
        return self.request("POST", target, body=bytes(body) if body is not None else None,
                            headers=headers)

    def provision(self, device_information=None, ack_status=1,
                  policy_type="MS-EAS-Provisioning-WBXML"):
        """Both phases of [MS-ASPROV] 3.1.5.1: the initial request (with
        settings:DeviceInformation/Set when ``device_information``, a dict of
        element name -> text, is given) sent with policy key 0, then the
        acknowledgement of the temporary key with ``ack_status``.  Sets
        ``policy_key`` to the final key when the server grants one.  Returns
        (initial response, acknowledgement response or None when the initial
        response carries no temporary key)."""
        from xml.sax.saxutils import escape
        info = ""
        if device_information:
            info = "<settings:DeviceInformation><settings:Set>%s</settings:Set>" \
                   "</settings:DeviceInformation>" % "".join(
                       "<settings:%s>%s</settings:%s>" % (k, escape(str(v)), k)
                       for k, v in device_information.items())
        head = '<Provision xmlns="Provision:" xmlns:settings="Settings:">'
        first = self.post("Provision", "%s%s<Policies><Policy><PolicyType>%s</PolicyType>"
                          "</Policy></Policies></Provision>" % (head, info, policy_type),
                          policy_key=0)
        doc = first.wbxml
        temp = doc.findtext("Policies/Policy/PolicyKey") if doc is not None else None
        if not temp:
            return first, None
        ack = self.post("Provision", "%s<Policies><Policy><PolicyType>%s</PolicyType>"
                        "<PolicyKey>%s</PolicyKey><Status>%d</Status></Policy></Policies>"
                        "</Provision>" % (head, policy_type, temp, ack_status),
                        policy_key=temp)
        doc = ack.wbxml
        final = doc.findtext("Policies/Policy/PolicyKey") if doc is not None else None
        if final and doc.findtext("Status") == "1":
            self.policy_key = int(final)
        return first, ack
