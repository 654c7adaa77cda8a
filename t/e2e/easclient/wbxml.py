"""A small, strict ActiveSync WBXML codec and node model (test client side).

Written from [MS-ASWBXML] (revision 24.0) and the WBXML 1.2/1.3 token rules
it references, independently of the server's C codec.

What the specification says ActiveSync uses ([MS-ASWBXML] 2.1.3):
tokens for tags, code pages (SWITCH_PAGE), inline strings (STR_I) and
opaque data (OPAQUE).  What it does not use: string tables, entities,
processing instructions, attribute encoding.  ``decode`` therefore rejects
STR_T, LITERAL*, ENTITY, PI, EXT_*, a non-empty string table and any tag
token with the attribute bit (0x80).

Node model
----------
``Node(ns, name, children=None, text=None, opaque=None)``: an element of
namespace ``ns`` (canonical form "AirSync:", see codepages.py) whose content
is either child nodes, a ``str`` text, ``bytes`` opaque data, or nothing.
``text == ""`` (an empty inline string, ``03 00``) is kept distinct from "no
content" so that WBXML -> Node -> WBXML is lossless.

XML form
--------
``to_xml``/``from_xml`` use the pages' namespace strings as XML namespaces:
``<Sync xmlns="AirSync:"><Collections>...``.  ActiveSync elements never have
attributes, so two attributes are reserved as markers:

* ``opaque="base64"``: the element holds OPAQUE data, its text is the base64
  of the bytes (``<ConversationId opaque="base64">AAEC</ConversationId>``);
* ``str="empty"``: the element holds an empty inline string (``03 00``),
  which XML could not otherwise tell apart from an empty element.

Carriage returns in text are written as ``&#13;`` so that XML parsers do not
normalise them away.  ``from_xml`` ignores whitespace-only text between
elements; any other text next to child elements (mixed content) is an error.
The text of a leaf element is kept verbatim, even when it is only
whitespace.  ``<X/>`` and ``<X></X>`` both mean an element without content.
"""

import base64
import binascii
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape as _xml_escape, quoteattr as _quoteattr

from . import codepages as _cp

__all__ = ["WBXMLError", "Node", "encode", "decode", "to_xml", "from_xml",
           "to_etree", "encode_mb_u_int32", "decode_mb_u_int32", "dump_tokens"]

# Global tokens ([MS-ASWBXML] 1.6).
SWITCH_PAGE = 0x00
END = 0x01
ENTITY = 0x02
STR_I = 0x03
LITERAL = 0x04
EXT_I_0, EXT_I_1, EXT_I_2 = 0x40, 0x41, 0x42
PI = 0x43
LITERAL_C = 0x44
EXT_T_0, EXT_T_1, EXT_T_2 = 0x80, 0x81, 0x82
STR_T = 0x83
LITERAL_A = 0x84
EXT_0, EXT_1, EXT_2 = 0xC0, 0xC1, 0xC2
OPAQUE = 0xC3
LITERAL_AC = 0xC4

#: Header values written by ``encode``: WBXML 1.3, unknown public identifier,
#: UTF-8 (IANA MIBenum 106), empty string table -- as in the example of
#: [MS-ASWBXML] section 3 ("03 01 6A 00").
WBXML_VERSION = 0x03
PUBLIC_ID_UNKNOWN = 0x01
CHARSET_UTF8 = 0x6A

TAG_CONTENT = 0x40
TAG_ATTRIBUTES = 0x80
TAG_MASK = 0x3F

_UNSUPPORTED = {
    ENTITY: "ENTITY (entities are not used by ActiveSync, [MS-ASWBXML] 2.1.3)",
    LITERAL: "LITERAL (literal tags need a string table, not used by ActiveSync)",
    LITERAL_A: "LITERAL_A (literal tags need a string table, not used by ActiveSync)",
    LITERAL_C: "LITERAL_C (literal tags need a string table, not used by ActiveSync)",
    LITERAL_AC: "LITERAL_AC (literal tags need a string table, not used by ActiveSync)",
    STR_T: "STR_T (string table references are not used by ActiveSync, [MS-ASWBXML] 2.1.3)",
    PI: "PI (processing instructions are not used by ActiveSync, [MS-ASWBXML] 2.1.3)",
    EXT_I_0: "EXT_I_0 (extension tokens are not used by ActiveSync)",
    EXT_I_1: "EXT_I_1 (extension tokens are not used by ActiveSync)",
    EXT_I_2: "EXT_I_2 (extension tokens are not used by ActiveSync)",
    EXT_T_0: "EXT_T_0 (extension tokens are not used by ActiveSync)",
    EXT_T_1: "EXT_T_1 (extension tokens are not used by ActiveSync)",
    EXT_T_2: "EXT_T_2 (extension tokens are not used by ActiveSync)",
    EXT_0: "EXT_0 (extension tokens are not used by ActiveSync)",
    EXT_1: "EXT_1 (extension tokens are not used by ActiveSync)",
    EXT_2: "EXT_2 (extension tokens are not used by ActiveSync)",
}

#: Attribute names reserved by to_xml/from_xml (see module docstring).
OPAQUE_ATTR = "opaque"
OPAQUE_ATTR_VALUE = "base64"
EMPTY_STR_ATTR = "str"
EMPTY_STR_ATTR_VALUE = "empty"


class WBXMLError(ValueError):
    """Malformed or unsupported WBXML, or a node that cannot be encoded."""

    def __init__(self, message, offset=None):
        self.offset = offset
        if offset is not None:
            message = "%s (at byte offset %d)" % (message, offset)
        super().__init__(message)


# --------------------------------------------------------------------------
# Node model
# --------------------------------------------------------------------------

class Node:
    """One ActiveSync XML element."""

    __slots__ = ("ns", "name", "children", "text", "opaque")
    __hash__ = None

    def __init__(self, ns, name, children=None, text=None, opaque=None):
        self.ns = _cp.canonical_namespace(ns)
        self.name = name
        self.children = list(children) if children is not None else []
        if isinstance(opaque, (bytearray, memoryview)):
            opaque = bytes(opaque)
        if text is not None and not isinstance(text, str):
            raise TypeError("Node text must be str, got %r" % type(text).__name__)
        if opaque is not None and not isinstance(opaque, bytes):
            raise TypeError("Node opaque must be bytes, got %r" % type(opaque).__name__)
        kinds = sum((bool(self.children), text is not None, opaque is not None))
        if kinds > 1:
            raise ValueError("Node %s%s: content is either children, text or opaque, "
                             "not several" % (self.ns, name))
        for child in self.children:
            if not isinstance(child, Node):
                raise TypeError("Node children must be Node, got %r" % type(child).__name__)
        self.text = text
        self.opaque = opaque

    # -- convenience ------------------------------------------------------
    @property
    def page(self):
        """The CodePage of this node's namespace (None when unknown)."""
        return _cp.page_for_namespace(self.ns)

    @property
    def qname(self):
        page = self.page
        return "%s:%s" % (page.name if page else self.ns, self.name)

    def append(self, child):
        if self.text is not None or self.opaque is not None:
            raise ValueError("cannot add a child to a node with text or opaque content")
        if not isinstance(child, Node):
            raise TypeError("child must be a Node")
        self.children.append(child)
        return child

    def is_empty(self):
        return not self.children and self.text is None and self.opaque is None

    def __iter__(self):
        return iter(self.children)

    def __len__(self):
        return len(self.children)

    # -- path lookups -------------------------------------------------------
    def iterfind(self, path):
        """Yield the nodes matching a simple slash path.

        Each step is ``Name``, ``Page:Name`` or ``*``.  An unqualified name
        matches that tag name in any namespace; ``Page`` is a page name or a
        namespace alias, case-insensitive ("AirSyncBase", "airsyncbase",
        "POOMMAIL").  A leading "./" is allowed.  Paths are relative to this
        node (its children are the first step)."""
        steps = _parse_path(path)
        current = [self]
        for ns, name in steps:
            nxt = []
            for node in current:
                for child in node.children:
                    if (name == "*" or child.name == name) and (ns is None or child.ns == ns):
                        nxt.append(child)
            current = nxt
            if not current:
                break
        return iter(current)

    def findall(self, path):
        return list(self.iterfind(path))

    def find(self, path):
        for node in self.iterfind(path):
            return node
        return None

    def findtext(self, path, default=None):
        """Text of the first match; "" when it has no text; ``default`` when
        nothing matches.  (Opaque content: use ``find(path).opaque``.)"""
        node = self.find(path)
        if node is None:
            return default
        return node.text if node.text is not None else ""

    # -- comparisons / display ----------------------------------------------
    def __eq__(self, other):
        if not isinstance(other, Node):
            return NotImplemented
        # iterative, so that deep trees do not hit the recursion limit
        pending = [(self, other)]
        while pending:
            a, b = pending.pop()
            if (a.ns != b.ns or a.name != b.name or a.text != b.text
                    or a.opaque != b.opaque or len(a.children) != len(b.children)):
                return False
            pending.extend(zip(a.children, b.children))
        return True

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __repr__(self):
        if self.opaque is not None:
            body = " opaque=%r" % (self.opaque,)
        elif self.text is not None:
            body = " text=%r" % (self.text,)
        elif self.children:
            body = " [%s]" % ", ".join(repr(c) for c in self.children)
        else:
            body = ""
        return "<Node %s%s>" % (self.qname, body)

    def to_xml(self, **kw):
        return to_xml(self, **kw)


def _parse_path(path):
    if not isinstance(path, str) or not path:
        raise ValueError("path must be a non-empty string")
    if path.startswith("./"):
        path = path[2:]
    steps = []
    for step in path.split("/"):
        if not step:
            raise ValueError("empty step in path %r" % path)
        if ":" in step:
            prefix, name = step.rsplit(":", 1)
            page = _cp.page_for_namespace(prefix, case_insensitive=True)
            if page is None:
                page = _cp.page_for_namespace(prefix + ":", case_insensitive=True)
            if page is None:
                raise ValueError("unknown namespace prefix %r in path %r" % (prefix, path))
            steps.append((page.namespace, name))
        else:
            steps.append((None, step))
    return steps


# --------------------------------------------------------------------------
# mb_u_int32
# --------------------------------------------------------------------------

def encode_mb_u_int32(value):
    """WBXML multi-byte unsigned integer (big-endian base 128)."""
    if not isinstance(value, int) or value < 0 or value > 0xFFFFFFFF:
        raise WBXMLError("mb_u_int32 value out of range: %r" % (value,))
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def decode_mb_u_int32(data, pos, what="mb_u_int32"):
    """Decode an mb_u_int32 at ``pos``; return (value, new position).

    Rejects: running past the end of the data, more than 5 bytes, values
    above 32 bits, and non-minimal encodings (a leading 0x80 byte)."""
    start = pos
    value = 0
    if what != "mb_u_int32":
        what = "%s (mb_u_int32)" % what
    for i in range(5):
        if pos >= len(data):
            raise WBXMLError("truncated %s" % what, start)
        byte = data[pos]
        pos += 1
        if i == 0 and byte == 0x80:
            raise WBXMLError("bad %s: non-minimal encoding (leading 0x80)" % what, start)
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            if value > 0xFFFFFFFF:
                raise WBXMLError("bad %s: value exceeds 32 bits" % what, start)
            return value, pos
    raise WBXMLError("bad %s: longer than 5 bytes" % what, start)


# --------------------------------------------------------------------------
# encoder
# --------------------------------------------------------------------------

def encode(node):
    """Encode a Node tree as ActiveSync WBXML 1.3 bytes.

    SWITCH_PAGE is written only when the code page changes (the page stays
    selected across END, as in [MS-ASWBXML] section 3).  Raises WBXMLError
    for unknown namespaces/tags, or text that cannot be an inline string."""
    if not isinstance(node, Node):
        raise TypeError("encode() needs a Node, got %r" % type(node).__name__)
    out = bytearray((WBXML_VERSION, PUBLIC_ID_UNKNOWN, CHARSET_UTF8, 0x00))
    page = 0
    # Iterative walk: stack of (node, entered?)
    stack = [(node, False)]
    while stack:
        cur, entered = stack.pop()
        if entered:
            out.append(END)
            continue
        loc = _cp.lookup_tag(cur.ns, cur.name)
        if loc is None:
            if _cp.page_for_namespace(cur.ns) is None:
                raise WBXMLError("cannot encode %s: unknown namespace %r" % (cur.name, cur.ns))
            raise WBXMLError("cannot encode unknown tag %r in code page %s"
                             % (cur.name, cur.ns))
        tag_page, token = loc
        if tag_page != page:
            out += bytes((SWITCH_PAGE, tag_page))
            page = tag_page
        if cur.is_empty():
            out.append(token)
            continue
        out.append(token | TAG_CONTENT)
        if cur.opaque is not None:
            out.append(OPAQUE)
            out += encode_mb_u_int32(len(cur.opaque))
            out += cur.opaque
            out.append(END)
        elif cur.text is not None:
            try:
                raw = cur.text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise WBXMLError("cannot encode text of %s as UTF-8: %s" % (cur.qname, exc))
            if b"\x00" in raw:
                raise WBXMLError("text of %s contains NUL, which an inline string "
                                 "(STR_I) cannot hold; use opaque data" % cur.qname)
            out.append(STR_I)
            out += raw
            out.append(0x00)
            out.append(END)
        else:
            stack.append((cur, True))
            for child in reversed(cur.children):
                stack.append((child, False))
    return bytes(out)


# --------------------------------------------------------------------------
# decoder
# --------------------------------------------------------------------------

def _token_name(byte):
    for name, value in _cp.GLOBAL_TOKENS.items():
        if value == byte:
            return name
    return None


def decode(data):
    """Decode ActiveSync WBXML into a Node tree (strict).

    Raises WBXMLError, with the byte offset, for: a short or unexpected
    header, a public identifier other than 0x01, a charset other than UTF-8,
    a non-empty string table, truncation anywhere, bad mb_u_int32 values,
    unknown code pages or tokens, tags with attributes, tokens ActiveSync does
    not use (STR_T, LITERAL*, ENTITY, PI, EXT_*), invalid UTF-8, mixed content,
    END without an open element, and data after the root element."""
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise TypeError("decode() needs bytes, got %r" % type(data).__name__)
    n = len(data)
    if n == 0:
        raise WBXMLError("empty input: no WBXML header", 0)
    version = data[0]
    if version != WBXML_VERSION:
        raise WBXMLError("unsupported WBXML version byte 0x%02X (expected 0x03, WBXML 1.3)"
                         % version, 0)
    pos = 1
    public_id, pos_after = decode_mb_u_int32(data, pos, "public identifier")
    if public_id == 0:
        raise WBXMLError("public identifier given as a string table reference "
                         "(string tables are not used by ActiveSync)", pos)
    if public_id != PUBLIC_ID_UNKNOWN:
        raise WBXMLError("unexpected public identifier 0x%X (expected 0x01, unknown)"
                         % public_id, pos)
    pos = pos_after
    charset, pos_after = decode_mb_u_int32(data, pos, "charset")
    if charset != CHARSET_UTF8:
        raise WBXMLError("unsupported charset MIBenum %d (expected 106, UTF-8)" % charset, pos)
    pos = pos_after
    strtbl_len, pos_after = decode_mb_u_int32(data, pos, "string table length")
    if strtbl_len != 0:
        raise WBXMLError("string table of %d bytes present (string tables are not used "
                         "by ActiveSync, [MS-ASWBXML] 2.1.3)" % strtbl_len, pos)
    pos = pos_after

    page = 0
    root = None
    # stack entries: [node, text_parts(list of str) or None, opaque_parts or None, start offset]
    stack = []
    switched_at = None   # offset of a SWITCH_PAGE not yet followed by a tag

    while True:
        if pos >= n:
            if stack:
                raise WBXMLError("truncated input: %d element(s) not closed, innermost %s"
                                 % (len(stack), stack[-1][0].qname), pos)
            if switched_at is not None:
                raise WBXMLError("truncated input after SWITCH_PAGE", switched_at)
            if root is None:
                raise WBXMLError("no root element", pos)
            break
        if root is not None and not stack:
            raise WBXMLError("trailing data after the root element", pos)
        tok = data[pos]
        tok_pos = pos
        pos += 1

        if tok == SWITCH_PAGE:
            if switched_at is not None:
                raise WBXMLError("SWITCH_PAGE followed by another SWITCH_PAGE", tok_pos)
            if pos >= n:
                raise WBXMLError("truncated SWITCH_PAGE: missing page number", tok_pos)
            new_page = data[pos]
            pos += 1
            if new_page not in _cp.CODEPAGES:
                raise WBXMLError("SWITCH_PAGE to unknown code page %d" % new_page, tok_pos)
            page = new_page
            switched_at = tok_pos
            continue

        if switched_at is not None and (tok & TAG_MASK) < 5:
            raise WBXMLError("SWITCH_PAGE must be followed by a tag, got %s"
                             % (_token_name(tok) or "0x%02X" % tok), tok_pos)

        if tok == END:
            if not stack:
                raise WBXMLError("END without an open element", tok_pos)
            node, texts, opaques, _start = stack.pop()
            _finish(node, texts, opaques, tok_pos)
            continue

        if tok == STR_I:
            if not stack:
                raise WBXMLError("inline string outside of any element", tok_pos)
            end = data.find(b"\x00", pos)
            if end < 0:
                raise WBXMLError("truncated inline string (no terminating NUL)", tok_pos)
            try:
                text = data[pos:end].decode("utf-8")
            except UnicodeDecodeError as exc:
                raise WBXMLError("inline string is not valid UTF-8: %s" % exc, pos)
            pos = end + 1
            entry = stack[-1]
            if entry[0].children:
                raise WBXMLError("mixed content: text after child elements in %s"
                                 % entry[0].qname, tok_pos)
            if entry[2] is not None:
                raise WBXMLError("mixed content: text and opaque data in %s"
                                 % entry[0].qname, tok_pos)
            if entry[1] is None:
                entry[1] = []
            entry[1].append(text)
            continue

        if tok == OPAQUE:
            if not stack:
                raise WBXMLError("opaque data outside of any element", tok_pos)
            length, pos = decode_mb_u_int32(data, pos, "opaque length")
            if pos + length > n:
                raise WBXMLError("truncated opaque data: %d bytes announced, %d available"
                                 % (length, n - pos), tok_pos)
            blob = data[pos:pos + length]
            pos += length
            entry = stack[-1]
            if entry[0].children:
                raise WBXMLError("mixed content: opaque data after child elements in %s"
                                 % entry[0].qname, tok_pos)
            if entry[1] is not None:
                raise WBXMLError("mixed content: text and opaque data in %s"
                                 % entry[0].qname, tok_pos)
            if entry[2] is None:
                entry[2] = []
            entry[2].append(blob)
            continue

        if tok in _UNSUPPORTED:
            raise WBXMLError("unsupported global token 0x%02X %s" % (tok, _UNSUPPORTED[tok]),
                             tok_pos)

        # A tag token.
        switched_at = None
        if tok & TAG_ATTRIBUTES:
            raise WBXMLError("tag token 0x%02X has the attribute bit set "
                             "(attributes are not used by ActiveSync)" % tok, tok_pos)
        ident = tok & TAG_MASK
        found = _cp.lookup_token(page, ident)
        if found is None:
            cp = _cp.CODEPAGES[page]
            raise WBXMLError("unknown tag token 0x%02X in code page %d (%s)"
                             % (ident, page, cp.name), tok_pos)
        ns, name = found
        node = Node(ns, name)
        if stack:
            parent = stack[-1]
            if parent[1] is not None or parent[2] is not None:
                raise WBXMLError("mixed content: element %s after text/opaque in %s"
                                 % (node.qname, parent[0].qname), tok_pos)
            parent[0].children.append(node)
        elif root is None:
            root = node
        else:  # pragma: no cover - caught by the trailing-data check above
            raise WBXMLError("second root element", tok_pos)
        if tok & TAG_CONTENT:
            stack.append([node, None, None, tok_pos])
    return root


def _finish(node, texts, opaques, offset):
    if texts is not None:
        node.text = "".join(texts)
    elif opaques is not None:
        node.opaque = b"".join(opaques)


def dump_tokens(data):
    """Human-readable token listing of WBXML bytes (for test failure messages).

    Best effort: stops with an "ERROR" line at the first problem."""
    lines = []
    try:
        lines.append("header %s" % data[:4].hex(" "))
        pos, page = 4, 0
        while pos < len(data):
            tok = data[pos]
            if tok == SWITCH_PAGE:
                page = data[pos + 1]
                lines.append("%5d SWITCH_PAGE %d" % (pos, page))
                pos += 2
            elif tok == END:
                lines.append("%5d END" % pos)
                pos += 1
            elif tok == STR_I:
                end = data.index(b"\x00", pos + 1)
                lines.append("%5d STR_I %r" % (pos, data[pos + 1:end].decode("utf-8", "replace")))
                pos = end + 1
            elif tok == OPAQUE:
                length, p2 = decode_mb_u_int32(data, pos + 1)
                lines.append("%5d OPAQUE %d bytes" % (pos, length))
                pos = p2 + length
            else:
                found = _cp.lookup_token(page, tok & TAG_MASK)
                name = "%s%s" % found if found else "?"
                lines.append("%5d 0x%02X %s%s" % (pos, tok, name,
                                                 " (content)" if tok & TAG_CONTENT else ""))
                pos += 1
    except Exception as exc:  # noqa: BLE001 - diagnostic helper
        lines.append("ERROR %s" % exc)
    return "\n".join(lines)


# --------------------------------------------------------------------------
# XML
# --------------------------------------------------------------------------

def _prefix_for(ns):
    page = _cp.page_for_namespace(ns)
    base = (page.name if page else "ns").lower()
    return base


def _xml_text(text):
    for ch in text:
        code = ord(ch)
        if (code < 0x20 and ch not in "\t\n\r") or code in (0xFFFE, 0xFFFF) \
                or 0xD800 <= code <= 0xDFFF:
            raise ValueError("text contains U+%04X, which XML 1.0 cannot represent" % code)
    return _xml_escape(text, {"\r": "&#13;"})


def to_xml(node, indent=None, xml_declaration=False):
    """Serialise a Node tree as XML text.

    The root's namespace is the default namespace; every other namespace in
    the tree is declared on the root with the lower-case page name as prefix
    (``xmlns:airsyncbase="AirSyncBase:"``).  ``indent`` (e.g. "  ") pretty
    prints; leaf text is never re-indented."""
    if not isinstance(node, Node):
        raise TypeError("to_xml() needs a Node")
    namespaces = []
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.ns not in namespaces:
            namespaces.append(cur.ns)
        stack.extend(reversed(cur.children))
    prefixes = {node.ns: None}
    used = set()
    for ns in namespaces:
        if ns in prefixes:
            continue
        prefix = _prefix_for(ns)
        base, i = prefix, 2
        while prefix in used:
            prefix = "%s%d" % (base, i)
            i += 1
        used.add(prefix)
        prefixes[ns] = prefix

    parts = []
    if xml_declaration:
        parts.append('<?xml version="1.0" encoding="utf-8"?>')
        if indent is not None:
            parts.append("\n")

    def qname(n):
        p = prefixes[n.ns]
        return n.name if p is None else "%s:%s" % (p, n.name)

    def write(n, depth, is_root):
        pad = (indent * depth) if indent is not None else ""
        attrs = ""
        if is_root:
            attrs += " xmlns=%s" % _quoteattr(n.ns)
            for ns in namespaces:
                if prefixes[ns] is not None:
                    attrs += " xmlns:%s=%s" % (prefixes[ns], _quoteattr(ns))
        name = qname(n)
        if n.opaque is not None:
            attrs += ' %s="%s"' % (OPAQUE_ATTR, OPAQUE_ATTR_VALUE)
            b64 = base64.b64encode(n.opaque).decode("ascii")
            parts.append("%s<%s%s>%s</%s>" % (pad, name, attrs, b64, name))
        elif n.text is not None:
            if n.text == "":
                attrs += ' %s="%s"' % (EMPTY_STR_ATTR, EMPTY_STR_ATTR_VALUE)
                parts.append("%s<%s%s/>" % (pad, name, attrs))
            else:
                parts.append("%s<%s%s>%s</%s>" % (pad, name, attrs, _xml_text(n.text), name))
        elif n.children:
            parts.append("%s<%s%s>" % (pad, name, attrs))
            if indent is not None:
                parts.append("\n")
            for child in n.children:
                write(child, depth + 1, False)
            parts.append("%s</%s>" % (pad, name))
        else:
            parts.append("%s<%s%s/>" % (pad, name, attrs))
        if indent is not None:
            parts.append("\n")

    write(node, 0, True)
    return "".join(parts)


def from_xml(source, strict=True):
    """Parse XML text (str or bytes) into a Node tree.

    Namespaces may be written in any form accepted by codepages
    (``AirSync:``, ``AirSync``, ``POOMMAIL:``...); nodes get the canonical
    form.  With ``strict`` (default) unknown namespaces and tags raise
    WBXMLError; with ``strict=False`` they are kept (``encode`` will then
    refuse them)."""
    try:
        root = ET.fromstring(source)
    except ET.ParseError as exc:
        raise WBXMLError("XML parse error: %s" % exc)
    return _from_element(root, strict)


def _from_element(elem, strict):
    tag = elem.tag
    if not isinstance(tag, str):
        raise WBXMLError("unsupported XML node %r (comments/PIs are not allowed)" % (tag,))
    if not tag.startswith("{"):
        raise WBXMLError("element <%s> has no namespace" % tag)
    uri, name = tag[1:].split("}", 1)
    page = _cp.page_for_namespace(uri)
    if page is None:
        if strict:
            raise WBXMLError("element <%s>: unknown namespace %r" % (name, uri))
        ns = uri
    else:
        ns = page.namespace
        if strict and name not in page.tokens:
            raise WBXMLError("unknown tag %r in code page %d (%s)" % (name, page.number, page.name))

    attrs = dict(elem.attrib)
    is_opaque = attrs.pop(OPAQUE_ATTR, None)
    empty_str = attrs.pop(EMPTY_STR_ATTR, None)
    if attrs:
        raise WBXMLError("element <%s> has unsupported attributes %s" % (name, sorted(attrs)))
    if is_opaque is not None and is_opaque != OPAQUE_ATTR_VALUE:
        raise WBXMLError('element <%s>: %s attribute must be "%s"'
                         % (name, OPAQUE_ATTR, OPAQUE_ATTR_VALUE))
    if empty_str is not None and empty_str != EMPTY_STR_ATTR_VALUE:
        raise WBXMLError('element <%s>: %s attribute must be "%s"'
                         % (name, EMPTY_STR_ATTR, EMPTY_STR_ATTR_VALUE))

    children = [_from_element(c, strict) for c in elem]
    text = elem.text
    for child_elem in elem:
        if child_elem.tail is not None and child_elem.tail.strip():
            raise WBXMLError("mixed content: text %r after <%s> in <%s>"
                             % (child_elem.tail.strip()[:20], child_elem.tag, name))
    if children:
        if text is not None and text.strip():
            raise WBXMLError("mixed content: text %r and child elements in <%s>"
                             % (text.strip()[:20], name))
        if is_opaque is not None or empty_str is not None:
            raise WBXMLError("element <%s> with a content marker must not have children" % name)
        return Node(ns, name, children=children)
    if is_opaque is not None:
        if empty_str is not None:
            raise WBXMLError("element <%s>: opaque and str markers together" % name)
        b64 = "".join((text or "").split())
        try:
            blob = base64.b64decode(b64.encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
            raise WBXMLError("element <%s>: bad base64 opaque data: %s" % (name, exc))
        return Node(ns, name, opaque=blob)
    if empty_str is not None:
        if text:
            raise WBXMLError('element <%s> marked str="empty" has text' % name)
        return Node(ns, name, text="")
    if text is None or text == "":
        return Node(ns, name)
    return Node(ns, name, text=text)


def to_etree(node):
    """Return an xml.etree Element tree with "{namespace}Name" tags.

    Opaque content becomes its base64 text (no marker attribute), so the
    tree can be compared with other decoders' output."""
    if not isinstance(node, Node):
        raise TypeError("to_etree() needs a Node")

    def build(n):
        elem = ET.Element("{%s}%s" % (n.ns, n.name))
        if n.opaque is not None:
            elem.text = base64.b64encode(n.opaque).decode("ascii")
        elif n.text is not None:
            elem.text = n.text
        for child in n.children:
            elem.append(build(child))
        return elem

    return build(node)
