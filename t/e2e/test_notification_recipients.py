"""ZxMobile_NotificationRecipients read once (libzxsync/mta/recipients.c, zxsync/recipients.h):
the ABQ notification checks that there are administrators (abq/abq.c) and the notification
mails them (mta/notification.c); both now see the same list.  Before, 'a@x,b@y' was two
administrators for the first and none for the second, so the mail was never sent.

The format: each value (line) of the multi-valued attribute is a list separated by commas,
semicolons or blanks; <addr> is an address, anything else (a display name, a word without
'@', an option-like '-x@y') is skipped; the first address is the sender."""

import time
import uuid

import pytest

import syncutil
from mailtools import install_sendmail, uninstall_sendmail
from syncutil import Device

PASSWORD = syncutil.PASSWORD


def zx(instance, *args, check=True):
    return syncutil.zx(instance, *args, check=check)


def sql(instance, query):
    return [line.split("|") for line in instance.psql(query).splitlines() if line != ""]


def new_account(instance):
    dom = "rcpt%s.test" % uuid.uuid4().hex[:10]
    zx(instance, "prov", "createDomain", dom)
    name = "user@%s" % dom
    zx(instance, "prov", "createAccount", name, PASSWORD, "zimbraFeatureMobileSyncEnabled",
       "TRUE", "abqMode", "Interactive")
    return name


def quarantine_one(instance):
    acct = new_account(instance)
    d = Device(instance, acct, protocol="14.1", device_id="rcpt" + uuid.uuid4().hex[:12])
    d.foldersync("0")
    return d


def wait_sent(fake, n, timeout=5.0):
    deadline = time.time() + timeout
    while True:
        sent = fake.sent()
        if len(sent) >= n or time.time() > deadline:
            return sent
        time.sleep(0.05)


@pytest.fixture
def notify(instance):
    saved = {}
    for a in ("abqNotificationsInterval", "ZxMobile_NotificationRecipients"):
        rows = sql(instance, "SELECT value FROM config_values WHERE level = 'global' AND "
                             "name = lower('%s')" % a)
        saved[a] = rows[0][0] if rows else None
    fake, conf = install_sendmail(instance)

    def arm(recipients):
        """New recipients; a quarantine from now on is news, due at once."""
        fake.clear()
        instance.psql("UPDATE devices SET abq_notified = true WHERE abq_status = 'Q'")
        instance.psql("UPDATE abq_state SET last_notification = NULL")
        zx(instance, "config", "set", "global", "ZxMobile_NotificationRecipients", recipients)
        zx(instance, "mobile", "ABQ", "setNotificationInterval", "3s")
    yield fake, arm
    uninstall_sendmail(instance, fake, conf)
    for a, v in saved.items():
        if v is None:
            zx(instance, "config", "unset", "global", a, check=False)
        else:
            zx(instance, "config", "set", "global", a, v)


def last_abq_notification(instance):
    rows = sql(instance, "SELECT mail_status FROM notifications WHERE source = 'abq' "
                         "ORDER BY id DESC LIMIT 1")
    return rows[0][0] if rows else None


def test_commas_spaces_semicolons_and_invalid_pieces(instance, notify):
    fake, arm = notify
    arm("Admin <a@adm.test>, b@adm.test;c@adm.test\n"
        "not-an-address  -oQ@adm.test d@adm.test ; B@ADM.TEST")
    d = quarantine_one(instance)
    sent = wait_sent(fake, 1)
    assert len(sent) == 1, sent
    # the first address is the sender; each valid one once, in order; nothing else
    assert sent[0]["argv"][-6:] == ["-f", "a@adm.test", "a@adm.test", "b@adm.test",
                                    "c@adm.test", "d@adm.test"], sent[0]["argv"]
    mail = sent[0]["stdin"]
    assert "From: a@adm.test\n" in mail
    assert "To: a@adm.test, b@adm.test, c@adm.test, d@adm.test\n" in mail
    assert d.device_id in mail
    assert last_abq_notification(instance) == "sent"


def test_the_issue_example_a_comma_list_in_one_value(instance, notify):
    """'a@x,b@y': counted as two by the ABQ check, and mailed to both."""
    fake, arm = notify
    arm("first@adm.test,second@adm.test")
    quarantine_one(instance)
    sent = wait_sent(fake, 1)
    assert len(sent) == 1, sent
    assert sent[0]["argv"][-3:] == ["first@adm.test", "first@adm.test", "second@adm.test"]
    assert last_abq_notification(instance) == "sent"


def test_no_valid_address_is_nobody_for_both(instance, notify):
    """Only invalid pieces: no administrators for the ABQ check either, so no notification is
    recorded and the device stays news for when there is someone to tell."""
    fake, arm = notify
    before = sql(instance, "SELECT count(*) FROM notifications WHERE source = 'abq'")
    arm("admin, -x@adm.test <> \"q\"@adm.test")
    d = quarantine_one(instance)
    time.sleep(1.0)
    assert fake.sent() == []
    assert sql(instance, "SELECT count(*) FROM notifications WHERE source = 'abq'") == before
    assert sql(instance, "SELECT abq_notified FROM devices WHERE device_id = '%s'"
               % d.device_id) == [["f"]]
