"""Provisioning at protocol 2.5 ([MS-ASPROV] 2.2.2.24.2, 2.2.2.43; [MS-ASHTTP] 449): the
policy as the WAP provisioning document (PolicyType MS-WAP-Provisioning-XML) inside
provision:Data, built from the same effective policy as the EASProvisionDoc of 12.0+; the key
in X-MS-PolicyKey, HTTP 449 for a request without a valid key, the acknowledgement, then
commands pass; each PolicyType only at its own versions (Policy Status 3 otherwise); remote
wipe of a 2.5 device through the RemoteWipe directive and its acknowledgement, recorded as done
(zxsuite mobile getDeviceInfo).  A 12.1 device of the same account still gets
MS-EAS-Provisioning-WBXML."""

import xml.etree.ElementTree as ET

import pytest

from mailtools import account_id, client_for, mdm, new_account, sql, zx, zxj  # noqa: F401

WAP = "MS-WAP-Provisioning-XML"
EAS = "MS-EAS-Provisioning-WBXML"
AE_KEY = r"HKLM\Comm\Security\Policy\LASSD\AE\{50C13377-C66D-400C-889E-C316FC4AB374}"
LASSD_KEY = r"HKLM\Comm\Security\Policy\LASSD"
LAP_PW_KEY = r"HKLM\Comm\Security\Policy\LASSD\LAP\lap_pw"
PROV = '<Provision xmlns="Provision:">%s</Provision>'
FOLDERSYNC = '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>'


def foldersync(c, **kw):
    return c.post("FolderSync", FOLDERSYNC, **kw)


def assert_449(r):
    assert r.status == 449, r
    assert not r.body


def assert_served(c, **kw):
    r = foldersync(c, **kw)
    assert r.status == 200, r
    assert r.wbxml.name == "FolderSync" and r.wbxml.findtext("Status") == "1"
    return r


def parms(data):
    """The WAP document of provision:Data -> {characteristic path: {parm: value}}; also checks
    that it parses and that it holds only characteristic and parm elements."""
    root = ET.fromstring(data)
    assert root.tag == "wap-provisioningdoc"
    out = {}

    def walk(node, path):
        for child in node:
            assert child.tag in ("characteristic", "parm"), child.tag
            if child.tag == "parm":
                d = out.setdefault(path, {})
                assert child.get("name") not in d, "parm %s twice" % child.get("name")
                d[child.get("name")] = child.get("value")
            else:
                walk(child, path + (child.get("type"),))
    walk(root, ())
    return out


def device_row(instance, acct, device_id):
    return sql(instance, "SELECT policy_key, policy_key_temp, policy_ack_status, protocol "
                         "FROM devices WHERE account_id = %s AND device_id = %s",
               account_id(instance, acct), device_id)[0]


def test_provision_and_wipe_at_25(instance, mdm):
    acct = new_account(instance)
    zx(instance, "mobile", "setProvisioning", "account", acct, "MinDevicePasswordLength", "6")
    zx(instance, "mobile", "setProvisioning", "account", acct, "MaxInactivityTimeDeviceLock",
       "15")
    zx(instance, "mobile", "setProvisioning", "account", acct,
       "MaxDevicePasswordFailedAttempts", "8")
    zx(instance, "mobile", "setProvisioning", "account", acct,
       "AlphanumericDevicePasswordRequired", "TRUE")
    c = client_for(instance, acct, "2.5")

    # a request with key 0 (a device that can provision, not yet provisioned): 449
    assert_449(foldersync(c, policy_key=0))

    # the 12.x format is not the one of 2.5: Policy Status 3, no key
    first, ack = c.provision(policy_type=EAS)
    assert ack is None and first.status == 200
    assert first.wbxml.findtext("Status") == "1"
    assert first.wbxml.findtext("Policies/Policy/Status") == "3"
    assert first.wbxml.find("Policies/Policy/PolicyKey") is None

    # the initial request: the WAP document with a temporary key
    first, ack = c.provision(policy_type=WAP)
    assert first.status == 200, first
    root = first.wbxml
    assert root.name == "Provision" and root.findtext("Status") == "1"
    assert root.findtext("Policies/Policy/PolicyType") == WAP
    assert root.findtext("Policies/Policy/Status") == "1"
    temp = int(root.findtext("Policies/Policy/PolicyKey"))
    assert 0 < temp < 2 ** 32
    assert root.find("Policies/Policy/Data/EASProvisionDoc") is None
    doc = parms(root.findtext("Policies/Policy/Data"))
    assert doc[("SecurityPolicy",)] == {"4131": "0"}              # a password is required
    assert doc[("Registry", AE_KEY)] == {"AEFrequencyType": "1", "AEFrequencyValue": "15"}
    assert doc[("Registry", LASSD_KEY)] == {"DeviceWipeThreshold": "8"}
    assert doc[("Registry", LAP_PW_KEY)] == {"MinimumPasswordLength": "6",
                                             "PasswordComplexity": "0"}

    # the acknowledgement: the final key, no Data
    assert ack is not None and ack.status == 200
    assert ack.wbxml.findtext("Status") == "1"
    assert ack.wbxml.findtext("Policies/Policy/PolicyType") == WAP
    assert ack.wbxml.findtext("Policies/Policy/Status") == "1"
    assert ack.wbxml.find("Policies/Policy/Data") is None
    final = int(ack.wbxml.findtext("Policies/Policy/PolicyKey"))
    assert final != temp and c.policy_key == final
    row = device_row(instance, acct, c.device_id)
    assert row[0] == str(final) and row[1] == "" and row[2] == "1" and row[3] == "2.5"

    # commands pass with the key; a wrong key is 449 again
    assert_served(c)
    assert_449(foldersync(c, policy_key=(final % 4000000000) + 1))

    # a policy change: 449, and the new document carries the new value
    zx(instance, "mobile", "setProvisioning", "account", acct, "MinDevicePasswordLength", "7")
    assert_449(foldersync(c))
    first, ack = c.provision(policy_type=WAP)
    assert parms(first.wbxml.findtext("Policies/Policy/Data"))[
        ("Registry", LAP_PW_KEY)]["MinimumPasswordLength"] == "7"
    assert c.policy_key == int(ack.wbxml.findtext("Policies/Policy/PolicyKey"))
    assert_served(c)

    # a 12.1 device of the same account: MS-EAS-Provisioning-WBXML, and not the WAP format
    d = client_for(instance, acct, "12.1")
    first, ack = d.provision(policy_type=WAP)
    assert ack is None and first.wbxml.findtext("Policies/Policy/Status") == "3"
    first, ack = d.provision()
    assert first.wbxml.findtext("Policies/Policy/PolicyType") == EAS
    easdoc = first.wbxml.find("Policies/Policy/Data/EASProvisionDoc")
    assert easdoc is not None
    assert easdoc.findtext("MinDevicePasswordLength") == "7"
    assert easdoc.findtext("MaxInactivityTimeDeviceLock") == "900"
    assert easdoc.findtext("MaxDevicePasswordFailedAttempts") == "8"
    assert easdoc.findtext("AlphanumericDevicePasswordRequired") == "1"
    assert ack.wbxml.findtext("Policies/Policy/Status") == "1" and d.policy_key
    assert_served(d)

    # remote wipe of the 2.5 device
    r = zxj(instance, "mobile", "doWipeDevice", acct, c.device_id, "confirm", "true")
    assert r["wiped"] is True
    assert zxj(instance, "mobile", "getDeviceInfo", acct, c.device_id)["wipe"]["status"] == \
        "requested"
    assert_449(foldersync(c))                        # the valid key does not help now
    # the empty Provision a device sends after that ([MS-ASPROV] 3.1.5.1.1), and a full
    # initial request, both get the directive
    r = c.post("Provision", PROV % "", policy_key=0)
    assert r.status == 200 and r.wbxml.findtext("Status") == "1"
    assert r.wbxml.find("RemoteWipe") is not None and r.wbxml.find("RemoteWipe").is_empty()
    first, ack = c.provision(policy_type=WAP)
    assert ack is None and first.status == 200
    assert first.wbxml.findtext("Status") == "1"
    assert first.wbxml.find("RemoteWipe") is not None
    assert first.wbxml.find("Policies") is None
    r = c.post("Provision", PROV % "<RemoteWipe><Status>1</Status></RemoteWipe>")
    assert r.status == 200
    assert r.wbxml.findtext("Status") == "1" and r.wbxml.find("RemoteWipe") is None
    info = zxj(instance, "mobile", "getDeviceInfo", acct, c.device_id)
    assert info["wipe"]["status"] == "done"
    assert sql(instance, "SELECT wipe_status, wipe_done_at IS NOT NULL FROM devices "
                         "WHERE account_id = %s AND device_id = %s",
               account_id(instance, acct), c.device_id)[0] == ["2", "t"]
    # afterwards the wiped device gets nothing but the directive
    assert_449(foldersync(c))
    # the 12.1 device of the account is not touched
    assert_served(d)


def test_25_without_a_key_header(instance, mdm):
    """A 2.5 device that sends no X-MS-PolicyKey does not know Provision: served without a
    policy while non-provisionable devices are allowed (default), refused (403) otherwise."""
    acct = new_account(instance)
    c = client_for(instance, acct, "2.5")
    assert_served(c, policy_key=False)
    zx(instance, "mobile", "setProvisioning", "account", acct, "AllowNonProvisionableDevices",
       "FALSE")
    r = foldersync(c, policy_key=False)
    assert r.status == 403, r
    # the same device provisions as soon as it sends a key
    assert_449(foldersync(c, policy_key=0))
    c.provision(policy_type=WAP)
    assert c.policy_key
    assert_served(c)


def test_25_password_off_and_mdm_off(instance, mdm):
    acct = new_account(instance)
    zx(instance, "mobile", "setProvisioning", "account", acct, "DevicePasswordEnabled", "FALSE")
    c = client_for(instance, acct, "2.5")
    first, _ = c.provision(policy_type=WAP)
    doc = parms(first.wbxml.findtext("Policies/Policy/Data"))
    assert doc == {("SecurityPolicy",): {"4131": "1"}}
    # MDM off for the account: no policy (Policy Status 2), commands pass without a key
    other = new_account(instance)
    zx(instance, "mobile", "setProvisioning", "account", other, "FeatureMobilePolicyEnabled",
       "FALSE")
    e = client_for(instance, other, "2.5")
    first, ack = e.provision(policy_type=WAP)
    assert ack is None and first.wbxml.findtext("Policies/Policy/Status") == "2"
    assert_served(e, policy_key=0)


def test_25_ack_with_wrong_key(instance, mdm):
    acct = new_account(instance)
    c = client_for(instance, acct, "2.5")
    c.provision(policy_type=WAP)
    r = c.post("Provision", PROV % ("<Policies><Policy><PolicyType>%s</PolicyType>"
                                    "<PolicyKey>%d</PolicyKey><Status>1</Status></Policy>"
                                    "</Policies>" % (WAP, (c.policy_key % 4000000000) + 1)))
    assert r.wbxml.findtext("Policies/Policy/Status") == "5"
    assert r.wbxml.find("Policies/Policy/PolicyKey") is None
