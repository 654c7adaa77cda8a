"""EAS filters (spec 9): `zxsuite mobile doAddEASFilter / getAllEASFilters / doDeleteEASFilter /
doMoveEASFilter`, each filter type and mode as the client sees it (MS-ASProtocolVersions of
OPTIONS, and a request with a version outside its set refused with 400 and the header,
[MS-ASHTTP] 3.2.5.1.1), blocking, order, move, delete and the built-in Outlook filter.

The filters are global: every test matches only its own User-Agent tag or its own fresh account,
and the `filters` fixture deletes what a test added and puts the list (and
ZxMobile_MaxOutlookVersion) back as it was."""

import json
import time
import uuid

import pytest

from easclient import EASClient
from mailtools import PASSWORD, new_account

ALL = "2.5,12.0,12.1,14.0,14.1,16.0,16.1"
FOLDERSYNC0 = '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>'
REFRESH = 8.0        # the filters are re-read every 2 s per child; allow for load


def zx(instance, *args, check=True):
    return instance.zxsuite_run(*args, check=check)


def listing(instance):
    p = zx(instance, "--json", "mobile", "getAllEASFilters")
    return json.loads(p.stdout)["response"]["filters"]


@pytest.fixture
def filters(instance):
    """A unique tag for User-Agents and parameters; afterwards every filter the test added is
    deleted, the built-in filter goes back to its place and ZxMobile_MaxOutlookVersion to its
    value."""
    before = listing(instance)
    outlook_at = [f["ID"] for f in before if f["builtin"] == "outlook"]
    maxv = json.loads(zx(instance, "--json", "config", "get", "global",
                         "ZxMobile_MaxOutlookVersion").stdout)["response"]
    was_set, old_value = not maxv["isInherited"], maxv["value"]
    tag = "zxf" + uuid.uuid4().hex[:10]
    yield tag
    def key(f):
        return (f["type"], f["parameter"], f["mode"], f["easversions"], f["blocking"])
    keep = [key(f) for f in before]
    for f in reversed(listing(instance)):
        if key(f) in keep:
            keep.remove(key(f))
        elif f["builtin"] != "outlook":
            zx(instance, "mobile", "doDeleteEASFilter", str(f["ID"]))
    now = listing(instance)
    cur = [f["ID"] for f in now if f["builtin"] == "outlook"]
    if outlook_at and cur and cur[0] != outlook_at[0]:
        zx(instance, "mobile", "doMoveEASFilter", str(cur[0]), str(outlook_at[0]))
    if was_set:
        zx(instance, "config", "set", "global", "ZxMobile_MaxOutlookVersion", old_value)
    else:
        zx(instance, "config", "unset", "global", "ZxMobile_MaxOutlookVersion")
    assert [(f["type"], f["parameter"], f["mode"], f["easversions"], f["blocking"])
            for f in listing(instance)] == \
        [(f["type"], f["parameter"], f["mode"], f["easversions"], f["blocking"]) for f in before]


def add(instance, *args):
    p = zx(instance, "--json", "mobile", "doAddEASFilter", *args)
    return json.loads(p.stdout)["response"]["ID"]


def client(instance, account=None, ua="zxmobile-e2e", protocol="14.1"):
    return EASClient(instance.url, account or "demo@zxmobile.test",
                     PASSWORD if account else "demo-Passw0rd",
                     "ef" + uuid.uuid4().hex[:12], "TestPhone", protocol=protocol,
                     user_agent=ua)


def offered(c):
    status, headers = c.options()
    assert status == 200
    return headers["MS-ASProtocolVersions"]


def wait_offered(c, expected, timeout=REFRESH):
    """The children pick a change up within a few seconds: poll OPTIONS until it shows."""
    end = time.time() + timeout
    got = offered(c)
    while got != expected and time.time() < end:
        time.sleep(0.25)
        got = offered(c)
    assert got == expected
    return got


def check_enforced(c, versions):
    """A version of the set is accepted, one outside it gets 400 with the client's set."""
    inside = versions.split(",")[-1]
    outside = [v for v in ALL.split(",") if v not in versions.split(",")]
    r = c.post("FolderSync", FOLDERSYNC0, protocol=inside)
    assert r.status == 200, (inside, r)
    if outside:
        r = c.post("FolderSync", FOLDERSYNC0, protocol=outside[0])
        assert r.status == 400
        assert r.headers["MS-ASProtocolVersions"] == versions
        assert "FolderSync" in r.headers["MS-ASProtocolCommands"]


# ---- the CLI -----------------------------------------------------------------------------------

def test_builtin_outlook_filter_listed_as_documented(instance, filters):
    out = zx(instance, "mobile", "getAllEASFilters").stdout
    lines = out.splitlines()
    assert lines[0] == "filters"
    f = [x for x in listing(instance) if x["builtin"] == "outlook"][0]
    i = lines.index("        ID            %d" % f["ID"])
    assert lines[i:i + 5] == [
        "        ID            %d" % f["ID"],
        "        mode          fixed",
        "        rule          [type = or; rules = [[type = contains; rule = outlook/] OR "
        "[type = contains; rule = microsoft.outlook]]",
        "        easversions   14.0",
        "        blocking      true",
    ]


def test_add_list_format_and_json(instance, filters):
    n = len(listing(instance))
    fid = add(instance, "contains", filters + "samsung", "limit", "2.5")
    assert fid == n
    fid2 = add(instance, "and", "account=user@%s.test,contains=%sandroid" % (filters, filters),
               "fixed", "14.1", "blocking", "true")
    assert fid2 == n + 1
    out = zx(instance, "mobile", "getAllEASFilters").stdout
    assert out.endswith(
        "\n"
        "        ID            %d\n"
        "        mode          limit\n"
        "        rule          [type = contains; rule = %ssamsung]\n"
        "        easversions   2.5\n"
        "        blocking      false\n"
        "\n"
        "        ID            %d\n"
        "        mode          fixed\n"
        "        rule          [type = and; rules = [[type = account; rule = user@%s.test] AND "
        "[type = contains; rule = %sandroid]]\n"
        "        easversions   14.1\n"
        "        blocking      true\n" % (fid, filters, fid2, filters, filters)), out
    js = listing(instance)[fid2]
    assert js == {"ID": fid2, "mode": "fixed", "easversions": "14.1", "blocking": True,
                  "type": "and", "builtin": None,
                  "parameter": "account=user@%s.test,contains=%sandroid" % (filters, filters),
                  "rule": "[type = and; rules = [[type = account; rule = user@%s.test] AND "
                          "[type = contains; rule = %sandroid]]" % (filters, filters)}
    # versions are stored normalised, in order
    fid3 = add(instance, "regex", filters + "[0-9]{1,3}", "add", "16.1, 2.5")
    assert listing(instance)[fid3]["easversions"] == "2.5,16.1"


@pytest.mark.parametrize("args,message", [
    (["brand", "x", "fixed", "14.1"], 'unknown filter type "brand"'),
    (["contains", "x", "replace", "14.1"], 'unknown filter mode "replace"'),
    (["contains", "x", "fixed", "14.2"], 'unknown EAS version "14.2"'),
    (["contains", "x", "fixed", ""], "no EAS versions given"),
    (["regex", "(", "fixed", "14.1"], "invalid regular expression"),
    # back-references make matching exponential (7.9 s per request for a 75-byte User-Agent)
    (["regex", "(a*)(a*)(a*)\\3\\2\\1b", "fixed", "14.1"], "back-references"),
    (["or", "contains=x,regex=(y)\\1", "fixed", "14.1"], "back-references"),
    (["and", "account=a@b.c,brand=x", "fixed", "14.1"], "is not an account"),
    (["or", "foo=bar", "fixed", "14.1"], "is not type=value"),
    (["contains", "x", "fixed", "14.1", "blocking", "maybe"], 'invalid value "maybe" for blocking'),
    (["contains", "x", "fixed", "14.1", "blocker", "true"], 'unknown parameter "blocker"'),
    (["contains", "x", "fixed"], "requires more parameters"),
])
def test_add_errors(instance, filters, args, message):
    before = listing(instance)
    p = zx(instance, "mobile", "doAddEASFilter", *args, check=False)
    assert p.returncode != 0
    assert message in p.stderr, p.stderr
    p = zx(instance, "--json", "mobile", "doAddEASFilter", *args, check=False)
    assert p.returncode != 0
    if "requires more" not in message:
        out = json.loads(p.stdout)
        assert out["ok"] is False and message in out["error"]
    assert listing(instance) == before


def test_delete_and_move_errors(instance, filters):
    n = len(listing(instance))
    for args, message in [
        (["doDeleteEASFilter", str(n)], "no EAS filter with ID %d" % n),
        (["doDeleteEASFilter", "-1"], 'invalid ID "-1"'),
        (["doDeleteEASFilter", "one"], 'invalid ID "one"'),
        (["doMoveEASFilter", str(n), "0"], "no EAS filter with ID %d" % n),
        (["doMoveEASFilter", "0", str(n)], "cannot move to position %d" % n),
        (["doMoveEASFilter", "0"], "requires more parameters"),
    ]:
        p = zx(instance, "--json", "mobile", *args, check=False)
        assert p.returncode != 0, args
        assert message in p.stderr, (args, p.stderr)
    assert len(listing(instance)) == n


# ---- what clients see ----------------------------------------------------------------------

def test_long_user_agent_is_matched_on_its_first_256_bytes(instance, filters):
    """README, "Limits and hardening": contains/regex see the first 256 bytes of a User-Agent."""
    head = "Long/" + filters
    long_ua = head + "x" * (256 - len(head)) + "TAIL"
    c = client(instance, ua=long_ua)
    probe = client(instance, ua=head + "-probe")
    add(instance, "regex", "tail$", "fixed", "14.0")
    add(instance, "contains", head + "-probe", "fixed", "12.1")
    wait_offered(probe, "12.1")             # the children have the new filters
    assert offered(c) == ALL                # "TAIL" lies past the bound
    # the User-Agent ends, for the filters, after its first 256 bytes
    add(instance, "regex", "^long/%sx{%d}$" % (filters, 256 - len(head)), "fixed", "14.1")
    wait_offered(c, "14.1")


def test_contains_regex_and_user_agent_case(instance, filters):
    match = client(instance, ua="SAMSUNG-SM-G991B/%s" % filters.upper())
    other = client(instance, ua="Apple-iPhone/%s" % filters)
    add(instance, "contains", "samsung-sm-g991b/" + filters, "fixed", "2.5,12.0,14.1")
    wait_offered(match, "2.5,12.0,14.1")
    assert offered(other) == ALL
    check_enforced(match, "2.5,12.0,14.1")
    check_enforced(other, ALL)
    # a regular expression, case-insensitive, anywhere unless anchored
    add(instance, "regex", "^apple-iphone/%s$" % filters, "limit", "12.1")
    wait_offered(other, "2.5,12.0,12.1")
    check_enforced(other, "2.5,12.0,12.1")
    assert offered(match) == "2.5,12.0,14.1"


def test_account_and_domain(instance, filters):
    a1, a2 = new_account(instance), new_account(instance)
    c1, c2 = client(instance, a1), client(instance, a2)
    c2_same_domain_ua = client(instance, a2, ua="x-" + filters)
    add(instance, "account", a1.upper(), "subtract", "16.0,16.1")
    wait_offered(c1, "2.5,12.0,12.1,14.0,14.1")
    assert offered(c2) == ALL
    check_enforced(c1, "2.5,12.0,12.1,14.0,14.1")
    dom2 = a2.split("@")[1]
    add(instance, "domain", dom2, "fixed", "12.1")
    wait_offered(c2, "12.1")
    assert offered(c1) == "2.5,12.0,12.1,14.0,14.1"
    check_enforced(c2, "12.1")
    # composite: and / or of those rules, in the documented key=value,key=value form
    add(instance, "and", "domain=%s,contains=x-%s" % (dom2, filters), "add", "16.1")
    wait_offered(c2_same_domain_ua, "12.1,16.1")
    assert offered(c2) == "12.1"
    add(instance, "or", "contains=nothing-%s,account=%s" % (filters, a1), "subtract", "2.5")
    wait_offered(c1, "12.0,12.1,14.0,14.1")
    check_enforced(c1, "12.0,12.1,14.0,14.1")


def test_modes_apply_in_order(instance, filters):
    c = client(instance, ua="modes-" + filters)
    tag = "modes-" + filters
    add(instance, "contains", tag, "fixed", "14.0")
    wait_offered(c, "14.0")
    add(instance, "contains", tag, "add", "12.1,16.1")
    wait_offered(c, "12.1,14.0,16.1")
    add(instance, "contains", tag, "limit", "14.1")
    wait_offered(c, "12.1,14.0")
    add(instance, "contains", tag, "subtract", "12.1")
    wait_offered(c, "14.0")
    check_enforced(c, "14.0")


def test_blocking_move_and_delete(instance, filters):
    c = client(instance, ua="blk-" + filters)
    tag = "blk-" + filters
    a = add(instance, "contains", tag, "fixed", "14.0", "blocking", "true")
    b = add(instance, "contains", tag, "fixed", "12.1", "blocking", "true")
    wait_offered(c, "14.0")          # a blocks: b is never evaluated
    check_enforced(c, "14.0")
    zx(instance, "mobile", "doMoveEASFilter", str(b), str(a))
    got = listing(instance)
    assert got[a]["easversions"] == "12.1" and got[b]["easversions"] == "14.0"
    wait_offered(c, "12.1")
    check_enforced(c, "12.1")
    zx(instance, "mobile", "doDeleteEASFilter", str(a))
    got = listing(instance)
    assert got[a]["easversions"] == "14.0" and tag in got[a]["parameter"]
    assert len([f for f in got if tag in f["parameter"]]) == 1
    wait_offered(c, "14.0")
    # not blocking: later filters still apply
    add(instance, "contains", tag, "add", "16.1")
    assert listing(instance)[a]["blocking"] is True
    time.sleep(2.5)
    assert offered(c) == "14.0"
    zx(instance, "mobile", "doDeleteEASFilter", str(a))
    wait_offered(c, ALL)   # fixed gone; the add of a version already offered changes nothing


def test_outlook_filter_and_max_outlook_version(instance, filters):
    ol = client(instance, ua="Outlook/16.0 (16.0.17928.20114; MSI; x64) " + filters)
    mo = client(instance, ua="Microsoft.Outlook.15/" + filters)
    wait_offered(ol, "14.0")
    assert offered(mo) == "14.0"
    check_enforced(ol, "14.0")
    zx(instance, "config", "set", "global", "ZxMobile_MaxOutlookVersion", "16.1")
    wait_offered(ol, "16.1")
    check_enforced(ol, "16.1")
    out = zx(instance, "mobile", "getAllEASFilters").stdout
    assert "        easversions   16.1\n" in out
    # the built-in filter is blocking: a later filter does not change Outlook's set
    add(instance, "contains", "outlook/", "fixed", "2.5")    # parameter without the tag...
    try:
        time.sleep(2.5)
        assert offered(ol) == "16.1"
    finally:
        f = [x for x in listing(instance) if x["parameter"] == "outlook/"][0]
        zx(instance, "mobile", "doDeleteEASFilter", str(f["ID"]))
