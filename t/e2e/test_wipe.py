"""Remote wipe (spec 4.2, [MS-ASPROV] 3.2.5.1.2): zxsuite mobile doWipeDevice (explained without
confirm, requested with confirm true, account_only true for 16.1), the device sent into
Provision by any other command (14.0+: status 140; 12.1: HTTP 449), the RemoteWipe /
AccountOnlyRemoteWipe directive, the acknowledgement moving the device to "wipe done" after
which it is served nothing but the directive, a failed wipe, doCancelWipeDevice, a waiting Ping
answered at once, the audit rows, and the CLI's errors.  MDM stays off: a wipe does not need
it (one test turns it on to show the wipe wins over the policy key)."""

import time

import pytest

from mailtools import account_id, client_for, new_account, sql, zx, zx_fails, zxj  # noqa: F401
from syncutil import Device, held_ping
from syncutil import new_account as new_sync_account

PROV = '<Provision xmlns="Provision:">%s</Provision>'


def probe(c, **kw):
    """A command with no sync state of its own (Settings UserInformation Get): the gates answer
    it like any other."""
    return c.post("Settings", '<Settings xmlns="Settings:"><UserInformation><Get/>'
                              '</UserInformation></Settings>', **kw)


def assert_served(c):
    r = probe(c)
    assert r.status == 200 and r.wbxml.findtext("Status") == "1", r


def assert_sent_to_provision(c, version):
    r = probe(c)
    if version == "12.1":
        assert r.status == 449 and not r.body, r
    else:
        assert r.status == 200, r
        assert r.wbxml.name == "Settings" and r.wbxml.findtext("Status") == "140"


def wipe_state(instance, acct, device_id):
    return sql(instance, "SELECT wipe_status, wipe_account_only, wipe_requested_at IS NOT NULL, "
                         "wipe_requested_by, wipe_done_at IS NOT NULL FROM devices "
                         "WHERE account_id = %s AND device_id = %s",
               account_id(instance, acct), device_id)[0]


def audit(instance, acct):
    return sql(instance, "SELECT action, actor, device_id, details FROM admin_audit "
                         "WHERE account = %s ORDER BY id", acct)


def new_device(instance, version):
    acct = new_account(instance)
    c = client_for(instance, acct, version)
    assert_served(c)                     # registers the device (and its protocol)
    return acct, c


@pytest.mark.parametrize("version", ["12.1", "14.1", "16.1"])
def test_wipe_through_acknowledgement(instance, version):
    acct, c = new_device(instance, version)
    # without confirm: explained, nothing done
    r = zxj(instance, "mobile", "doWipeDevice", acct, c.device_id)
    assert r["wiped"] is False and "confirm true" in r["message"]
    assert "factory settings" in r["message"]
    assert wipe_state(instance, acct, c.device_id)[0] == "0"
    assert audit(instance, acct) == []
    assert_served(c)

    r = zxj(instance, "mobile", "doWipeDevice", acct, c.device_id, "confirm", "true")
    assert r["wiped"] is True and r["account_only"] is False
    st = wipe_state(instance, acct, c.device_id)
    assert st[:3] == ["1", "f", "t"] and st[3] and st[4] == "f"
    # every other command sends the device into Provision
    assert_sent_to_provision(c, version)
    # the empty Provision a device sends then, and a full initial one, get the directive
    for body in ("", "<Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType>"
                     "</Policy></Policies>"):
        r = c.post("Provision", PROV % body)
        assert r.status == 200
        assert r.wbxml.findtext("Status") == "1"
        assert r.wbxml.find("RemoteWipe") is not None
        assert r.wbxml.find("RemoteWipe").is_empty()
        assert r.wbxml.find("Policies") is None
        assert r.wbxml.find("AccountOnlyRemoteWipe") is None
    # the acknowledgement
    r = c.post("Provision", PROV % "<RemoteWipe><Status>1</Status></RemoteWipe>")
    assert r.status == 200
    assert r.wbxml.findtext("Status") == "1" and r.wbxml.find("RemoteWipe") is None
    st = wipe_state(instance, acct, c.device_id)
    assert st[0] == "2" and st[4] == "t"
    # afterwards: nothing but the directive, again and again
    assert_sent_to_provision(c, version)
    r = c.post("Provision", PROV % "")
    assert r.wbxml.find("RemoteWipe") is not None
    r = c.post("Provision", PROV % "<RemoteWipe><Status>1</Status></RemoteWipe>")
    assert r.wbxml.findtext("Status") == "1"
    rows = audit(instance, acct)
    assert [(a[0], a[2]) for a in rows] == [("doWipeDevice", c.device_id),
                                             ("wipeAcknowledged", c.device_id)]
    assert rows[0][1] == st[3] and rows[1][1] == "server"
    assert rows[0][3] == "remote wipe requested"
    # a wiped device cannot be wiped again or cancelled
    assert "already wiped" in zx_fails(instance, "mobile", "doWipeDevice", acct, c.device_id,
                                       "confirm", "true")
    assert "cannot be cancelled" in zx_fails(instance, "mobile", "doCancelWipeDevice", acct,
                                             c.device_id)


def test_account_only_wipe(instance):
    acct, c = new_device(instance, "16.1")
    r = zxj(instance, "mobile", "doWipeDevice", acct, c.device_id, "account_only", "true")
    assert r["wiped"] is False and "AccountOnlyRemoteWipe" in r["message"]
    r = zxj(instance, "mobile", "doWipeDevice", acct, c.device_id, "confirm", "true",
            "account_only", "true")
    assert r["wiped"] is True and r["account_only"] is True
    assert wipe_state(instance, acct, c.device_id)[:2] == ["1", "t"]
    assert_sent_to_provision(c, "16.1")
    r = c.post("Provision", PROV % "")
    assert r.wbxml.find("AccountOnlyRemoteWipe") is not None
    assert r.wbxml.find("RemoteWipe") is None
    r = c.post("Provision", PROV % "<AccountOnlyRemoteWipe><Status>1</Status>"
                                   "</AccountOnlyRemoteWipe>")
    assert r.status == 200 and r.wbxml.findtext("Status") == "1"
    assert wipe_state(instance, acct, c.device_id)[0] == "2"
    assert_sent_to_provision(c, "16.1")
    assert [a[3] for a in audit(instance, acct)] == ["account-only remote wipe requested",
                                                     "account-only remote wipe done"]
    # the same device speaking 14.1 cannot receive it: refused outright
    c14 = client_for(instance, acct, "14.1", device_id=c.device_id)
    assert probe(c14).status == 403


def test_account_only_needs_16_1(instance):
    acct, c = new_device(instance, "14.1")
    msg = zx_fails(instance, "mobile", "doWipeDevice", acct, c.device_id, "confirm", "true",
                   "account_only", "true")
    assert "16.1" in msg
    assert wipe_state(instance, acct, c.device_id)[0] == "0"
    assert_served(c)


def test_failed_wipe_is_repeated(instance):
    acct, c = new_device(instance, "14.1")
    zx(instance, "mobile", "doWipeDevice", acct, c.device_id, "confirm", "true")
    r = c.post("Provision", PROV % "<RemoteWipe><Status>2</Status></RemoteWipe>")
    assert r.wbxml.findtext("Status") == "2" and r.wbxml.find("RemoteWipe") is not None
    assert wipe_state(instance, acct, c.device_id)[0] == "1"
    r = c.post("Provision", PROV % "<RemoteWipe><Status>7</Status></RemoteWipe>")
    assert r.wbxml.findtext("Status") == "2"
    assert wipe_state(instance, acct, c.device_id)[0] == "1"


def test_cancel(instance):
    acct, c = new_device(instance, "14.1")
    assert "no remote wipe" in zx_fails(instance, "mobile", "doCancelWipeDevice", acct,
                                        c.device_id)
    zx(instance, "mobile", "doWipeDevice", acct, c.device_id, "confirm", "true")
    assert "already pending" in zx_fails(instance, "mobile", "doWipeDevice", acct, c.device_id,
                                         "confirm", "true")
    assert_sent_to_provision(c, "14.1")
    r = zxj(instance, "mobile", "doCancelWipeDevice", acct, c.device_id)
    assert "cancelled" in r["message"]
    st = wipe_state(instance, acct, c.device_id)
    assert st[0] == "0" and st[2] == "f" and st[3] == ""
    assert_served(c)
    r = c.post("Provision", PROV % "")
    assert r.wbxml.findtext("Status") == "1" and r.wbxml.find("RemoteWipe") is None
    # an acknowledgement that comes after the cancel records nothing
    r = c.post("Provision", PROV % "<RemoteWipe><Status>1</Status></RemoteWipe>")
    assert r.wbxml.findtext("Status") == "1"
    assert wipe_state(instance, acct, c.device_id)[0] == "0"
    actions = [a[0] for a in audit(instance, acct)]
    assert actions == ["doWipeDevice", "doCancelWipeDevice"]
    assert "cancelled" in audit(instance, acct)[1][3]


def test_wipe_wins_over_policy(instance):
    """With MDM on and a provisioned device, the wipe comes first."""
    before = sql(instance, "SELECT value FROM config_values WHERE level = 'global' AND "
                           "name = 'zxmobile_devicemanagementenabled'")
    zx(instance, "config", "set", "global", "ZxMobile_DeviceManagementEnabled", "TRUE")
    try:
        acct, c = new_device(instance, "14.1")
        c.provision()
        assert c.policy_key
        assert_served(c)
        zx(instance, "mobile", "doWipeDevice", acct, c.device_id, "confirm", "true")
        assert_sent_to_provision(c, "14.1")
        first, ack = c.provision()
        assert ack is None and first.wbxml.find("RemoteWipe") is not None
    finally:
        if before:
            zx(instance, "config", "set", "global", "ZxMobile_DeviceManagementEnabled",
               before[0][0])
        else:
            zx(instance, "config", "unset", "global", "ZxMobile_DeviceManagementEnabled")


def test_waiting_ping_answers_the_wipe(instance):
    acct = new_sync_account(instance)
    dev = Device(instance, acct, protocol="14.1")
    inbox = dev.folder("Inbox")
    dev.sync("Inbox", key="0")
    dev.sync("Inbox")
    t, out = held_ping(dev, inbox)
    time.sleep(1.0)
    assert t.is_alive(), out
    zx(instance, "mobile", "doWipeDevice", acct, dev.device_id, "confirm", "true")
    t.join(30)
    assert not t.is_alive()
    r = out["r"]
    assert r.status == 200 and r.wbxml.name == "Ping"
    assert r.wbxml.findtext("Status") == "140"
    assert out["took"] < 20
    dev.close()


def test_cli_errors(instance):
    acct, c = new_device(instance, "14.1")
    assert "no such account" in zx_fails(instance, "mobile", "doWipeDevice",
                                         "nobody@nowhere.test", c.device_id)
    msg = zx_fails(instance, "mobile", "doWipeDevice", acct, "NoSuchDevice1")
    assert "NoSuchDevice1" in msg or "device" in msg
    zx_fails(instance, "mobile", "doWipeDevice", acct, "NoSuchDevice1", "confirm", "true")
    assert "true or false" in zx_fails(instance, "mobile", "doWipeDevice", acct, c.device_id,
                                       "confirm", "maybe")
    zx_fails(instance, "mobile", "doWipeDevice", acct, c.device_id, "force", "true")
    zx_fails(instance, "mobile", "doWipeDevice", acct)
    assert "no such account" in zx_fails(instance, "mobile", "doCancelWipeDevice",
                                         "nobody@nowhere.test", c.device_id)
    zx_fails(instance, "mobile", "doCancelWipeDevice", acct, "NoSuchDevice1")
    assert wipe_state(instance, acct, c.device_id)[0] == "0"
    assert audit(instance, acct) == []
    # human output of a request
    out = zx(instance, "mobile", "doWipeDevice", acct, c.device_id, "confirm", "true").stdout
    assert "remote wipe requested" in out
