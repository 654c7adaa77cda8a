"""Contacts, Tasks and Notes through the sync engine (issue 15): the paths every class shares -
Add with ClientId, the other device's Add, Change with and without Supported (ghosting), Delete,
the class row following a move - checked on the decoded answers and the stored rows."""

import pytest

from mailtools import PASSWORD, account, sql  # noqa: F401
from syncutil import Device, ops

C = 'xmlns:c="Contacts" xmlns:c2="Contacts2"'


def add(cid, body):
    return '<Add><ClientId>%s</ClientId><ApplicationData>%s</ApplicationData></Add>' % (cid, body)


def contact_props(col_item):
    ad = col_item.find("ApplicationData")
    return {c.name: c.text for c in ad.children} if ad is not None else {}


@pytest.fixture
def devices(instance, account):
    made = []

    def make(version="14.1"):
        d = Device(instance, account, protocol=version, password=PASSWORD)
        d.foldersync()
        made.append(d)
        return d
    yield make
    for d in made:
        d.close()


def test_contact_add_reaches_the_other_device(instance, account, devices):
    a, b = devices(), devices()
    for d in (a, b):
        d.sync_all("Contacts")
    col = a.sync("Contacts", commands=add("c1", '<FirstName xmlns="Contacts:">Zoë</FirstName>'
                                               '<LastName xmlns="Contacts:">Ålund</LastName>'
                                               '<NickName xmlns="Contacts2:">Zo</NickName>'))
    r = col.findall("Responses/Add")
    assert len(r) == 1 and r[0].findtext("Status") == "1" and r[0].findtext("ClientId") == "c1"
    sid = r[0].findtext("ServerId")
    assert sid
    rows = sql(instance, "SELECT first_name, last_name, nickname FROM contacts WHERE item_id = %s",
               sid)
    assert rows == [["Zoë", "Ålund", "Zo"]]
    assert ops(a.sync("Contacts")) == []
    got = b.sync("Contacts")
    assert ops(got) == [("Add", sid)]
    props = contact_props(got.find("Commands/Add"))
    assert props["FirstName"] == "Zoë" and props["LastName"] == "Ålund"
    assert props["NickName"] == "Zo"
