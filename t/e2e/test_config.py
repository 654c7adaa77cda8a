"""zxsuite config and zxsuite mobile getServices/do*Service against a real database.

Everything here runs in scratch databases (not the one httpd serves), so global values and
service states set by these tests cannot disturb the other tests."""

import json
import os
import shutil
import uuid

import pytest

import zxinstance

SQL_DIR = os.path.join(zxinstance.SRC_DIR, "sql")
DOMAIN = "cfg.example"
ALICE = "alice@" + DOMAIN        # in COS gold
BOB = "bob@" + DOMAIN            # in the default COS


class Z:
    """zxsuite bound to one database."""

    def __init__(self, instance, name, conninfo):
        self.instance, self.name, self.conninfo = instance, name, conninfo

    def run(self, *args):
        return self.instance.zxsuite_run(*args, check=False, db=self.conninfo)

    def ok(self, *args):
        """Run with --json; assert success; return the response."""
        p = self.run("--json", *args)
        assert p.returncode == 0, p.stderr
        out = json.loads(p.stdout)
        assert out["ok"] is True
        return out["response"]

    def fails(self, *args):
        """Assert failure in both output modes; return the message on stderr."""
        p = self.run(*args)
        assert p.returncode != 0, p.stdout
        pj = self.run("--json", *args)
        assert pj.returncode != 0
        out = json.loads(pj.stdout)
        assert out["ok"] is False and out["error"]
        return p.stderr

    def psql(self, sql):
        return self.instance.psql(sql, dbname=self.name).strip()


def _scratch(instance):
    name = "zxcfg_" + uuid.uuid4().hex[:10]
    instance.create_database(name)
    return name, instance.conninfo_for(name)


@pytest.fixture(scope="module")
def z(instance):
    """A migrated scratch database with a domain, COS gold, alice (gold) and bob (default)."""
    name, ci = _scratch(instance)
    zz = Z(instance, name, ci)
    zz.ok("db", "migrate")
    zz.ok("prov", "createDomain", DOMAIN)
    zz.ok("prov", "createCos", "gold")
    zz.ok("prov", "createAccount", ALICE, "pw-alice-1", "zimbraCOSId", "gold")
    zz.ok("prov", "createAccount", BOB, "pw-bob-1")
    yield zz
    instance.drop_database(name)


@pytest.fixture
def fresh(instance):
    """A migrated scratch database of its own (for tests that change services or globals)."""
    name, ci = _scratch(instance)
    zz = Z(instance, name, ci)
    zz.ok("db", "migrate")
    yield zz
    instance.drop_database(name)


@pytest.fixture
def node1(monkeypatch):
    monkeypatch.setenv("ZXMOBILE_SERVER_NAME", "node1")


# ---- info -------------------------------------------------------------------------------------

SPEC_ATTRIBUTES = [
    "zimbraFeatureMobileSyncEnabled", "zimbraFeatureMobilePolicyEnabled",
    "mobileAntiDosServiceEnabled", "mobileAntiDosServiceJailDuration",
    "mobileAntiDosServiceTimeWindow", "mobileAntiDosServiceMaxRequests",
    "ZxMobile_NotificationsLatency", "ZxMobile_UseInstantNotficiations",
    "ZxMobile_MaxPingHeartbeat", "ZxMobile_MaxOutlookVersion", "ZxMobile_DeviceManagementEnabled",
    "abqMode", "abqNotificationsInterval", "abq_enabled_at_startup", "zimbraDefaultDomainName",
    "ZxMobile_AuthCacheSeconds", "ZxMobile_AuthMaxFailures", "ZxMobile_AuthFailureWindow",
    "ZxMobile_AuthLockoutSeconds",
]

# spec 3.3: (default, min, max) of the integer policies, default of the booleans
POLICY_INTS = {
    "RefreshInterval": ("1440", None, None), "MinDevicePasswordLength": ("4", None, None),
    "MinDevicePasswordComplexCharacters": ("0", None, None),
    "DevicePasswordExpiration": ("0", None, None), "DevicePasswordHistory": ("8", None, None),
    "MaxInactivityTimeDeviceLock": ("15", None, None),
    "MaxDevicePasswordFailedAttempts": ("4", None, None),
    "RequireDeviceEncryption": ("0", -1, 1), "AllowStorageCard": ("1", -1, 1),
    "AllowCamera": ("1", -1, 1), "AllowUnsignedApplications": ("1", -1, 1),
    "AllowUnsignedInstallationPackages": ("1", -1, 1), "AllowWiFi": ("1", -1, 1),
    "AllowTextMessaging": ("1", -1, 1), "AllowPOPIMAPEmail": ("1", -1, 1),
    "AllowBluetooth": ("2", -1, 2), "AllowIrDA": ("1", -1, 1),
    "RequireManualSyncWhenRoaming": ("0", -1, 1), "AllowDesktopSync": ("1", -1, 1),
    "MaxCalendarAgeFilter": ("5", -1, 7), "AllowHTMLEmail": ("1", -1, 1),
    "MaxEmailAgeFilter": ("5", -1, 5), "MaxEmailBodyTruncationSize": ("-1", -1, None),
    "MaxEmailHTMLBodyTruncationSize": ("-1", -1, None),
    "RequireSignedSMIMEMessages": ("0", -1, 1), "RequireEncryptedSMIMEMessages": ("0", -1, 1),
    "RequireSignedSMIMEAlgorithm": ("0", -1, 1), "RequireEncryptionSMIMEAlgorithm": ("0", -1, 1),
    "AllowSMIMEEncryptionAlgorithmNegotiation": ("2", -1, 2), "AllowSMIMESoftCerts": ("1", -1, 1),
    "AllowBrowser": ("1", -1, 1), "AllowConsumerEmail": ("1", -1, 1),
    "AllowRemoteDesktop": ("1", -1, 1), "AllowInternetSharing": ("1", -1, 1),
}
POLICY_BOOLS = {
    "AllowNonProvisionableDevices": "TRUE", "AllowPartialProvisioning": "TRUE",
    "DevicePasswordEnabled": "TRUE", "AllowSimpleDevicePassword": "FALSE",
    "AlphanumericDevicePasswordRequired": "FALSE", "PasswordRecoveryEnabled": "TRUE",
    "DeviceEncryptionEnabled": "TRUE", "SuppressDeviceEncryption": "FALSE",
    "RequireStorageCardEncryption": "FALSE",
}
POLICY_MULTI = {"UnapprovedInROMApplication": 512, "ApprovedApplication": 256,
                "ApprovedApplicationList": None}


def test_info_lists_every_attribute(z):
    listed = z.ok("config", "info")["attributes"]
    for name in SPEC_ATTRIBUTES:
        assert name in listed, name
    for suffix in list(POLICY_INTS) + list(POLICY_BOOLS) + list(POLICY_MULTI):
        assert "zimbraMobilePolicy" + suffix in listed
    assert z.ok("config", "info", "attribute")["attributes"] == listed
    human = z.run("config", "info").stdout
    assert "abqMode" in human and "enum, account,cos,global, default Permissive" in human


def test_info_of_one_attribute(z):
    i = z.ok("config", "info", "abqMode")
    assert i["type"] == "enum" and i["default"] == "Permissive" and i["multi"] is False
    assert i["levels"] == ["account", "cos", "global"]
    assert i["values"] == ["Permissive", "Interactive", "Strict", "Disabled"]
    assert i["description"]
    # the Zextras mobile doc's form, any case
    assert z.ok("config", "info", "attribute", "ABQMODE") == i
    j = z.ok("config", "info", "mobileAntiDosServiceJailDuration")
    assert (j["type"], j["default"], j["unit"], j["levels"]) == ("integer", "600000", "ms", ["global"])
    assert j["min"] == 0
    h = z.ok("config", "info", "ZxMobile_MaxPingHeartbeat")
    assert (h["max"], h["unit"], h["levels"]) == (3540, "s", ["server", "global"])
    o = z.ok("config", "info", "ZxMobile_MaxOutlookVersion")
    assert o["default"] == "14.0" and "16.1" in o["values"]
    human = z.run("config", "info", "abqMode").stdout
    for word in ("type", "enum", "default", "Permissive", "levels", "description"):
        assert word in human
    assert "unknown attribute" in z.fails("config", "info", "noSuchThing")


def test_registry_matches_the_spec(z):
    for suffix, (default, lo, hi) in POLICY_INTS.items():
        i = z.ok("config", "info", "zimbraMobilePolicy" + suffix)
        assert i["type"] == "integer" and i["default"] == default, suffix
        assert i["levels"] == ["account", "cos"]
        if lo is not None:
            assert i["min"] == lo, suffix
        if hi is not None:
            assert i["max"] == hi, suffix
    for suffix, default in POLICY_BOOLS.items():
        i = z.ok("config", "info", "zimbraMobilePolicy" + suffix)
        assert (i["type"], i["default"], i["levels"]) == ("boolean", default, ["account", "cos"])
    for suffix, maxlen in POLICY_MULTI.items():
        i = z.ok("config", "info", "zimbraMobilePolicy" + suffix)
        assert i["multi"] is True and i.get("maxLength") == maxlen
    expect = {
        "zimbraFeatureMobileSyncEnabled": ("FALSE", ["account", "cos"]),
        "zimbraFeatureMobilePolicyEnabled": ("TRUE", ["account", "cos"]),
        "mobileAntiDosServiceEnabled": ("FALSE", ["global"]),
        "mobileAntiDosServiceTimeWindow": ("30000", ["global"]),
        "mobileAntiDosServiceMaxRequests": ("150", ["global"]),
        "abqNotificationsInterval": ("0", ["global"]),
        "abq_enabled_at_startup": ("TRUE", ["global"]),
        "ZxMobile_AuthCacheSeconds": ("60", ["server", "global"]),
        "ZxMobile_AuthMaxFailures": ("10", ["global"]),
        "ZxMobile_AuthFailureWindow": ("300", ["global"]),
        "ZxMobile_AuthLockoutSeconds": ("300", ["global"]),
        "ZxMobile_UseInstantNotficiations": ("TRUE", ["server", "global"]),
        "ZxMobile_DeviceManagementEnabled": ("FALSE", ["server", "global"]),
        "zimbraDefaultDomainName": ("", ["global"]),
    }
    for name, (default, levels) in expect.items():
        i = z.ok("config", "info", name)
        assert (i["default"], i["levels"]) == (default, levels), name
    assert z.ok("config", "info", "ZxMobile_AuthCacheSeconds")["max"] == 3600


# ---- set / get / unset ------------------------------------------------------------------------


def test_set_get_unset_global(fresh):
    r = fresh.ok("config", "set", "global", "abqmode", "strict")
    assert r == {"attribute": "abqMode", "level": "global", "value": "Strict"}
    g = fresh.ok("config", "get", "global", "abqMode")
    assert (g["value"], g["isInherited"], g["source"]) == ("Strict", False, "global")
    human = fresh.run("config", "get", "GLOBAL", "abqMode").stdout
    assert "Strict" in human and "source" in human
    assert fresh.psql("SELECT level, target, name, value FROM config_values") == "global||abqmode|Strict"
    assert fresh.ok("config", "unset", "global", "abqMode")["removed"] is True
    assert fresh.ok("config", "unset", "global", "abqMode")["removed"] is False
    g = fresh.ok("config", "get", "global", "abqMode")
    assert (g["value"], g["isInherited"], g["source"]) == ("Permissive", True, "default")
    fresh.ok("config", "set", "global", "abqMode", "Disabled")
    assert fresh.ok("config", "empty", "global", "abqMode")["removed"] is True


@pytest.mark.parametrize("given,stored", [("true", "TRUE"), ("yes", "TRUE"), ("1", "TRUE"),
                                          ("False", "FALSE"), ("no", "FALSE"), ("0", "FALSE")])
def test_booleans_are_normalised(z, given, stored):
    assert z.ok("config", "set", "global", "mobileAntiDosServiceEnabled", given)["value"] == stored
    z.ok("config", "unset", "global", "mobileAntiDosServiceEnabled")


def test_values_at_each_level(z, node1):
    z.ok("config", "set", "server", "Node1", "ZxMobile_MaxPingHeartbeat", "900")
    assert z.ok("config", "get", "server", "node1", "ZxMobile_MaxPingHeartbeat")["value"] == "900"
    z.ok("config", "set", "domain", DOMAIN.upper(), "zimbraPublicServiceHostname", "mail.cfg.example")
    g = z.ok("config", "get", "domain", DOMAIN, "zimbraPublicServiceHostname")
    assert (g["value"], g["source"], g["target"]) == ("mail.cfg.example", "domain", DOMAIN)
    z.ok("config", "set", "cos", "GOLD", "zimbraMobilePolicyAllowBluetooth", "1")
    assert z.ok("config", "get", "cos", "gold", "zimbraMobilePolicyAllowBluetooth")["value"] == "1"
    z.ok("config", "set", "account", ALICE.upper(), "zimbraMobilePolicyAllowBluetooth", "0")
    a = z.ok("config", "get", "account", ALICE, "zimbraMobilePolicyAllowBluetooth")
    assert (a["value"], a["source"]) == ("0", "account")
    # stored by id, lower-case name: a rename would not orphan it
    aid = z.psql("SELECT a.id FROM accounts a WHERE local_part = 'alice'")
    assert z.psql("SELECT value FROM config_values WHERE level = 'account' AND target = '%s' "
                  "AND name = 'zimbramobilepolicyallowbluetooth'" % aid) == "0"
    for args in (("server", "node1", "ZxMobile_MaxPingHeartbeat"),
                 ("domain", DOMAIN, "zimbraPublicServiceHostname"),
                 ("cos", "gold", "zimbraMobilePolicyAllowBluetooth"),
                 ("account", ALICE, "zimbraMobilePolicyAllowBluetooth")):
        assert z.ok("config", "unset", *args)["removed"] is True


@pytest.mark.parametrize("args,message", [
    (("set", "global", "noSuchAttribute", "1"), 'unknown attribute "noSuchAttribute"'),
    (("get", "global", "noSuchAttribute"), "unknown attribute"),
    (("set", "global", "mobileAntiDosServiceMaxRequests", "100001"),
     'invalid value "100001" for mobileAntiDosServiceMaxRequests: expected an integer from 0 to 100000'),
    (("set", "global", "mobileAntiDosServiceJailDuration", "-1"), "from 0 to 2147483647 ms"),
    (("set", "global", "mobileAntiDosServiceTimeWindow", "soon"), 'invalid value "soon"'),
    (("set", "server", "node1", "ZxMobile_MaxPingHeartbeat", "3541"), "from 60 to 3540 s"),
    (("set", "cos", "gold", "zimbraMobilePolicyAllowBluetooth", "3"), "from -1 to 2"),
    (("set", "account", ALICE, "zimbraMobilePolicyMaxEmailAgeFilter", "6"), "from -1 to 5"),
    (("set", "global", "abqMode", "Sometimes"),
     'invalid value "Sometimes" for abqMode: expected one of Permissive, Interactive, Strict, Disabled'),
    (("set", "global", "ZxMobile_MaxOutlookVersion", "13.0"), "expected one of 2.5, 12.0"),
    (("set", "global", "mobileAntiDosServiceEnabled", "maybe"), "expected TRUE or FALSE"),
    (("set", "global", "abqMode", ""), "invalid empty value for abqMode"),
    (("set", "account", ALICE, "mobileAntiDosServiceMaxRequests", "5"),
     "attribute mobileAntiDosServiceMaxRequests is not available at account level (allowed levels: global)"),
    (("get", "account", ALICE, "mobileAntiDosServiceMaxRequests"), "not available at account level"),
    (("set", "global", "zimbraFeatureMobileSyncEnabled", "TRUE"),
     "not available at global level (allowed levels: account, cos)"),
    (("set", "domain", DOMAIN, "abqMode", "Strict"), "allowed levels: account, cos, global"),
    (("set", "cos", "gold", "ZxMobile_AuthCacheSeconds", "5"), "allowed levels: server, global"),
    (("set", "account", "ghost@" + DOMAIN, "abqMode", "Strict"), "no such account: ghost@" + DOMAIN),
    (("get", "account", "not-an-address", "abqMode"), "no such account"),
    (("set", "cos", "nocos", "abqMode", "Strict"), "no such COS: nocos"),
    (("set", "domain", "nodomain.example", "zimbraLocale", "fr"), "no such domain: nodomain.example"),
    (("set", "server", "bad name!", "ZxMobile_AuthCacheSeconds", "5"), 'invalid server name "bad name!"'),
    (("dump", "cos", "nocos"), "no such COS"),
    (("set", "planet", "x", "abqMode", "Strict"), 'unknown level "planet"'),
    (("set", "global", "abqMode"), "requires more parameters"),
    (("set", "account", ALICE, "abqMode"), "syntax: config set"),
    (("get", "cos", "gold"), "syntax: config get"),
    (("dump", "global", "show-inherited", "perhaps"), "show-inherited takes true or false"),
    (("dump", "global", "colour", "blue"), 'unexpected "colour"'),
    (("global", "set", "attribute", "abqMode"), "missing value for abqMode"),
    (("global", "set", "value", "x"), "missing attribute"),
    (("global", "frobnicate", "attribute", "abqMode"), 'unknown action "frobnicate"'),
    (("cos", "get"), "requires more parameters"),
    (("distributionList", "get", "x"), "unknown command"),
])
def test_config_errors(z, args, message):
    err = z.fails("config", *args)
    assert message in err, err


def test_refused_values_change_nothing(fresh):
    fresh.ok("config", "set", "global", "mobileAntiDosServiceMaxRequests", "200")
    fresh.fails("config", "set", "global", "mobileAntiDosServiceMaxRequests", "-5")
    assert fresh.ok("config", "get", "global", "mobileAntiDosServiceMaxRequests")["value"] == "200"


# ---- resolution --------------------------------------------------------------------------------


def _get(z, level, *rest):
    r = z.ok("config", "get", level, *rest)
    return r["value"], r["source"]


def test_resolution_order_account_cos_domain_server_global_default(z, node1):
    """zimbraLocale is settable at every level: peel the levels off one by one."""
    z.ok("config", "set", "global", "zimbraLocale", "g_GL")
    z.ok("config", "set", "server", "node1", "zimbraLocale", "s_SV")
    z.ok("config", "set", "domain", DOMAIN, "zimbraLocale", "d_DM")
    z.ok("config", "set", "cos", "gold", "zimbraLocale", "c_CS")
    z.ok("config", "set", "account", ALICE, "zimbraLocale", "a_AC")
    try:
        assert _get(z, "account", ALICE, "zimbraLocale") == ("a_AC", "account")
        z.ok("config", "unset", "account", ALICE, "zimbraLocale")
        assert _get(z, "account", ALICE, "zimbraLocale") == ("c_CS", "cos")
        z.ok("config", "unset", "cos", "gold", "zimbraLocale")
        assert _get(z, "account", ALICE, "zimbraLocale") == ("d_DM", "domain")
        z.ok("config", "unset", "domain", DOMAIN, "zimbraLocale")
        assert _get(z, "account", ALICE, "zimbraLocale") == ("s_SV", "server")
        z.ok("config", "unset", "server", "node1", "zimbraLocale")
        assert _get(z, "account", ALICE, "zimbraLocale") == ("g_GL", "global")
        z.ok("config", "unset", "global", "zimbraLocale")
        assert _get(z, "account", ALICE, "zimbraLocale") == ("", "default")
    finally:
        for args in (("global",), ("server", "node1"), ("domain", DOMAIN), ("cos", "gold"),
                     ("account", ALICE)):
            z.run("config", "unset", *args, "zimbraLocale")


def test_server_level_applies_to_this_node_only(z, monkeypatch):
    monkeypatch.setenv("ZXMOBILE_SERVER_NAME", "node1")
    z.ok("config", "set", "server", "node1", "zimbraLocale", "s_SV")
    z.ok("config", "set", "global", "zimbraLocale", "g_GL")
    try:
        assert _get(z, "account", BOB, "zimbraLocale") == ("s_SV", "server")
        monkeypatch.setenv("ZXMOBILE_SERVER_NAME", "node2")
        assert _get(z, "account", BOB, "zimbraLocale") == ("g_GL", "global")
        # a COS or domain sees itself and global, whatever node asks
        assert _get(z, "cos", "gold", "zimbraLocale") == ("g_GL", "global")
        monkeypatch.setenv("ZXMOBILE_SERVER_NAME", "node1")
        assert _get(z, "domain", DOMAIN, "zimbraLocale") == ("g_GL", "global")
        assert _get(z, "server", "node1", "zimbraLocale") == ("s_SV", "server")
    finally:
        z.run("config", "unset", "server", "node1", "zimbraLocale")
        z.run("config", "unset", "global", "zimbraLocale")


def test_levels_an_attribute_does_not_allow_are_skipped(z, node1):
    """abqMode: account -> COS -> global (no domain, no server); accounts without a COS of
    their own are in the default COS."""
    assert _get(z, "account", BOB, "abqMode") == ("Permissive", "default")
    z.ok("config", "set", "global", "abqMode", "Interactive")
    z.ok("config", "set", "cos", "default", "abqMode", "Strict")
    try:
        assert _get(z, "account", BOB, "abqMode") == ("Strict", "cos")
        assert _get(z, "account", ALICE, "abqMode") == ("Interactive", "global")
        z.ok("config", "set", "account", ALICE, "abqMode", "Disabled")
        assert _get(z, "account", ALICE, "abqMode") == ("Disabled", "account")
        # an account taken out of every COS falls back to the default COS
        z.ok("prov", "modifyAccount", ALICE, "zimbraCOSId", "")
        z.ok("config", "unset", "account", ALICE, "abqMode")
        assert _get(z, "account", ALICE, "abqMode") == ("Strict", "cos")
    finally:
        z.ok("prov", "modifyAccount", ALICE, "zimbraCOSId", "gold")
        z.run("config", "unset", "global", "abqMode")
        z.run("config", "unset", "cos", "default", "abqMode")
        z.run("config", "unset", "account", ALICE, "abqMode")


def test_mobile_sync_enabled_account_over_cos(z):
    assert _get(z, "account", BOB, "zimbraFeatureMobileSyncEnabled") == ("FALSE", "default")
    z.ok("prov", "modifyCos", "default", "zimbraFeatureMobileSyncEnabled", "TRUE")
    try:
        assert _get(z, "account", BOB, "zimbraFeatureMobileSyncEnabled") == ("TRUE", "cos")
        z.ok("prov", "modifyAccount", BOB, "zimbraFeatureMobileSyncEnabled", "FALSE")
        assert _get(z, "account", BOB, "zimbraFeatureMobileSyncEnabled") == ("FALSE", "account")
    finally:
        z.ok("prov", "modifyCos", "default", "zimbraFeatureMobileSyncEnabled", "")
        z.ok("prov", "modifyAccount", BOB, "zimbraFeatureMobileSyncEnabled", "")


# ---- dump ------------------------------------------------------------------------------------


def test_dump_with_and_without_inherited(z, node1):
    z.ok("config", "set", "cos", "gold", "abqMode", "Strict")
    z.ok("config", "set", "cos", "gold", "zimbraMobilePolicyAllowCamera", "0")
    z.ok("config", "set", "account", ALICE, "zimbraMobilePolicyAllowWiFi", "-1")
    z.ok("config", "set", "server", "node1", "zimbraLocale", "it_IT")
    try:
        d = z.ok("config", "dump", "cos", "gold")
        assert (d["level"], d["target"]) == ("cos", "gold")
        assert d["attributes"] == [{"attribute": "abqMode", "value": "Strict"},
                                   {"attribute": "zimbraMobilePolicyAllowCamera", "value": "0"}]
        d = z.ok("config", "dump", "account", ALICE)
        assert d["attributes"] == [{"attribute": "zimbraMobilePolicyAllowWiFi", "value": "-1"}]
        d = z.ok("config", "dump", "account", ALICE, "show-inherited", "true")
        by = {e["attribute"]: e for e in d["attributes"]}
        listed = z.ok("config", "info")["attributes"]     # name -> "type, levels, default"
        account_attrs = [n for n, summary in listed.items()
                         if "account" in summary.split(", ")[1].split(",")]
        assert sorted(by, key=str.lower) == sorted(account_attrs, key=str.lower)
        assert [e["attribute"] for e in d["attributes"]] == sorted(by, key=str.lower)
        assert (by["zimbraMobilePolicyAllowWiFi"]["value"], by["zimbraMobilePolicyAllowWiFi"]["source"],
                by["zimbraMobilePolicyAllowWiFi"]["isInherited"]) == ("-1", "account", False)
        assert (by["abqMode"]["value"], by["abqMode"]["source"]) == ("Strict", "cos")
        assert (by["zimbraMobilePolicyAllowCamera"]["value"], by["zimbraMobilePolicyAllowCamera"]["source"]) == ("0", "cos")
        assert (by["zimbraLocale"]["value"], by["zimbraLocale"]["source"]) == ("it_IT", "server")
        assert (by["zimbraMobilePolicyAllowBluetooth"]["value"], by["zimbraMobilePolicyAllowBluetooth"]["source"],
                by["zimbraMobilePolicyAllowBluetooth"]["isInherited"]) == ("2", "default", True)
        assert "mobileAntiDosServiceEnabled" not in by          # not an account-level attribute
        g = z.ok("config", "dump", "global", "show-inherited", "true")
        names = {e["attribute"] for e in g["attributes"]}
        assert "mobileAntiDosServiceEnabled" in names and "zimbraFeatureMobileSyncEnabled" not in names
        human = z.run("config", "dump", "account", ALICE, "show-inherited", "true").stdout
        assert "zimbraMobilePolicyAllowWiFi" in human and "source" in human
        assert z.ok("config", "dump", "global", "show-inherited", "false")["attributes"] == []
    finally:
        z.run("config", "unset", "cos", "gold", "abqMode")
        z.run("config", "unset", "cos", "gold", "zimbraMobilePolicyAllowCamera")
        z.run("config", "unset", "account", ALICE, "zimbraMobilePolicyAllowWiFi")
        z.run("config", "unset", "server", "node1", "zimbraLocale")


def test_multi_valued_values_in_dump_and_get(z):
    z.ok("prov", "modifyCos", "gold", "zimbraMobilePolicyApprovedApplication", "h1",
         "zimbraMobilePolicyApprovedApplication", "h2")
    try:
        d = z.ok("config", "dump", "cos", "gold")
        assert d["attributes"] == [{"attribute": "zimbraMobilePolicyApprovedApplication",
                                    "value": ["h1", "h2"]}]
        g = z.ok("config", "get", "account", ALICE, "zimbraMobilePolicyApprovedApplication")
        assert (g["value"], g["source"]) == (["h1", "h2"], "cos")
        assert z.ok("config", "set", "cos", "gold", "zimbraMobilePolicyApprovedApplication", "h3")["value"] == ["h3"]
    finally:
        z.run("config", "unset", "cos", "gold", "zimbraMobilePolicyApprovedApplication")


# ---- the older verb-second forms ------------------------------------------------------------------


def test_verb_second_global(fresh):
    r = fresh.ok("config", "global", "set", "attribute", "abqNotificationsInterval", "value", "3600000")
    assert r["value"] == "3600000"
    g = fresh.ok("config", "global", "get", "attribute", "abqNotificationsInterval")
    assert (g["value"], g["source"]) == ("3600000", "global")
    human = fresh.run("config", "global", "get", "attribute", "abqMode").stdout
    assert "Permissive" in human
    fresh.ok("config", "Global", "SET", "attribute", "abqMode", "value", "Interactive")
    dump = fresh.ok("config", "global", "get")          # no attribute: what is set there
    assert {e["attribute"] for e in dump["attributes"]} == {"abqMode", "abqNotificationsInterval"}
    assert fresh.ok("config", "global", "empty", "attribute", "abqNotificationsInterval")["removed"] is True
    assert fresh.ok("config", "global", "get", "attribute", "abqNotificationsInterval")["value"] == "0"
    fresh.ok("config", "global", "empty", "attribute", "abqMode")
    # without the keywords too
    assert fresh.ok("config", "global", "set", "abqMode", "Strict")["value"] == "Strict"
    assert "not available at global level" in fresh.fails(
        "config", "global", "set", "attribute", "zimbraMobilePolicyAllowCamera", "value", "0")


def test_verb_second_server_cos_account_domain(z, node1):
    z.ok("config", "server", "set", "node1", "attribute", "ZxMobile_AuthCacheSeconds", "value", "30")
    g = z.ok("config", "server", "get", "node1", "attribute", "ZxMobile_AuthCacheSeconds")
    assert (g["value"], g["source"]) == ("30", "server")
    z.ok("config", "server", "empty", "node1", "attribute", "ZxMobile_AuthCacheSeconds")
    assert _get(z, "server", "node1", "ZxMobile_AuthCacheSeconds") == ("60", "default")

    z.ok("config", "cos", "set", "gold", "attribute", "abqMode", "value", "strict")
    assert z.ok("config", "account", "get", ALICE, "attribute", "abqMode")["value"] == "Strict"
    z.ok("config", "account", "set", ALICE, "attribute", "abqMode", "value", "Permissive")
    assert _get(z, "account", ALICE, "abqMode") == ("Permissive", "account")
    z.ok("config", "account", "empty", ALICE, "attribute", "abqMode")
    z.ok("config", "cos", "empty", "gold", "attribute", "abqMode")
    assert _get(z, "account", ALICE, "abqMode") == ("Permissive", "default")

    z.ok("config", "domain", "set", DOMAIN, "attribute", "zimbraLocale", "value", "fr")
    assert z.ok("config", "domain", "get", DOMAIN, "attribute", "zimbraLocale")["value"] == "fr"
    d = z.ok("config", "domain", "get", DOMAIN, "show-inherited", "true")
    assert {e["attribute"] for e in d["attributes"]} >= {"zimbraLocale", "zimbraPublicServiceHostname"}
    z.ok("config", "domain", "empty", DOMAIN, "attribute", "zimbraLocale")
    assert "no such COS" in z.fails("config", "cos", "get", "nocos", "attribute", "abqMode")
    assert "not available at account level" in z.fails(
        "config", "account", "set", ALICE, "attribute", "mobileAntiDosServiceMaxRequests", "value", "1")


# ---- values follow their owner ----------------------------------------------------------------------


def test_values_are_deleted_with_their_owner(z):
    z.ok("prov", "createAccount", "carol@" + DOMAIN, "", "abqMode", "Strict")
    z.ok("prov", "createCos", "tmpcos", "abqMode", "Interactive")
    assert z.psql("SELECT count(*) FROM config_values WHERE level IN ('account', 'cos') "
                  "AND name = 'abqmode'") == "2"
    z.ok("prov", "deleteAccount", "carol@" + DOMAIN)
    z.ok("prov", "deleteCos", "tmpcos")
    assert z.psql("SELECT count(*) FROM config_values WHERE level IN ('account', 'cos') "
                  "AND name = 'abqmode'") == "0"
    z.ok("prov", "createDomain", "gone.example", "zimbraLocale", "de")
    assert z.ok("config", "get", "domain", "gone.example", "zimbraLocale")["value"] == "de"
    z.ok("prov", "deleteDomain", "gone.example")
    assert z.psql("SELECT count(*) FROM config_values WHERE level = 'domain'") == "0"


def test_create_account_attributes_are_validated_and_atomic(z):
    name = "dave@" + DOMAIN
    err = z.fails("prov", "createAccount", name, "pw", "abqMode", "Strict",
                  "zimbraMobilePolicyAllowCamera", "7")
    assert "from -1 to 1" in err
    err = z.fails("prov", "createAccount", name, "pw", "mobileAntiDosServiceEnabled", "TRUE")
    assert "not available at account level" in err
    assert "no such account" in z.fails("prov", "getAccount", name)
    a = z.ok("prov", "createAccount", name, "pw", "abqMode", "strict",
             "zimbraMobilePolicyUnapprovedInROMApplication", "app1",
             "zimbraMobilePolicyUnapprovedInROMApplication", "app2")
    assert a["abqMode"] == "Strict"
    assert a["zimbraMobilePolicyUnapprovedInROMApplication"] == ["app1", "app2"]
    z.ok("prov", "deleteAccount", name)


# ---- services ------------------------------------------------------------------------------------


DEFAULT_SERVICES = {
    "module": {"could_start": False, "could_stop": True, "running": True},
    "activesync": {"could_start": False, "could_stop": True, "running": True},
    "autodiscover": {"could_start": False, "could_stop": True, "running": True},
    "abq": {"could_start": False, "could_stop": True, "running": True},
    "anti-dos": {"could_not_start_because": "anti-dos disabled", "could_start": False,
                 "could_stop": False, "running": False},
}


def test_get_services_default(fresh):
    assert fresh.ok("mobile", "getServices") == {"services": DEFAULT_SERVICES}
    human = fresh.run("mobile", "getservices").stdout.splitlines()
    assert human[0] == "services"
    i = human.index("        anti-dos")
    assert human[i + 1].split(None, 1) == ["could_not_start_because", "anti-dos disabled"]
    assert [l.split() for l in human[i + 2:i + 5]] == [["could_start", "false"],
                                                        ["could_stop", "false"],
                                                        ["running", "false"]]
    assert [l.strip() for l in human if l.startswith("        ") and not l.startswith("         ")] == \
        ["module", "activesync", "autodiscover", "abq", "anti-dos"]


def test_anti_dos_start_restart_stop(fresh):
    err = fresh.fails("mobile", "doStartService", "anti-dos")
    assert "cannot start service anti-dos: anti-dos disabled" in err
    fresh.ok("config", "set", "global", "mobileAntiDosServiceEnabled", "TRUE")
    svc = fresh.ok("mobile", "getServices")["services"]["anti-dos"]
    assert svc == {"could_start": False, "could_stop": True, "running": True}
    assert "already running" in fresh.fails("mobile", "doStartService", "anti-dos")
    assert fresh.psql("SELECT restart_count, restarted_at IS NULL FROM services WHERE name = 'anti-dos'") == "0|t"
    p = fresh.run("mobile", "doRestartService", "ANTI-DOS")
    assert p.returncode == 0 and p.stdout.strip() == "service restarted"
    assert fresh.ok("mobile", "doRestartService", "anti-dos") == "service restarted"
    # the record the DoS filter watches to reset its jails
    assert fresh.psql("SELECT restart_count, restarted_at IS NOT NULL FROM services WHERE name = 'anti-dos'") == "2|t"
    assert fresh.run("mobile", "doStopService", "anti-dos").stdout.strip() == "service stopped"
    svc = fresh.ok("mobile", "getServices")["services"]["anti-dos"]
    assert svc == {"could_start": True, "could_stop": False, "running": False}
    assert "is not running" in fresh.fails("mobile", "doStopService", "anti-dos")
    assert fresh.ok("mobile", "doStartService", "anti-dos") == "service started"
    # disabling the attribute stops it, whatever was asked
    fresh.ok("config", "set", "global", "mobileAntiDosServiceEnabled", "FALSE")
    assert fresh.ok("mobile", "getServices")["services"]["anti-dos"] == DEFAULT_SERVICES["anti-dos"]
    assert "anti-dos disabled" in fresh.fails("mobile", "doRestartService", "anti-dos")


def test_activesync_and_abq_aliases(fresh):
    assert fresh.run("mobile", "doStopService", "activesync-services").stdout.strip() == "service stopped"
    s = fresh.ok("mobile", "getServices")["services"]
    assert s["activesync"] == {"could_start": True, "could_stop": False, "running": False}
    assert fresh.ok("mobile", "doStartService", "activesync") == "service started"
    assert fresh.ok("mobile", "doStopService", "abq-services") == "service stopped"
    assert fresh.ok("mobile", "getServices")["services"]["abq"]["running"] is False
    assert fresh.ok("mobile", "doRestartService", "abq-services") == "service restarted"
    assert fresh.ok("mobile", "getServices")["services"] == DEFAULT_SERVICES
    # state is in the database: what another node would read
    assert fresh.psql("SELECT running FROM services WHERE name = 'activesync'") == "t"


def test_abq_not_running_when_disabled(fresh):
    fresh.ok("config", "set", "global", "abq_enabled_at_startup", "false")
    abq = fresh.ok("mobile", "getServices")["services"]["abq"]
    assert abq == {"could_not_start_because": "abq disabled (abq_enabled_at_startup is FALSE)",
                   "could_start": False, "could_stop": False, "running": False}
    assert "abq_enabled_at_startup" in fresh.fails("mobile", "doStartService", "abq")
    fresh.ok("config", "unset", "global", "abq_enabled_at_startup")
    fresh.ok("config", "set", "global", "abqMode", "Disabled")
    abq = fresh.ok("mobile", "getServices")["services"]["abq"]
    assert abq["running"] is False and "abqMode is Disabled" in abq["could_not_start_because"]
    # a COS or account mode does not stop the service
    fresh.ok("config", "set", "global", "abqMode", "Strict")
    fresh.ok("config", "set", "cos", "default", "abqMode", "Disabled")
    assert fresh.ok("mobile", "getServices")["services"]["abq"]["running"] is True


def test_module_stop_stops_everything(fresh):
    assert fresh.ok("mobile", "doStopService", "module") == "service stopped"
    s = fresh.ok("mobile", "getServices")["services"]
    assert s["module"] == {"could_start": True, "could_stop": False, "running": False}
    for name in ("activesync", "autodiscover", "abq", "anti-dos"):
        assert s[name]["running"] is False and s[name]["could_start"] is False
    assert s["activesync"]["could_not_start_because"] == "module not running"
    assert "module not running" in fresh.fails("mobile", "doStartService", "activesync")
    fresh.ok("mobile", "doStartService", "module")
    assert fresh.ok("mobile", "getServices")["services"] == DEFAULT_SERVICES


@pytest.mark.parametrize("args,message", [
    (("doStartService", "ldap-address-book"), 'unknown service "ldap-address-book"'),
    (("doStopService", "nothing"), "unknown service"),
    (("doRestartService",), "requires more parameters"),
    (("getServices", "extra"), "requires fewer parameters"),
    (("doStartService", "abq"), "service abq is already running"),
])
def test_service_errors(z, args, message):
    assert message in z.fails("mobile", *args)


# ---- the migration of 001's attribute tables ------------------------------------------------------


def test_migration_moves_account_and_cos_attrs(instance, tmp_path):
    name, ci = _scratch(instance)
    try:
        zz = Z(instance, name, ci)
        only001 = tmp_path / "sql"
        only001.mkdir()
        shutil.copy(os.path.join(SQL_DIR, "001_directory.sql"), only001 / "001_directory.sql")
        p = instance.zxsuite_run("--sql-dir", str(only001), "db", "migrate", check=False, db=ci)
        assert p.returncode == 0, p.stderr
        zz.psql("INSERT INTO domains (name) VALUES ('old.example');"
                "INSERT INTO cos (name) VALUES ('silver');"
                "INSERT INTO accounts (local_part, domain_id, cos_id) "
                "  SELECT 'olduser', d.id, c.id FROM domains d, cos c "
                "   WHERE d.name = 'old.example' AND c.name = 'silver';"
                "INSERT INTO account_attrs (account_id, name, value) "
                "  SELECT id, 'zimbraFeatureMobileSyncEnabled', 'TRUE' FROM accounts;"
                "INSERT INTO account_attrs (account_id, name, value) "
                "  SELECT id, 'zimbraMobilePolicyApprovedApplication', v FROM accounts, "
                "         (VALUES ('hashB'), ('hashA')) AS x(v);"
                "INSERT INTO cos_attrs (cos_id, name, value) "
                "  SELECT id, 'zimbraMobilePolicyAllowCamera', '0' FROM cos WHERE name = 'silver'")
        out = zz.ok("db", "migrate")
        assert "002_config.sql" in out["applied"]
        assert zz.psql("SELECT to_regclass('account_attrs') IS NULL AND to_regclass('cos_attrs') IS NULL") == "t"
        a = zz.ok("prov", "getAccount", "olduser@old.example")
        assert a["zimbraFeatureMobileSyncEnabled"] == "TRUE"
        assert a["zimbraMobilePolicyApprovedApplication"] == ["hashA", "hashB"]
        assert _get(zz, "account", "olduser@old.example", "zimbraFeatureMobileSyncEnabled") == ("TRUE", "account")
        assert _get(zz, "account", "olduser@old.example", "zimbraMobilePolicyAllowCamera") == ("0", "cos")
        assert zz.ok("prov", "getCos", "silver")["zimbraMobilePolicyAllowCamera"] == "0"
        assert zz.psql("SELECT level, name, value FROM config_values WHERE level = 'account' "
                       "ORDER BY name") == ("account|zimbrafeaturemobilesyncenabled|TRUE\n"
                                            "account|zimbramobilepolicyapprovedapplication|hashA\nhashB")
    finally:
        instance.drop_database(name)
