"""Cross-checks of the C codec against implementations we did not share code with: the test
client's independent Python codec (its own transcription of MS-ASWBXML) and Debian's libwbxml
(wbxml2xml, language ACTIVESYNC)."""

import os
import random
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

import zxinstance
from easclient import CODEPAGES, Node, decode, encode, from_xml, to_etree, canonical_namespace

BUILD = os.environ.get("ZX_BUILDDIR") or zxinstance.DEFAULT_BUILD_DIR
ZXWBXML = os.path.join(BUILD, "t", "tools", "zxwbxml")
FIXTURES = os.path.join(zxinstance.SRC_DIR, "t", "fixtures", "wbxml")


def zxwbxml(*args, data=None):
    p = subprocess.run([ZXWBXML] + list(args), input=data, capture_output=True)
    return p


def test_c_and_python_tables_agree():
    out = zxwbxml("tables").stdout.decode().split("\n")
    c = set()
    for line in filter(None, out):
        page, pname, ns, tok, name = line.split()
        c.add((int(page), int(tok, 16), name))
    py = {(p.number, tok, name) for p in CODEPAGES.values() for tok, name in p.tags.items()}
    assert len(c) == 625
    assert c == py, ("only in C: %s; only in Python: %s" % (sorted(c - py), sorted(py - c)))


def _random_doc(rnd, depth=0):
    """A random document over every code page (tags need not be schema-valid)."""
    pages = [p for p in CODEPAGES.values() if p.tags]
    page = rnd.choice(pages)
    tok = rnd.choice(sorted(page.tags))
    node = Node(page.namespace, page.tags[tok])
    kind = rnd.random()
    if depth < 6 and kind < 0.45:
        for _ in range(rnd.randint(1, 4)):
            node.append(_random_doc(rnd, depth + 1))
    elif kind < 0.8:
        node.text = "".join(rnd.choice("abcxyz 0123<>&\u00e9\u4e2d") for _ in range(rnd.randint(1, 30)))
    elif kind < 0.9:
        node.opaque = bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 300)))
    return node


def test_random_documents_same_bytes_both_ways():
    rnd = random.Random(7)
    for i in range(300):
        doc = _random_doc(rnd)
        data = encode(doc)
        # C decodes what Python encoded, and its XML parses back (Python) to the same tree
        p = zxwbxml("decode", data=data)
        assert p.returncode == 0, (i, p.stderr)
        # C re-encodes its own XML to exactly the bytes Python produced
        again = zxwbxml("encode", data=p.stdout)
        assert again.returncode == 0, again.stderr
        assert again.stdout == data, i
        assert decode(again.stdout) == doc


# Tags libwbxml 0.11.8 spells differently from MS-ASWBXML (same page and token): (page,
# libwbxml name) -> spec name.  Our C and Python tables, transcribed independently, both
# follow the spec (Settings 0x1F is SMTPAddress).
LIBWBXML_SPELLINGS = {
    ("Settings:", "SmtpAddress"): "SMTPAddress",
}


def _normalize(elem):
    """(page, name, text, children) with namespaces mapped to page numbers."""
    m = re.match(r"\{(.*)\}(.*)", elem.tag)
    ns, name = (m.group(1), m.group(2)) if m else ("", elem.tag)
    page = canonical_namespace(ns)
    name = LIBWBXML_SPELLINGS.get((page, name), name)
    kids = [_normalize(c) for c in elem]
    text = (elem.text or "").strip() if not kids else ""
    return (page, name, text, kids)


def _libwbxml(data, tmp_path):
    src, dst = tmp_path / "in.wbxml", tmp_path / "out.xml"
    src.write_bytes(data)
    p = subprocess.run(["wbxml2xml", "-l", "ACTIVESYNC", "-m", "0", "-o", str(dst), str(src)],
                       capture_output=True, text=True)
    if p.returncode != 0 or not dst.exists():
        return None
    xml = dst.read_text()
    xml = re.sub(r"<!DOCTYPE[^>]*>", "", xml)
    return ET.fromstring(xml)


@pytest.mark.skipif(shutil.which("wbxml2xml") is None, reason="libwbxml2-utils not installed")
def test_published_example_matches_libwbxml(tmp_path):
    hexfile = os.path.join(FIXTURES, "aswbxml-sync-add-contact.hex")
    data = bytes.fromhex(" ".join(l for l in open(hexfile) if not l.startswith("#")))
    ours = to_etree(decode(data))
    theirs = _libwbxml(data, tmp_path)
    assert theirs is not None
    assert _normalize(theirs) == _normalize(ours)
    c = zxwbxml("--hex", "decode", hexfile)
    assert c.returncode == 0
    assert decode(zxwbxml("encode", data=c.stdout).stdout) == decode(data)


@pytest.mark.skipif(shutil.which("wbxml2xml") is None, reason="libwbxml2-utils not installed")
def test_server_responses_decode_the_same_in_libwbxml(client_factory, tmp_path):
    """Every kind of WBXML answer the server gives, decoded by libwbxml, equals our reading."""
    bodies = []
    for version in ("14.0", "14.1", "16.1"):
        c = client_factory(protocol=version)
        for cmd, xml in [
            ("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>'),
            ("Sync", None),
            ("Ping", '<Ping xmlns="Ping:"><HeartbeatInterval>60</HeartbeatInterval></Ping>'),
            ("Provision", '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>'),
            ("Settings", '<Settings xmlns="Settings:"><UserInformation><Get/></UserInformation></Settings>'),
            ("ItemOperations", '<ItemOperations xmlns="ItemOperations:"><EmptyFolderContents><CollectionId xmlns="AirSync:">1</CollectionId></EmptyFolderContents></ItemOperations>'),
            ("GetItemEstimate", '<GetItemEstimate xmlns="GetItemEstimate:"><Collections><Collection><CollectionId>1</CollectionId></Collection></Collections></GetItemEstimate>'),
            ("MoveItems", '<MoveItems xmlns="Move:"><Move><SrcMsgId>1</SrcMsgId><SrcFldId>1</SrcFldId><DstFldId>2</DstFldId></Move></MoveItems>'),
            ("FolderCreate", None), ("Search", None), ("SendMail", None),
        ]:
            r = c.post(cmd, xml)
            assert r.status == 200 and r.body, (cmd, r)
            bodies.append(r.body)
    checked = 0
    for body in bodies:
        theirs = _libwbxml(body, tmp_path)
        if theirs is None:
            continue   # a token libwbxml does not know
        assert _normalize(theirs) == _normalize(to_etree(decode(body)))
        checked += 1
    assert checked >= len(bodies) // 2
