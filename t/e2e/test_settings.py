"""Settings ([MS-ASCMD] 2.2.1.18) at 12.1, 14.1 and 16.1: UserInformation, Oof Get/Set
(stored per account), DeviceInformation and DevicePassword (stored on the device record),
RightsManagementInformation, and the status codes of 2.2.3.177.15."""

import pytest

from mailtools import VERSIONS, account, account_id, client_for, sql  # noqa: F401

NS = 'xmlns="Settings:"'


def settings(c, inner):
    r = c.post("Settings", "<Settings %s>%s</Settings>" % (NS, inner))
    assert r.status == 200, r
    assert r.wbxml.name == "Settings"
    return r.wbxml


OOF_SET = """<Oof><Set><OofState>2</OofState>
  <StartTime>2030-07-01T08:00:00.000Z</StartTime><EndTime>2030-07-15T18:30:00.000Z</EndTime>
  <OofMessage><AppliesToInternal/><Enabled>1</Enabled>
    <ReplyMessage>Away &amp; back soon
see you</ReplyMessage><BodyType>Text</BodyType></OofMessage>
  <OofMessage><AppliesToExternalKnown/><Enabled>1</Enabled>
    <ReplyMessage>&lt;p&gt;On &lt;b&gt;holiday&lt;/b&gt;&lt;/p&gt;</ReplyMessage><BodyType>HTML</BodyType></OofMessage>
  <OofMessage><AppliesToExternalUnknown/><Enabled>0</Enabled></OofMessage>
</Set></Oof>"""


def oof_messages(get):
    out = {}
    for m in get.findall("OofMessage"):
        audience = [c.name for c in m.children if c.name.startswith("AppliesTo")]
        assert len(audience) == 1
        out[audience[0]] = (m.findtext("Enabled"), m.findtext("ReplyMessage"),
                            m.findtext("BodyType"))
    return out


@pytest.mark.parametrize("version", VERSIONS)
def test_user_information(instance, account, version):
    c = client_for(instance, account, version)
    doc = settings(c, "<UserInformation><Get/></UserInformation>")
    assert doc.findtext("Status") == "1"
    ui = doc.find("UserInformation")
    assert ui.findtext("Status") == "1"
    if version in ("12.1", "14.0"):
        # [MS-ASCMD] 2.2.3.57: EmailAddresses is a child of Get before 14.1
        assert [n.text for n in ui.findall("Get/EmailAddresses/SMTPAddress")] == [account]
        assert ui.find("Get/Accounts") is None
    else:
        acct = ui.findall("Get/Accounts/Account")
        assert len(acct) == 1
        # the primary account has no AccountId
        assert acct[0].find("AccountId") is None
        assert acct[0].findtext("UserDisplayName") == "Mail Tester"
        assert acct[0].findtext("EmailAddresses/PrimarySmtpAddress") == account
        assert [n.text for n in acct[0].findall("EmailAddresses/SMTPAddress")] == [account]


@pytest.mark.parametrize("version", VERSIONS)
def test_oof_set_then_get(instance, account, version):
    c = client_for(instance, account, version)
    # nothing stored yet: disabled, every audience off
    doc = settings(c, "<Oof><Get><BodyType>Text</BodyType></Get></Oof>")
    get = doc.find("Oof/Get")
    assert doc.findtext("Oof/Status") == "1"
    assert get.findtext("OofState") == "0"
    assert get.find("StartTime") is None
    assert set(oof_messages(get)) == {"AppliesToInternal", "AppliesToExternalKnown",
                                      "AppliesToExternalUnknown"}
    assert all(v[0] == "0" for v in oof_messages(get).values())

    doc = settings(c, OOF_SET)
    assert doc.findtext("Status") == "1"
    assert doc.findtext("Oof/Status") == "1"
    assert doc.find("Oof/Get") is None

    # stored per account: another device of the account sees it
    other = client_for(instance, account, version)
    get = settings(other, "<Oof><Get><BodyType>Text</BodyType></Get></Oof>").find("Oof/Get")
    assert get.findtext("OofState") == "2"
    assert get.findtext("StartTime") == "2030-07-01T08:00:00.000Z"
    assert get.findtext("EndTime") == "2030-07-15T18:30:00.000Z"
    msgs = oof_messages(get)
    assert msgs["AppliesToInternal"] == ("1", "Away & back soon\nsee you", "Text")
    enabled, text, btype = msgs["AppliesToExternalKnown"]
    assert enabled == "1" and btype == "Text"
    assert "holiday" in text and "<b>" not in text          # HTML asked for as text
    assert msgs["AppliesToExternalUnknown"][0] == "0"
    assert msgs["AppliesToExternalUnknown"][1] is None

    get = settings(other, "<Oof><Get><BodyType>HTML</BodyType></Get></Oof>").find("Oof/Get")
    msgs = oof_messages(get)
    assert msgs["AppliesToExternalKnown"] == ("1", "<p>On <b>holiday</b></p>", "HTML")
    assert msgs["AppliesToInternal"][1] == "Away &amp; back soon<br>see you"
    assert msgs["AppliesToInternal"][2] == "HTML"

    # global OOF: the window is not kept ([MS-ASCMD] 2.2.3.124); messages stay
    doc = settings(c, "<Oof><Set><OofState>1</OofState>"
                      "<StartTime>2031-01-01T00:00:00.000Z</StartTime>"
                      "<EndTime>2031-01-02T00:00:00.000Z</EndTime></Set></Oof>")
    assert doc.findtext("Oof/Status") == "1"
    get = settings(c, "<Oof><Get><BodyType>Text</BodyType></Get></Oof>").find("Oof/Get")
    assert get.findtext("OofState") == "1"
    assert get.find("StartTime") is None and get.find("EndTime") is None
    assert oof_messages(get)["AppliesToInternal"][0] == "1"
    rows = sql(instance, "SELECT state, start_time IS NULL FROM account_oof WHERE account_id = %s",
               account_id(instance, account))
    assert rows == [["1", "t"]]

    # disable
    settings(c, "<Oof><Set><OofState>0</OofState></Set></Oof>")
    get = settings(c, "<Oof><Get><BodyType>Text</BodyType></Get></Oof>").find("Oof/Get")
    assert get.findtext("OofState") == "0"


@pytest.mark.parametrize("inner,status", [
    # [MS-ASCMD] 2.2.3.17: BodyType is required in an Oof Get
    ("<Oof><Get/></Oof>", "2"),
    ("<Oof><Get><BodyType>RTF</BodyType></Get></Oof>", "2"),
    ("<Oof/>", "2"),
    ("<Oof><Set><OofState>3</OofState></Set></Oof>", "5"),
    ("<Oof><Set><OofState>2</OofState></Set></Oof>", "5"),
    ("<Oof><Set><OofState>2</OofState><StartTime>yesterday</StartTime>"
     "<EndTime>2030-01-01T00:00:00.000Z</EndTime></Set></Oof>", "5"),
    ("<Oof><Set><OofState>2</OofState><StartTime>2030-01-02T00:00:00.000Z</StartTime>"
     "<EndTime>2030-01-01T00:00:00.000Z</EndTime></Set></Oof>", "5"),
    ("<Oof><Set><OofMessage><Enabled>1</Enabled></OofMessage></Set></Oof>", "2"),
    ("<Oof><Set><OofMessage><AppliesToInternal/><ReplyMessage>x</ReplyMessage></OofMessage>"
     "</Set></Oof>", "2"),
    ("<Oof><Set><OofMessage><AppliesToInternal/><Enabled>yes</Enabled></OofMessage></Set></Oof>",
     "5"),
])
def test_oof_errors(instance, account, inner, status):
    c = client_for(instance, account, "14.1")
    doc = settings(c, inner)
    assert doc.findtext("Status") == "1"
    assert doc.findtext("Oof/Status") == status
    assert doc.find("Oof/Get") is None
    # nothing was stored by a refused Set
    assert sql(instance, "SELECT count(*) FROM account_oof WHERE account_id = %s",
               account_id(instance, account)) == [["0"]]


def device_row(instance, account, device_id):
    rows = sql(instance, "SELECT info_model, info_imei, info_friendly_name, info_os, "
                         "info_os_language, info_phone_number, info_user_agent, "
                         "info_enable_outbound_sms, info_mobile_operator, recovery_password "
                         "FROM devices WHERE account_id = %s AND device_id = %s",
               account_id(instance, account), device_id)
    return rows[0] if rows else None


@pytest.mark.parametrize("version", VERSIONS)
def test_device_information_and_password(instance, account, version):
    c = client_for(instance, account, version)
    extra = ("<EnableOutboundSMS>1</EnableOutboundSMS><MobileOperator>Contoso Mobile"
             "</MobileOperator>" if version != "12.1" else "")
    doc = settings(c, "<DeviceInformation><Set><Model>Pixel 9</Model><IMEI>356938035643809</IMEI>"
                      "<FriendlyName>Work phone</FriendlyName><OS>Android 15</OS>"
                      "<OSLanguage>en-US</OSLanguage><PhoneNumber>+15551234567</PhoneNumber>"
                      "<UserAgent>TestPhone/1.0</UserAgent>%s</Set></DeviceInformation>"
                      "<DevicePassword><Set><Password>recover-me-42</Password></Set>"
                      "</DevicePassword>" % extra)
    assert doc.findtext("Status") == "1"
    # responses come in the order of the request
    assert [n.name for n in doc.children] == ["Status", "DeviceInformation", "DevicePassword"]
    assert doc.findtext("DeviceInformation/Status") == "1"
    assert doc.findtext("DevicePassword/Status") == "1"
    row = device_row(instance, account, c.device_id)
    assert row[:7] == ["Pixel 9", "356938035643809", "Work phone", "Android 15", "en-US",
                       "+15551234567", "TestPhone/1.0"]
    if version != "12.1":
        assert row[7:9] == ["t", "Contoso Mobile"]
    assert row[9] == "recover-me-42"
    # an empty Password clears the recovery password
    doc = settings(c, "<DevicePassword><Set><Password/></Set></DevicePassword>")
    assert doc.findtext("DevicePassword/Status") == "1"
    assert device_row(instance, account, c.device_id)[9] == ""


def test_device_information_errors(instance, account):
    c = client_for(instance, account, "14.1")
    doc = settings(c, "<DeviceInformation><Get/></DeviceInformation>")
    assert doc.findtext("DeviceInformation/Status") == "2"
    doc = settings(c, "<DeviceInformation><Set><EnableOutboundSMS>maybe</EnableOutboundSMS>"
                      "</Set></DeviceInformation>")
    assert doc.findtext("DeviceInformation/Status") == "5"
    doc = settings(c, "<DevicePassword><Set/></DevicePassword>")
    assert doc.findtext("DevicePassword/Status") == "2"


def test_several_properties_in_order(instance, account):
    c = client_for(instance, account, "16.1")
    doc = settings(c, "<UserInformation><Get/></UserInformation>"
                      "<Oof><Get><BodyType>Text</BodyType></Get></Oof>"
                      "<RightsManagementInformation><Get/></RightsManagementInformation>")
    assert [n.name for n in doc.children] == ["Status", "UserInformation", "Oof",
                                              "RightsManagementInformation"]
    rmi = doc.find("RightsManagementInformation")
    assert rmi.findtext("Status") == "1"
    # no rights management templates are offered
    assert rmi.find("Get/RightsManagementTemplates") is not None
    assert rmi.findall("Get/RightsManagementTemplates/RightsManagementTemplate") == []


def test_unknown_property_is_a_protocol_error(instance, account):
    # RightsManagementInformation does not exist before 14.1
    c = client_for(instance, account, "12.1")
    doc = settings(c, "<RightsManagementInformation><Get/></RightsManagementInformation>")
    assert doc.findtext("Status") == "2"
    assert len(doc.children) == 1
