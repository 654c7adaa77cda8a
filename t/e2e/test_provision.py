"""Provisioning ([MS-ASPROV], spec 3): the Provision command at 12.1/14.1/16.1 with the policy
values of the account and its COS in the decoded EASProvisionDoc, enforcement of the policy
key (HTTP 449 below 14.0, status 142/143/144 from 14.0), the three switches (MDM enabled,
non-provisionable devices, partial enforcement), a policy change forcing a new Provision,
DeviceInformation inside Provision (14.1+), and the getProvisioning/setProvisioning CLI with
its errors and audit rows.

MDM needs the global ZxMobile_DeviceManagementEnabled: the `mdm` fixture sets it and restores
it; everything else is set on this module's own accounts and COS."""

import uuid

import pytest

from mailtools import account_id, client_for, mdm, new_account, sql, zx, zx_fails, zxj  # noqa: F401

POLICY_TYPE = "MS-EAS-Provisioning-WBXML"
GLOBAL_SWITCH = "ZxMobile_DeviceManagementEnabled"


@pytest.fixture
def cos(instance):
    name = "mdm" + uuid.uuid4().hex[:8]
    zx(instance, "prov", "createCos", name)
    return name


def in_cos(instance, cos_name):
    acct = new_account(instance)
    zx(instance, "prov", "modifyAccount", acct, "zimbraCOSId", cos_name)
    return acct


def status_of(resp):
    """The command's Status (14.0+ refusals), or None for another body."""
    doc = resp.wbxml
    return doc.findtext("Status") if doc is not None else None


def probe(c, **kw):
    """A command with no sync state of its own (Settings UserInformation Get): the gates answer
    it like any other."""
    return c.post("Settings", '<Settings xmlns="Settings:"><UserInformation><Get/>'
                              '</UserInformation></Settings>', **kw)


def assert_served(c, **kw):
    r = probe(c, **kw)
    assert r.status == 200, r
    assert r.wbxml.name == "Settings" and r.wbxml.findtext("Status") == "1"


def assert_sent_to_provision(c, version, status, **kw):
    r = probe(c, **kw)
    if version in ("12.1", "12.0"):
        assert r.status == 449, r
        assert not r.body
    else:
        assert r.status == 200, r
        assert r.wbxml.name == "Settings"
        assert r.wbxml.findtext("Status") == str(status)


def device_row(instance, acct, device_id):
    rows = sql(instance, "SELECT policy_key, policy_key_temp, policy_ack_status, "
                         "provisioned_at IS NOT NULL, info_model, info_os FROM devices "
                         "WHERE account_id = %s AND device_id = %s",
               account_id(instance, acct), device_id)
    return rows[0] if rows else None


def doc_values(first):
    doc = first.wbxml.find("Policies/Policy/Data/EASProvisionDoc")
    assert doc is not None
    return doc


# ---- the command ------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["12.1", "14.1", "16.1"])
def test_provision_policy_values(instance, mdm, cos, version):
    zx(instance, "mobile", "setProvisioning", "cos", cos, "AllowCamera", "0")
    zx(instance, "mobile", "setProvisioning", "cos", cos, "MinDevicePasswordLength", "5")
    zx(instance, "mobile", "setProvisioning", "cos", cos, "AllowBluetooth", "1")
    zx(instance, "mobile", "setProvisioning", "cos", cos, "AllowStorageCard", "-1")
    zx(instance, "mobile", "setProvisioning", "cos", cos, "ApprovedApplication",
       "9c1185a5c5e9fc54612808977ee8f548b2258d31, 0123456789abcdef0123456789abcdef01234567")
    acct = in_cos(instance, cos)
    # the account's own value wins over the COS
    zx(instance, "mobile", "setProvisioning", "account", acct, "MinDevicePasswordLength", "7")
    zx(instance, "mobile", "setProvisioning", "account", acct,
       "zimbraMobilePolicyMaxInactivityTimeDeviceLock", "10")
    zx(instance, "mobile", "setProvisioning", "account", acct, "MaxEmailBodyTruncationSize", "50")

    c = client_for(instance, acct, version)
    info = {"Model": "Pixel 9", "OS": "Android 15"} if version != "12.1" else None
    first, ack = c.provision(device_information=info)
    assert first.status == 200, first
    root = first.wbxml
    assert root.name == "Provision" and root.findtext("Status") == "1"
    pol = root.find("Policies/Policy")
    assert pol.findtext("PolicyType") == POLICY_TYPE
    assert pol.findtext("Status") == "1"
    temp = int(pol.findtext("PolicyKey"))
    assert 0 < temp < 2 ** 32
    doc = doc_values(first)
    assert doc.findtext("DevicePasswordEnabled") == "1"          # default TRUE
    assert doc.findtext("MinDevicePasswordLength") == "7"        # account over COS
    assert doc.findtext("AllowCamera") == "0"                    # COS
    assert doc.findtext("AllowBluetooth") == "1"
    assert doc.find("AllowStorageCard") is None                  # -1 = not sent
    assert doc.findtext("MaxInactivityTimeDeviceLock") == "600"  # minutes -> seconds
    assert doc.findtext("MaxDevicePasswordFailedAttempts") == "4"
    assert doc.findtext("DevicePasswordHistory") == "8"
    assert doc.findtext("MaxEmailBodyTruncationSize") == "50"
    assert doc.findtext("MaxEmailHTMLBodyTruncationSize") == ""  # -1 = empty (no limit)
    assert doc.findtext("MaxAttachmentSize") == ""
    assert doc.findtext("DevicePasswordExpiration") == ""        # 0 = never
    assert doc.findtext("MaxCalendarAgeFilter") == "5"
    assert doc.findtext("MaxEmailAgeFilter") == "5"
    assert doc.findtext("AllowSMIMEEncryptionAlgorithmNegotiation") == "2"
    # token 0x10: RequireStorageCardEncryption from 12.1 (default FALSE)
    assert doc.findtext("RequireStorageCardEncryption") == "0"
    assert [n.text for n in doc.findall("ApprovedApplicationList/Hash")] == [
        "9c1185a5c5e9fc54612808977ee8f548b2258d31", "0123456789abcdef0123456789abcdef01234567"]
    assert doc.find("UnapprovedInROMApplicationList") is not None
    assert not doc.findall("UnapprovedInROMApplicationList/ApplicationName")

    if version == "12.1":
        assert root.find("DeviceInformation") is None
    else:
        assert root.findtext("Settings:DeviceInformation/Settings:Status") == "1"

    row = device_row(instance, acct, c.device_id)
    assert ack is not None and ack.status == 200
    assert ack.wbxml.findtext("Status") == "1"
    assert ack.wbxml.findtext("Policies/Policy/Status") == "1"
    assert ack.wbxml.find("Policies/Policy/Data") is None
    final = int(ack.wbxml.findtext("Policies/Policy/PolicyKey"))
    assert final != temp and c.policy_key == final
    assert row[0] == str(final) and row[1] == "" and row[2] == "1" and row[3] == "t"
    if version != "12.1":
        assert row[4:6] == ["Pixel 9", "Android 15"]
    assert_served(c)


def test_provision_12_0_device_encryption(instance, mdm):
    """12.0 has DeviceEncryptionEnabled where 12.1 has RequireStorageCardEncryption (token 0x10),
    and no 12.1 element; SuppressDeviceEncryption drops it."""
    acct = new_account(instance)
    c = client_for(instance, acct, "12.0")
    first, _ = c.provision()
    doc = doc_values(first)
    assert doc.findtext("RequireStorageCardEncryption") == "1"   # DeviceEncryptionEnabled TRUE
    assert doc.find("AllowCamera") is None
    assert doc.find("ApprovedApplicationList") is None
    zx(instance, "mobile", "setProvisioning", "account", acct, "SuppressDeviceEncryption", "TRUE")
    first, _ = client_for(instance, acct, "12.0").provision()
    assert doc_values(first).find("RequireStorageCardEncryption") is None


def test_provision_errors(instance, mdm):
    acct = new_account(instance)
    c = client_for(instance, acct, "14.1")
    # unknown PolicyType: Policy Status 3
    first, ack = c.provision(policy_type="MS-WAP-Provisioning-XML")
    assert ack is None
    assert first.wbxml.findtext("Status") == "1"
    assert first.wbxml.findtext("Policies/Policy/Status") == "3"
    # acknowledging a key that was not sent: Policy Status 5, no key
    c.provision()
    r = c.post("Provision", '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>%s'
                            '</PolicyType><PolicyKey>12345</PolicyKey><Status>1</Status>'
                            '</Policy></Policies></Provision>' % POLICY_TYPE)
    assert r.wbxml.findtext("Policies/Policy/Status") == "5"
    assert r.wbxml.find("Policies/Policy/PolicyKey") is None
    # unknown element / two Policy elements: protocol error
    r = c.post("Provision", '<Provision xmlns="Provision:"><Policies><Policy><PolicyType>%s'
                            '</PolicyType></Policy><Policy><PolicyType>%s</PolicyType></Policy>'
                            '</Policies></Provision>' % (POLICY_TYPE, POLICY_TYPE))
    assert r.wbxml.findtext("Status") == "2"
    # DeviceInformation before 14.1 is a protocol error
    c12 = client_for(instance, acct, "14.0")
    r = c12.post("Provision", '<Provision xmlns="Provision:" xmlns:settings="Settings:">'
                              '<settings:DeviceInformation><settings:Set><settings:Model>x'
                              '</settings:Model></settings:Set></settings:DeviceInformation>'
                              '<Policies><Policy><PolicyType>%s</PolicyType></Policy></Policies>'
                              '</Provision>' % POLICY_TYPE)
    assert r.wbxml.findtext("Status") == "2"


# ---- enforcement and the three switches ----------------------------------------------------------

@pytest.mark.parametrize("version", ["12.1", "14.1"])
def test_key_enforcement(instance, mdm, version):
    acct = new_account(instance)
    zx(instance, "mobile", "setProvisioning", "account", acct, "AllowNonProvisionableDevices",
       "FALSE")
    c = client_for(instance, acct, version)
    assert_sent_to_provision(c, version, 141)                  # no X-MS-PolicyKey
    assert_sent_to_provision(c, version, 142, policy_key=0)    # not provisioned
    c.provision()
    assert c.policy_key
    assert_served(c)
    assert_sent_to_provision(c, version, 144, policy_key=(c.policy_key % 4000000000) + 1)
    assert_sent_to_provision(c, version, 141, policy_key=False)
    # Provision itself is never refused for its key
    first, _ = c.provision()
    assert first.status == 200


def test_nonprovisionable_switch(instance, mdm):
    acct = new_account(instance)
    c = client_for(instance, acct, "14.1")
    # default TRUE: a device that sends no policy key syncs without a policy...
    assert_served(c, policy_key=False)
    # ...but a device that can provision (sends a key) must
    assert_sent_to_provision(c, "14.1", 142, policy_key=0)
    # a device that applies nothing (ack Status 3) still gets a key while allowed
    _, ack = c.provision(ack_status=3)
    assert ack.wbxml.findtext("Status") == "1" and c.policy_key
    assert device_row(instance, acct, c.device_id)[2] == "3"
    # protocol 2.5 cannot take the policy: served as non-provisionable
    old = client_for(instance, acct, "2.5")
    r = old.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey>'
                               '</FolderSync>')
    assert r.status == 200

    zx(instance, "mobile", "setProvisioning", "account", acct, "AllowNonProvisionableDevices",
       "FALSE")
    assert_sent_to_provision(client_for(instance, acct, "14.1"), "14.1", 141, policy_key=False)
    r = old.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey>'
                               '</FolderSync>')
    assert r.status == 403
    d = client_for(instance, acct, "14.1")
    _, ack = d.provision(ack_status=3)
    assert ack.wbxml.findtext("Status") == "141" and ack.wbxml.find("Policies") is None
    assert not d.policy_key
    _, ack = d.provision(ack_status=4)
    assert ack.wbxml.findtext("Status") == "145"
    row = device_row(instance, acct, d.device_id)
    assert row[0] == "" and row[1] == ""


@pytest.mark.parametrize("version", ["12.1", "14.1"])
def test_partial_switch(instance, mdm, version):
    acct = new_account(instance)
    c = client_for(instance, acct, version)
    _, ack = c.provision(ack_status=2)            # default TRUE: partial is fine
    assert ack.status == 200 and ack.wbxml.findtext("Status") == "1" and c.policy_key
    assert_served(c)
    zx(instance, "mobile", "setProvisioning", "account", acct, "AllowPartialProvisioning",
       "FALSE")
    d = client_for(instance, acct, version)
    _, ack = d.provision(ack_status=2)
    if version == "12.1":
        assert ack.status == 403
    else:
        assert ack.status == 200 and ack.wbxml.findtext("Status") == "139"
    assert not d.policy_key
    _, ack = d.provision(ack_status=1)
    assert ack.wbxml.findtext("Status") == "1" and d.policy_key


def test_mdm_switches(instance, cos):
    """Global switch off (the default here): no policy, no key enforced.  With it on,
    zimbraFeatureMobilePolicyEnabled FALSE on the COS turns MDM off for its accounts."""
    before = sql(instance, "SELECT value FROM config_values WHERE level = 'global' AND "
                           "name = lower(%s)", GLOBAL_SWITCH)
    assert not before or before[0][0] == "FALSE"
    acct = in_cos(instance, cos)
    zx(instance, "mobile", "setProvisioning", "account", acct, "AllowNonProvisionableDevices",
       "FALSE")
    c = client_for(instance, acct, "14.1")
    first, ack = c.provision()
    assert ack is None
    assert first.wbxml.findtext("Status") == "1"
    assert first.wbxml.findtext("Policies/Policy/Status") == "2"
    assert first.wbxml.find("Policies/Policy/PolicyKey") is None
    assert_served(c, policy_key=0)
    assert_served(c, policy_key=False)

    zx(instance, "mobile", "setProvisioning", "cos", cos, "FeatureMobilePolicyEnabled", "FALSE")
    zx(instance, "config", "set", "global", GLOBAL_SWITCH, "TRUE")
    try:
        assert_served(c, policy_key=0)
        first, _ = c.provision()
        assert first.wbxml.findtext("Policies/Policy/Status") == "2"
        # the account's own TRUE wins over the COS: MDM applies again
        zx(instance, "mobile", "setProvisioning", "account", acct,
           "zimbraFeatureMobilePolicyEnabled", "TRUE")
        assert_sent_to_provision(c, "14.1", 142, policy_key=0)
    finally:
        if before:
            zx(instance, "config", "set", "global", GLOBAL_SWITCH, before[0][0])
        else:
            zx(instance, "config", "unset", "global", GLOBAL_SWITCH)


# ---- policy changes -------------------------------------------------------------------------------

def test_policy_change_forces_provision(instance, mdm, cos):
    acct = in_cos(instance, cos)
    c = client_for(instance, acct, "14.1")
    c.provision()
    key = c.policy_key
    assert_served(c)
    # through setProvisioning, at the COS
    zx(instance, "mobile", "setProvisioning", "cos", cos, "MinDevicePasswordLength", "9")
    assert_sent_to_provision(c, "14.1", 143)
    first, _ = c.provision()
    assert doc_values(first).findtext("MinDevicePasswordLength") == "9"
    assert c.policy_key != key
    assert_served(c)
    # through zxsuite prov, at the account (any path that changes a value counts)
    zx(instance, "prov", "modifyAccount", acct, "zimbraMobilePolicyAllowWiFi", "0")
    assert_sent_to_provision(c, "14.1", 143)
    first, _ = c.provision()
    assert doc_values(first).findtext("AllowWiFi") == "0"
    assert_served(c)
    # a change of a switch alone does not: it sends nothing to the device
    zx(instance, "mobile", "setProvisioning", "account", acct, "AllowPartialProvisioning", "FALSE")
    assert_served(c)
    # nor does the list kept for user interfaces only
    zx(instance, "mobile", "setProvisioning", "account", acct, "ApprovedApplicationList",
       '"Notes":"9c1185a5c5e9fc54612808977ee8f548b2258d31"')
    assert_served(c)
    # removing a value (back to the COS/default) is a change too
    zx(instance, "mobile", "setProvisioning", "account", acct, "AllowWiFi", "")
    assert_sent_to_provision(c, "14.1", 143)
    # 12.1 gets 449 for the same reason
    c12 = client_for(instance, acct, "12.1")
    c12.provision()
    assert_served(c12)
    zx(instance, "mobile", "setProvisioning", "cos", cos, "AllowCamera", "0")
    assert_sent_to_provision(c12, "12.1", 143)


def test_refresh_interval(instance, mdm):
    acct = new_account(instance)
    zx(instance, "mobile", "setProvisioning", "account", acct, "RefreshInterval", "5")
    c = client_for(instance, acct, "14.1")
    c.provision()
    assert_served(c)
    sql(instance, "UPDATE devices SET provisioned_at = now() - interval '6 minutes' "
                  "WHERE account_id = %s", account_id(instance, acct))
    assert_sent_to_provision(c, "14.1", 143)
    c.provision()
    assert_served(c)


# ---- CLI ------------------------------------------------------------------------------------------

def test_cli_get_set_provisioning(instance, cos):
    acct = in_cos(instance, cos)
    got = zxj(instance, "mobile", "getProvisioning", "cos", cos)
    attrs = got["attributes"]
    assert got["level"] == "cos" and got["mdmEnabled"] in (True, False)
    assert attrs["zimbraMobilePolicyAllowBluetooth"] == {"value": "2", "isInherited": True,
                                                         "source": "default"}
    assert "zimbraFeatureMobilePolicyEnabled" in attrs
    assert "zimbraMobilePolicyAttachmentsEnabled" in attrs

    # short name, Zextras "true" for an allow value, full name, case-insensitive
    r = zxj(instance, "mobile", "setProvisioning", "cos", cos, "AllowDesktopSync", "false")
    assert r == {"level": "cos", "target": cos, "attribute": "zimbraMobilePolicyAllowDesktopSync",
                 "value": "0"}
    zxj(instance, "mobile", "setProvisioning", "account", acct.upper(),
        "zimbramobilepolicyallowdesktopsync", "true")
    one = zxj(instance, "mobile", "getProvisioning", "account", acct, "key", "AllowDesktopSync")
    assert one["attributes"] == {"zimbraMobilePolicyAllowDesktopSync": {
        "value": "1", "isInherited": False, "source": "account"}}
    one = zxj(instance, "mobile", "getProvisioning", "account", acct, "key",
              "zimbraMobilePolicyAllowCamera")
    assert one["attributes"]["zimbraMobilePolicyAllowCamera"]["source"] == "default"
    zxj(instance, "mobile", "setProvisioning", "account", acct, "AllowDesktopSync", "")
    one = zxj(instance, "mobile", "getProvisioning", "account", acct, "key", "AllowDesktopSync")
    assert one["attributes"]["zimbraMobilePolicyAllowDesktopSync"] == {
        "value": "0", "isInherited": True, "source": "cos"}
    # multi-valued
    zxj(instance, "mobile", "setProvisioning", "account", acct, "UnapprovedInROMApplication",
        "a.exe,b.exe")
    one = zxj(instance, "mobile", "getProvisioning", "account", acct, "key",
              "UnapprovedInROMApplication")
    assert one["attributes"]["zimbraMobilePolicyUnapprovedInROMApplication"]["value"] == [
        "a.exe", "b.exe"]
    # human output: key value
    out = zx(instance, "mobile", "getProvisioning", "account", acct, "key", "AllowBluetooth").stdout
    assert "zimbraMobilePolicyAllowBluetooth" in out and "2" in out

    # audit rows of every change
    rows = sql(instance, "SELECT action, account, details FROM admin_audit WHERE details LIKE %s "
                         "ORDER BY id", "%" + cos + "%")
    assert rows and all(r[0] == "setProvisioning" for r in rows)
    assert rows[0][2] == "cos %s: zimbraMobilePolicyAllowDesktopSync = false" % cos
    rows = sql(instance, "SELECT action, details FROM admin_audit WHERE account = %s ORDER BY id",
               acct)
    assert [r[0] for r in rows] == ["setProvisioning"] * 3
    assert rows[1][1].endswith("zimbraMobilePolicyAllowDesktopSync = (removed)")


def test_cli_provisioning_errors(instance, cos):
    acct = new_account(instance)
    assert "no such account" in zx_fails(instance, "mobile", "getProvisioning", "account",
                                         "nobody@nowhere.test")
    assert "no such COS" in zx_fails(instance, "mobile", "getProvisioning", "cos", "nocos-x")
    assert "unknown level" in zx_fails(instance, "mobile", "getProvisioning", "domain", "x.test")
    assert "unknown provisioning key" in zx_fails(instance, "mobile", "getProvisioning",
                                                  "account", acct, "key", "AllowNothing")
    assert "unknown provisioning key" in zx_fails(instance, "mobile", "setProvisioning",
                                                  "account", acct, "AllowNothing", "1")
    # not a policy attribute, even though it is an attribute
    assert "unknown provisioning key" in zx_fails(instance, "mobile", "setProvisioning",
                                                  "account", acct, "abqMode", "Strict")
    assert "no such account" in zx_fails(instance, "mobile", "setProvisioning", "account",
                                         "nobody@nowhere.test", "AllowCamera", "0")
    assert "no such COS" in zx_fails(instance, "mobile", "setProvisioning", "cos", "nocos-x",
                                     "AllowCamera", "0")
    msg = zx_fails(instance, "mobile", "setProvisioning", "account", acct, "AllowCamera", "7")
    assert "AllowCamera" in msg
    zx_fails(instance, "mobile", "setProvisioning", "account", acct, "MinDevicePasswordLength",
             "many")
    # the global switch is not per account
    assert "global" in zx_fails(instance, "mobile", "setProvisioning", "account", acct,
                                GLOBAL_SWITCH, "TRUE")
    zx_fails(instance, "mobile", "setProvisioning", "account", acct, "AllowCamera")
    # nothing was written, nothing audited
    assert sql(instance, "SELECT count(*) FROM admin_audit WHERE account = %s", acct) == [["0"]]
    assert sql(instance, "SELECT count(*) FROM config_values WHERE level = 'account' AND "
                         "target = %s AND name LIKE 'zimbramobilepolicy%%'",
               account_id(instance, acct)) == [["0"]]


def test_policy_change_answers_a_waiting_ping(instance, mdm):
    """setProvisioning NOTIFYs the accounts concerned: a waiting Ping of a provisioned device
    answers at once with 143."""
    import time
    from syncutil import Device, held_ping
    from syncutil import new_account as new_sync_account
    acct = new_sync_account(instance)
    dev = Device(instance, acct, protocol="14.1")
    dev.c.provision()
    assert dev.c.policy_key
    inbox = dev.folder("Inbox")
    dev.sync("Inbox", key="0")
    dev.sync("Inbox")
    t, out = held_ping(dev, inbox)
    time.sleep(1.0)
    assert t.is_alive(), out
    zx(instance, "mobile", "setProvisioning", "account", acct, "AllowBrowser", "0")
    t.join(30)
    assert not t.is_alive()
    assert out["r"].status == 200 and out["r"].wbxml.findtext("Status") == "143"
    assert out["took"] < 20
    dev.close()
