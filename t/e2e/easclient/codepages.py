"""WBXML code pages of Exchange ActiveSync, transcribed from [MS-ASWBXML].

Source: [MS-ASWBXML] "Exchange ActiveSync: WAP Binary XML (WBXML) Algorithm",
revision 24.0 of 2025-05-20:

* section 2.1.2.1   "Code Pages" (code page number -> XML namespace),
* sections 2.1.2.1.1 .. 2.1.2.1.26 (one table per code page: tag name,
  token, protocol versions).

The tables of code pages 10, 12 and 25 were also read on the Microsoft Learn
pages of those sections and agree with the revision above.

This file is written independently of the server's C tables
(libzxsync/include/zxsync/wbxml_tags.def) on purpose: the two transcriptions
are compared by the end-to-end tests.  Do not "fix" one from the other;
go back to the specification.

Every tag of every page, for all protocol versions up to 16.1, is listed,
including the ones that only exist in 2.5 (e.g. Email:Body).  Tag names are
spelled exactly as in the specification text (note ``Email:Att0id`` and
``Calendar:Timezone`` versus ``Email:TimeZone``).

Namespaces
----------
The specification's XML namespace of a page is its name ("AirSync",
"Email", ...; section 2.1.2.1).  This package writes namespaces in the form
with a trailing colon ("AirSync:", "FolderHierarchy:", "ComposeMail:"), the
form used in the request examples of [MS-ASHTTP] section 4.  On input
(``canonical_namespace``/``Node``/``from_xml``) the form without the colon
and a few aliases are accepted as well, see ``NAMESPACE_ALIASES``.
"""

from collections import namedtuple

__all__ = [
    "CodePage", "CODEPAGES", "PAGES_BY_NAMESPACE", "NAMESPACE_ALIASES",
    "GLOBAL_TOKENS", "canonical_namespace", "page_for_namespace",
    "lookup_tag", "lookup_token", "all_tags",
]

#: Global WBXML tokens listed in [MS-ASWBXML] section 1.6 (values in hex).
GLOBAL_TOKENS = {
    "SWITCH_PAGE": 0x00,
    "END": 0x01,
    "ENTITY": 0x02,
    "STR_I": 0x03,
    "LITERAL": 0x04,
    "EXT_I_0": 0x40,
    "EXT_I_1": 0x41,
    "EXT_I_2": 0x42,
    "PI": 0x43,
    "LITERAL_C": 0x44,
    "EXT_T_0": 0x80,
    "EXT_T_1": 0x81,
    "EXT_T_2": 0x82,
    "STR_T": 0x83,
    "LITERAL_A": 0x84,
    "EXT_0": 0xC0,
    "EXT_1": 0xC1,
    "EXT_2": 0xC2,
    "OPAQUE": 0xC3,
    "LITERAL_AC": 0xC4,
}

#: One code page.  ``tags`` maps token -> tag name, ``tokens`` maps tag
#: name -> token, ``versions`` maps token -> the "Protocol versions" cell of
#: the specification table (a string such as "All" or "14.0, 14.1, 16.0, 16.1").
CodePage = namedtuple("CodePage", "number name namespace tags tokens versions section")

# Protocol-version cells, spelled as in the specification tables.
ALL = "All"
V25 = "2.5"
V25_121 = "2.5, 12.0, 12.1"
V25_141 = "2.5, 12.0, 12.1, 14.0, 14.1"
V120 = "12.0, 12.1, 14.0, 14.1, 16.0, 16.1"
V121 = "12.1, 14.0, 14.1, 16.0, 16.1"
V140 = "14.0, 14.1, 16.0, 16.1"
V141 = "14.1, 16.0, 16.1"
V160 = "16.0, 16.1"
V161 = "16.1"
# Tokens of the first revision of [MS-ASWBXML] (1.0, 2008) that later revisions dropped from
# their tables; 2.5 and 12.x clients still send some of them (AirSync RTFTruncation, the Rtf
# tags of Contacts, Calendar and Tasks).  Read from transcriptions of that revision
# (libwbxml's ActiveSync table with its r1.0 notes, Z-Push's wbxmldefs), as the current
# revision no longer lists them.  Page 3 (AirNotify) stays empty: its r1.0 tags are spelled
# differently in each transcription and no 2.5+ request carries them.
R10 = "r1.0 only"

# (number, name, section, [(token, tag name, protocol versions), ...])
_RAW = [
    (0, "AirSync", "2.1.2.1.1", [
        (0x05, "Sync", ALL),
        (0x06, "Responses", ALL),
        (0x07, "Add", ALL),
        (0x08, "Change", ALL),
        (0x09, "Delete", ALL),
        (0x0A, "Fetch", ALL),
        (0x0B, "SyncKey", ALL),
        (0x0C, "ClientId", ALL),
        (0x0D, "ServerId", ALL),
        (0x0E, "Status", ALL),
        (0x0F, "Collection", ALL),
        (0x10, "Class", ALL),
        (0x11, "Version", R10),
        (0x12, "CollectionId", ALL),
        (0x13, "GetChanges", ALL),
        (0x14, "MoreAvailable", ALL),
        (0x15, "WindowSize", ALL),
        (0x16, "Commands", ALL),
        (0x17, "Options", ALL),
        (0x18, "FilterType", ALL),
        (0x19, "Truncation", V25),
        (0x1A, "RTFTruncation", R10),
        (0x1B, "Conflict", ALL),
        (0x1C, "Collections", ALL),
        (0x1D, "ApplicationData", ALL),
        (0x1E, "DeletesAsMoves", ALL),
        (0x1F, "NotifyGUID", R10),
        (0x20, "Supported", ALL),
        (0x21, "SoftDelete", ALL),
        (0x22, "MIMESupport", ALL),
        (0x23, "MIMETruncation", ALL),
        (0x24, "Wait", V121),
        (0x25, "Limit", V121),
        (0x26, "Partial", V121),
        (0x27, "ConversationMode", V140),
        (0x28, "MaxItems", V140),
        (0x29, "HeartbeatInterval", V140),
    ]),
    (1, "Contacts", "2.1.2.1.2", [
        (0x05, "Anniversary", ALL),
        (0x06, "AssistantName", ALL),
        (0x07, "AssistantPhoneNumber", ALL),
        (0x08, "Birthday", ALL),
        (0x09, "Body", V25),
        (0x0A, "BodySize", V25),
        (0x0B, "BodyTruncated", V25),
        (0x0C, "Business2PhoneNumber", ALL),
        (0x0D, "BusinessAddressCity", ALL),
        (0x0E, "BusinessAddressCountry", ALL),
        (0x0F, "BusinessAddressPostalCode", ALL),
        (0x10, "BusinessAddressState", ALL),
        (0x11, "BusinessAddressStreet", ALL),
        (0x12, "BusinessFaxNumber", ALL),
        (0x13, "BusinessPhoneNumber", ALL),
        (0x14, "CarPhoneNumber", ALL),
        (0x15, "Categories", ALL),
        (0x16, "Category", ALL),
        (0x17, "Children", ALL),
        (0x18, "Child", ALL),
        (0x19, "CompanyName", ALL),
        (0x1A, "Department", ALL),
        (0x1B, "Email1Address", ALL),
        (0x1C, "Email2Address", ALL),
        (0x1D, "Email3Address", ALL),
        (0x1E, "FileAs", ALL),
        (0x1F, "FirstName", ALL),
        (0x20, "Home2PhoneNumber", ALL),
        (0x21, "HomeAddressCity", ALL),
        (0x22, "HomeAddressCountry", ALL),
        (0x23, "HomeAddressPostalCode", ALL),
        (0x24, "HomeAddressState", ALL),
        (0x25, "HomeAddressStreet", ALL),
        (0x26, "HomeFaxNumber", ALL),
        (0x27, "HomePhoneNumber", ALL),
        (0x28, "JobTitle", ALL),
        (0x29, "LastName", ALL),
        (0x2A, "MiddleName", ALL),
        (0x2B, "MobilePhoneNumber", ALL),
        (0x2C, "OfficeLocation", ALL),
        (0x2D, "OtherAddressCity", ALL),
        (0x2E, "OtherAddressCountry", ALL),
        (0x2F, "OtherAddressPostalCode", ALL),
        (0x30, "OtherAddressState", ALL),
        (0x31, "OtherAddressStreet", ALL),
        (0x32, "PagerNumber", ALL),
        (0x33, "RadioPhoneNumber", ALL),
        (0x34, "Spouse", ALL),
        (0x35, "Suffix", ALL),
        (0x36, "Title", ALL),
        (0x37, "WebPage", ALL),
        (0x38, "YomiCompanyName", ALL),
        (0x39, "YomiFirstName", ALL),
        (0x3A, "YomiLastName", ALL),
        (0x3B, "Rtf", R10),
        (0x3C, "Picture", ALL),
        (0x3D, "Alias", V140),
        (0x3E, "WeightedRank", V140),
    ]),
    (2, "Email", "2.1.2.1.3", [
        (0x05, "Attachment", V25),
        (0x06, "Attachments", V25),
        (0x07, "AttName", V25),
        (0x08, "AttSize", V25),
        (0x09, "Att0id", V25),
        (0x0A, "AttMethod", V25),
        (0x0B, "AttRemoved", R10),
        (0x0C, "Body", V25),
        (0x0D, "BodySize", V25),
        (0x0E, "BodyTruncated", V25),
        (0x0F, "DateReceived", ALL),
        (0x10, "DisplayName", V25),
        (0x11, "DisplayTo", ALL),
        (0x12, "Importance", ALL),
        (0x13, "MessageClass", ALL),
        (0x14, "Subject", ALL),
        (0x15, "Read", ALL),
        (0x16, "To", ALL),
        (0x17, "Cc", ALL),
        (0x18, "From", ALL),
        (0x19, "ReplyTo", ALL),
        (0x1A, "AllDayEvent", ALL),
        (0x1B, "Categories", V140),
        (0x1C, "Category", V140),
        (0x1D, "DtStamp", ALL),
        (0x1E, "EndTime", ALL),
        (0x1F, "InstanceType", ALL),
        (0x20, "BusyStatus", ALL),
        (0x21, "Location", V25_141),
        (0x22, "MeetingRequest", ALL),
        (0x23, "Organizer", ALL),
        (0x24, "RecurrenceId", ALL),
        (0x25, "Reminder", ALL),
        (0x26, "ResponseRequested", ALL),
        (0x27, "Recurrences", ALL),
        (0x28, "Recurrence", ALL),
        (0x29, "Type", ALL),
        (0x2A, "Until", ALL),
        (0x2B, "Occurrences", ALL),
        (0x2C, "Interval", ALL),
        (0x2D, "DayOfWeek", ALL),
        (0x2E, "DayOfMonth", ALL),
        (0x2F, "WeekOfMonth", ALL),
        (0x30, "MonthOfYear", ALL),
        (0x31, "StartTime", ALL),
        (0x32, "Sensitivity", ALL),
        (0x33, "TimeZone", ALL),
        (0x34, "GlobalObjId", V25_141),
        (0x35, "ThreadTopic", ALL),
        (0x36, "MIMEData", V25),
        (0x37, "MIMETruncated", V25),
        (0x38, "MIMESize", V25),
        (0x39, "InternetCPID", ALL),
        (0x3A, "Flag", V120),
        (0x3B, "Status", V120),
        (0x3C, "ContentClass", V120),
        (0x3D, "FlagType", V120),
        (0x3E, "CompleteTime", V120),
        (0x3F, "DisallowNewTimeProposal", V140),
    ]),
    # Section 2.1.2.1.4: "WBXML code page 3 is no longer in use."
    (3, "AirNotify", "2.1.2.1.4", []),
    (4, "Calendar", "2.1.2.1.5", [
        (0x05, "Timezone", ALL),
        (0x06, "AllDayEvent", ALL),
        (0x07, "Attendees", ALL),
        (0x08, "Attendee", ALL),
        (0x09, "Email", ALL),
        (0x0A, "Name", ALL),
        (0x0B, "Body", V25),
        (0x0C, "BodyTruncated", V25),
        (0x0D, "BusyStatus", ALL),
        (0x0E, "Categories", ALL),
        (0x0F, "Category", ALL),
        (0x10, "Rtf", R10),
        (0x11, "DtStamp", ALL),
        (0x12, "EndTime", ALL),
        (0x13, "Exception", ALL),
        (0x14, "Exceptions", ALL),
        (0x15, "Deleted", ALL),
        (0x16, "ExceptionStartTime", V25_141),
        (0x17, "Location", V25_141),
        (0x18, "MeetingStatus", ALL),
        (0x19, "OrganizerEmail", ALL),
        (0x1A, "OrganizerName", ALL),
        (0x1B, "Recurrence", ALL),
        (0x1C, "Type", ALL),
        (0x1D, "Until", ALL),
        (0x1E, "Occurrences", ALL),
        (0x1F, "Interval", ALL),
        (0x20, "DayOfWeek", ALL),
        (0x21, "DayOfMonth", ALL),
        (0x22, "WeekOfMonth", ALL),
        (0x23, "MonthOfYear", ALL),
        (0x24, "Reminder", ALL),
        (0x25, "Sensitivity", ALL),
        (0x26, "Subject", ALL),
        (0x27, "StartTime", ALL),
        (0x28, "UID", ALL),
        (0x29, "AttendeeStatus", V120),
        (0x2A, "AttendeeType", V120),
        (0x33, "DisallowNewTimeProposal", V140),
        (0x34, "ResponseRequested", V140),
        (0x35, "AppointmentReplyTime", V140),
        (0x36, "ResponseType", V140),
        (0x37, "CalendarType", V140),
        (0x38, "IsLeapMonth", V140),
        (0x39, "FirstDayOfWeek", V141),
        (0x3A, "OnlineMeetingConfLink", V141),
        (0x3B, "OnlineMeetingExternalLink", V141),
        (0x3C, "ClientUid", V160),
    ]),
    (5, "Move", "2.1.2.1.6", [
        (0x05, "MoveItems", ALL),
        (0x06, "Move", ALL),
        (0x07, "SrcMsgId", ALL),
        (0x08, "SrcFldId", ALL),
        (0x09, "DstFldId", ALL),
        (0x0A, "Response", ALL),
        (0x0B, "Status", ALL),
        (0x0C, "DstMsgId", ALL),
    ]),
    (6, "GetItemEstimate", "2.1.2.1.7", [
        (0x05, "GetItemEstimate", ALL),
        (0x06, "Version", R10),
        (0x07, "Collections", ALL),
        (0x08, "Collection", ALL),
        (0x09, "Class", V25_121),
        (0x0A, "CollectionId", ALL),
        (0x0B, "DateTime", R10),
        (0x0C, "Estimate", ALL),
        (0x0D, "Response", ALL),
        (0x0E, "Status", ALL),
    ]),
    (7, "FolderHierarchy", "2.1.2.1.8", [
        (0x05, "Folders", V25_121),
        (0x06, "Folder", V25_121),
        (0x07, "DisplayName", ALL),
        (0x08, "ServerId", ALL),
        (0x09, "ParentId", ALL),
        (0x0A, "Type", ALL),
        (0x0B, "Response", R10),
        (0x0C, "Status", ALL),
        (0x0D, "ContentClass", R10),
        (0x0E, "Changes", ALL),
        (0x0F, "Add", ALL),
        (0x10, "Delete", ALL),
        (0x11, "Update", ALL),
        (0x12, "SyncKey", ALL),
        (0x13, "FolderCreate", ALL),
        (0x14, "FolderDelete", ALL),
        (0x15, "FolderUpdate", ALL),
        (0x16, "FolderSync", ALL),
        (0x17, "Count", ALL),
        (0x18, "Version", R10),
    ]),
    (8, "MeetingResponse", "2.1.2.1.9", [
        (0x05, "CalendarId", ALL),
        (0x06, "CollectionId", ALL),
        (0x07, "MeetingResponse", ALL),
        (0x08, "RequestId", ALL),
        (0x09, "Request", ALL),
        (0x0A, "Result", ALL),
        (0x0B, "Status", ALL),
        (0x0C, "UserResponse", ALL),
        (0x0D, "Version", R10),
        (0x0E, "InstanceId", V141),
        (0x10, "ProposedStartTime", V161),
        (0x11, "ProposedEndTime", V161),
        (0x12, "SendResponse", V160),
    ]),
    (9, "Tasks", "2.1.2.1.10", [
        (0x05, "Body", V25),
        (0x06, "BodySize", V25),
        (0x07, "BodyTruncated", V25),
        (0x08, "Categories", ALL),
        (0x09, "Category", ALL),
        (0x0A, "Complete", ALL),
        (0x0B, "DateCompleted", ALL),
        (0x0C, "DueDate", ALL),
        (0x0D, "UtcDueDate", ALL),
        (0x0E, "Importance", ALL),
        (0x0F, "Recurrence", ALL),
        (0x10, "Type", ALL),
        (0x11, "Start", ALL),
        (0x12, "Until", ALL),
        (0x13, "Occurrences", ALL),
        (0x14, "Interval", ALL),
        (0x15, "DayOfMonth", ALL),
        (0x16, "DayOfWeek", ALL),
        (0x17, "WeekOfMonth", ALL),
        (0x18, "MonthOfYear", ALL),
        (0x19, "Regenerate", ALL),
        (0x1A, "DeadOccur", ALL),
        (0x1B, "ReminderSet", ALL),
        (0x1C, "ReminderTime", ALL),
        (0x1D, "Sensitivity", ALL),
        (0x1E, "StartDate", ALL),
        (0x1F, "UtcStartDate", ALL),
        (0x20, "Subject", ALL),
        (0x21, "Rtf", R10),
        (0x22, "OrdinalDate", V120),
        (0x23, "SubOrdinalDate", V120),
        (0x24, "CalendarType", V140),
        (0x25, "IsLeapMonth", V140),
        (0x26, "FirstDayOfWeek", V141),
    ]),
    (10, "ResolveRecipients", "2.1.2.1.11", [
        (0x05, "ResolveRecipients", ALL),
        (0x06, "Response", ALL),
        (0x07, "Status", ALL),
        (0x08, "Type", ALL),
        (0x09, "Recipient", ALL),
        (0x0A, "DisplayName", ALL),
        (0x0B, "EmailAddress", ALL),
        (0x0C, "Certificates", ALL),
        (0x0D, "Certificate", ALL),
        (0x0E, "MiniCertificate", ALL),
        (0x0F, "Options", ALL),
        (0x10, "To", ALL),
        (0x11, "CertificateRetrieval", ALL),
        (0x12, "RecipientCount", ALL),
        (0x13, "MaxCertificates", ALL),
        (0x14, "MaxAmbiguousRecipients", ALL),
        (0x15, "CertificateCount", ALL),
        (0x16, "Availability", V140),
        (0x17, "StartTime", V140),
        (0x18, "EndTime", V140),
        (0x19, "MergedFreeBusy", V140),
        (0x1A, "Picture", V141),
        (0x1B, "MaxSize", V141),
        (0x1C, "Data", V141),
        (0x1D, "MaxPictures", V141),
    ]),
    (11, "ValidateCert", "2.1.2.1.12", [
        (0x05, "ValidateCert", ALL),
        (0x06, "Certificates", ALL),
        (0x07, "Certificate", ALL),
        (0x08, "CertificateChain", ALL),
        (0x09, "CheckCRL", ALL),
        (0x0A, "Status", ALL),
    ]),
    (12, "Contacts2", "2.1.2.1.13", [
        (0x05, "CustomerId", ALL),
        (0x06, "GovernmentId", ALL),
        (0x07, "IMAddress", ALL),
        (0x08, "IMAddress2", ALL),
        (0x09, "IMAddress3", ALL),
        (0x0A, "ManagerName", ALL),
        (0x0B, "CompanyMainPhone", ALL),
        (0x0C, "AccountName", ALL),
        (0x0D, "NickName", ALL),
        (0x0E, "MMS", ALL),
    ]),
    (13, "Ping", "2.1.2.1.14", [
        (0x05, "Ping", ALL),
        (0x06, "AutdState", R10),
        (0x07, "Status", ALL),
        (0x08, "HeartbeatInterval", ALL),
        (0x09, "Folders", ALL),
        (0x0A, "Folder", ALL),
        (0x0B, "Id", ALL),
        (0x0C, "Class", ALL),
        (0x0D, "MaxFolders", ALL),
    ]),
    (14, "Provision", "2.1.2.1.15", [
        (0x05, "Provision", ALL),
        (0x06, "Policies", ALL),
        (0x07, "Policy", ALL),
        (0x08, "PolicyType", ALL),
        (0x09, "PolicyKey", ALL),
        (0x0A, "Data", ALL),
        (0x0B, "Status", ALL),
        (0x0C, "RemoteWipe", ALL),
        (0x0D, "EASProvisionDoc", V120),
        (0x0E, "DevicePasswordEnabled", V120),
        (0x0F, "AlphanumericDevicePasswordRequired", V120),
        (0x10, "RequireStorageCardEncryption", V121),
        (0x11, "PasswordRecoveryEnabled", V120),
        (0x12, "DocumentBrowseEnabled", R10),
        (0x13, "AttachmentsEnabled", V120),
        (0x14, "MinDevicePasswordLength", V120),
        (0x15, "MaxInactivityTimeDeviceLock", V120),
        (0x16, "MaxDevicePasswordFailedAttempts", V120),
        (0x17, "MaxAttachmentSize", V120),
        (0x18, "AllowSimpleDevicePassword", V120),
        (0x19, "DevicePasswordExpiration", V120),
        (0x1A, "DevicePasswordHistory", V120),
        (0x1B, "AllowStorageCard", V121),
        (0x1C, "AllowCamera", V121),
        (0x1D, "RequireDeviceEncryption", V121),
        (0x1E, "AllowUnsignedApplications", V121),
        (0x1F, "AllowUnsignedInstallationPackages", V121),
        (0x20, "MinDevicePasswordComplexCharacters", V121),
        (0x21, "AllowWiFi", V121),
        (0x22, "AllowTextMessaging", V121),
        (0x23, "AllowPOPIMAPEmail", V121),
        (0x24, "AllowBluetooth", V121),
        (0x25, "AllowIrDA", V121),
        (0x26, "RequireManualSyncWhenRoaming", V121),
        (0x27, "AllowDesktopSync", V121),
        (0x28, "MaxCalendarAgeFilter", V121),
        (0x29, "AllowHTMLEmail", V121),
        (0x2A, "MaxEmailAgeFilter", V121),
        (0x2B, "MaxEmailBodyTruncationSize", V121),
        (0x2C, "MaxEmailHTMLBodyTruncationSize", V121),
        (0x2D, "RequireSignedSMIMEMessages", V121),
        (0x2E, "RequireEncryptedSMIMEMessages", V121),
        (0x2F, "RequireSignedSMIMEAlgorithm", V121),
        (0x30, "RequireEncryptionSMIMEAlgorithm", V121),
        (0x31, "AllowSMIMEEncryptionAlgorithmNegotiation", V121),
        (0x32, "AllowSMIMESoftCerts", V121),
        (0x33, "AllowBrowser", V121),
        (0x34, "AllowConsumerEmail", V121),
        (0x35, "AllowRemoteDesktop", V121),
        (0x36, "AllowInternetSharing", V121),
        (0x37, "UnapprovedInROMApplicationList", V121),
        (0x38, "ApplicationName", V121),
        (0x39, "ApprovedApplicationList", V121),
        (0x3A, "Hash", V121),
        (0x3B, "AccountOnlyRemoteWipe", V161),
    ]),
    (15, "Search", "2.1.2.1.16", [
        (0x05, "Search", ALL),
        (0x07, "Store", ALL),
        (0x08, "Name", ALL),
        (0x09, "Query", ALL),
        (0x0A, "Options", ALL),
        (0x0B, "Range", ALL),
        (0x0C, "Status", ALL),
        (0x0D, "Response", ALL),
        (0x0E, "Result", ALL),
        (0x0F, "Properties", ALL),
        (0x10, "Total", ALL),
        (0x11, "EqualTo", V120),
        (0x12, "Value", V120),
        (0x13, "And", V120),
        (0x14, "Or", V120),
        (0x15, "FreeText", V120),
        (0x17, "DeepTraversal", V120),
        (0x18, "LongId", V120),
        (0x19, "RebuildResults", V120),
        (0x1A, "LessThan", V120),
        (0x1B, "GreaterThan", V120),
        (0x1C, "Schema", R10),
        (0x1D, "Supported", R10),
        (0x1E, "UserName", V121),
        (0x1F, "Password", V121),
        (0x20, "ConversationId", V140),
        (0x21, "Picture", V141),
        (0x22, "MaxSize", V141),
        (0x23, "MaxPictures", V141),
    ]),
    # The page table of section 2.1.2.1 spells the namespace "Gal"; the
    # heading of section 2.1.2.1.17 says "GAL".
    (16, "Gal", "2.1.2.1.17", [
        (0x05, "DisplayName", ALL),
        (0x06, "Phone", ALL),
        (0x07, "Office", ALL),
        (0x08, "Title", ALL),
        (0x09, "Company", ALL),
        (0x0A, "Alias", ALL),
        (0x0B, "FirstName", ALL),
        (0x0C, "LastName", ALL),
        (0x0D, "HomePhone", ALL),
        (0x0E, "MobilePhone", ALL),
        (0x0F, "EmailAddress", ALL),
        (0x10, "Picture", V141),
        (0x11, "Status", V141),
        (0x12, "Data", V141),
    ]),
    (17, "AirSyncBase", "2.1.2.1.18", [
        (0x05, "BodyPreference", V120),
        (0x06, "Type", V120),
        (0x07, "TruncationSize", V120),
        (0x08, "AllOrNone", V120),
        (0x0A, "Body", V120),
        (0x0B, "Data", V120),
        (0x0C, "EstimatedDataSize", V120),
        (0x0D, "Truncated", V120),
        (0x0E, "Attachments", V120),
        (0x0F, "Attachment", V120),
        (0x10, "DisplayName", V120),
        (0x11, "FileReference", V120),
        (0x12, "Method", V120),
        (0x13, "ContentId", V120),
        (0x14, "ContentLocation", V120),
        (0x15, "IsInline", V120),
        (0x16, "NativeBodyType", V120),
        (0x17, "ContentType", V120),
        (0x18, "Preview", V140),
        (0x19, "BodyPartPreference", V141),
        (0x1A, "BodyPart", V141),
        (0x1B, "Status", V141),
        (0x1C, "Add", V160),
        (0x1D, "Delete", V160),
        (0x1E, "ClientId", V160),
        (0x1F, "Content", V160),
        (0x20, "Location", V160),
        (0x21, "Annotation", V160),
        (0x22, "Street", V160),
        (0x23, "City", V160),
        (0x24, "State", V160),
        (0x25, "Country", V160),
        (0x26, "PostalCode", V160),
        (0x27, "Latitude", V160),
        (0x28, "Longitude", V160),
        (0x29, "Accuracy", V160),
        (0x2A, "Altitude", V160),
        (0x2B, "AltitudeAccuracy", V160),
        (0x2C, "LocationUri", V160),
        (0x2D, "InstanceId", V160),
    ]),
    (18, "Settings", "2.1.2.1.19", [
        (0x05, "Settings", V120),
        (0x06, "Status", V120),
        (0x07, "Get", V120),
        (0x08, "Set", V120),
        (0x09, "Oof", V120),
        (0x0A, "OofState", V120),
        (0x0B, "StartTime", V120),
        (0x0C, "EndTime", V120),
        (0x0D, "OofMessage", V120),
        (0x0E, "AppliesToInternal", V120),
        (0x0F, "AppliesToExternalKnown", V120),
        (0x10, "AppliesToExternalUnknown", V120),
        (0x11, "Enabled", V120),
        (0x12, "ReplyMessage", V120),
        (0x13, "BodyType", V120),
        (0x14, "DevicePassword", V120),
        (0x15, "Password", V120),
        (0x16, "DeviceInformation", V120),
        (0x17, "Model", V120),
        (0x18, "IMEI", V120),
        (0x19, "FriendlyName", V120),
        (0x1A, "OS", V120),
        (0x1B, "OSLanguage", V120),
        (0x1C, "PhoneNumber", V120),
        (0x1D, "UserInformation", V120),
        (0x1E, "EmailAddresses", V120),
        (0x1F, "SMTPAddress", V120),
        (0x20, "UserAgent", V121),
        (0x21, "EnableOutboundSMS", V140),
        (0x22, "MobileOperator", V140),
        (0x23, "PrimarySmtpAddress", V141),
        (0x24, "Accounts", V141),
        (0x25, "Account", V141),
        (0x26, "AccountId", V141),
        (0x27, "AccountName", V141),
        (0x28, "UserDisplayName", V141),
        (0x29, "SendDisabled", V141),
        (0x2B, "RightsManagementInformation", V141),
    ]),
    (19, "DocumentLibrary", "2.1.2.1.20", [
        (0x05, "LinkId", V120),
        (0x06, "DisplayName", V120),
        (0x07, "IsFolder", V120),
        (0x08, "CreationDate", V120),
        (0x09, "LastModifiedDate", V120),
        (0x0A, "IsHidden", V120),
        (0x0B, "ContentLength", V120),
        (0x0C, "ContentType", V120),
    ]),
    (20, "ItemOperations", "2.1.2.1.21", [
        (0x05, "ItemOperations", V120),
        (0x06, "Fetch", V120),
        (0x07, "Store", V120),
        (0x08, "Options", V120),
        (0x09, "Range", V120),
        (0x0A, "Total", V120),
        (0x0B, "Properties", V120),
        (0x0C, "Data", V120),
        (0x0D, "Status", V120),
        (0x0E, "Response", V120),
        (0x0F, "Version", V120),
        (0x10, "Schema", V120),
        (0x11, "Part", V120),
        (0x12, "EmptyFolderContents", V120),
        (0x13, "DeleteSubFolders", V120),
        (0x14, "UserName", V121),
        (0x15, "Password", V121),
        (0x16, "Move", V140),
        (0x17, "DstFldId", V140),
        (0x18, "ConversationId", V140),
        (0x19, "MoveAlways", V140),
    ]),
    (21, "ComposeMail", "2.1.2.1.22", [
        (0x05, "SendMail", V140),
        (0x06, "SmartForward", V140),
        (0x07, "SmartReply", V140),
        (0x08, "SaveInSentItems", V140),
        (0x09, "ReplaceMime", V140),
        (0x0B, "Source", V140),
        (0x0C, "FolderId", V140),
        (0x0D, "ItemId", V140),
        (0x0E, "LongId", V140),
        (0x0F, "InstanceId", V140),
        (0x10, "Mime", V140),
        (0x11, "ClientId", V140),
        (0x12, "Status", V140),
        (0x13, "AccountId", V141),
        (0x15, "Forwardees", V160),
        (0x16, "Forwardee", V160),
        (0x17, "Name", V160),
        (0x18, "Email", V160),
    ]),
    (22, "Email2", "2.1.2.1.23", [
        (0x05, "UmCallerID", V140),
        (0x06, "UmUserNotes", V140),
        (0x07, "UmAttDuration", V140),
        (0x08, "UmAttOrder", V140),
        (0x09, "ConversationId", V140),
        (0x0A, "ConversationIndex", V140),
        (0x0B, "LastVerbExecuted", V140),
        (0x0C, "LastVerbExecutionTime", V140),
        (0x0D, "ReceivedAsBcc", V140),
        (0x0E, "Sender", V140),
        (0x0F, "CalendarType", V140),
        (0x10, "IsLeapMonth", V140),
        (0x11, "AccountId", V141),
        (0x12, "FirstDayOfWeek", V141),
        (0x13, "MeetingMessageType", V141),
        (0x15, "IsDraft", V160),
        (0x16, "Bcc", V160),
        (0x17, "Send", V160),
    ]),
    (23, "Notes", "2.1.2.1.24", [
        (0x05, "Subject", V140),
        (0x06, "MessageClass", V140),
        (0x07, "LastModifiedDate", V140),
        (0x08, "Categories", V140),
        (0x09, "Category", V140),
    ]),
    (24, "RightsManagement", "2.1.2.1.25", [
        (0x05, "RightsManagementSupport", V141),
        (0x06, "RightsManagementTemplates", V141),
        (0x07, "RightsManagementTemplate", V141),
        (0x08, "RightsManagementLicense", V141),
        (0x09, "EditAllowed", V141),
        (0x0A, "ReplyAllowed", V141),
        (0x0B, "ReplyAllAllowed", V141),
        (0x0C, "ForwardAllowed", V141),
        (0x0D, "ModifyRecipientsAllowed", V141),
        (0x0E, "ExtractAllowed", V141),
        (0x0F, "PrintAllowed", V141),
        (0x10, "ExportAllowed", V141),
        (0x11, "ProgrammaticAccessAllowed", V141),
        (0x12, "Owner", V141),
        (0x13, "ContentExpiryDate", V141),
        (0x14, "TemplateID", V141),
        (0x15, "TemplateName", V141),
        (0x16, "TemplateDescription", V141),
        (0x17, "ContentOwner", V141),
        (0x18, "RemoveRightsManagementProtection", V141),
    ]),
    (25, "Find", "2.1.2.1.26", [
        (0x05, "Find", V161),
        (0x06, "SearchId", V161),
        (0x07, "ExecuteSearch", V161),
        (0x08, "MailBoxSearchCriterion", V161),
        (0x09, "Query", V161),
        (0x0A, "Status", V161),
        (0x0B, "FreeText", V161),
        (0x0C, "Options", V161),
        (0x0D, "Range", V161),
        (0x0E, "DeepTraversal", V161),
        (0x11, "Response", V161),
        (0x12, "Result", V161),
        (0x13, "Properties", V161),
        (0x14, "Preview", V161),
        (0x15, "HasAttachments", V161),
        (0x16, "Total", V161),
        (0x17, "DisplayCc", V161),
        (0x18, "DisplayBcc", V161),
        (0x19, "GalSearchCriterion", V161),
        (0x20, "MaxPictures", V161),
        (0x21, "MaxSize", V161),
        (0x22, "Picture", V161),
    ]),
]


def _build():
    pages = {}
    for number, name, section, rows in _RAW:
        tags, tokens, versions = {}, {}, {}
        for token, tag, vers in rows:
            if not 0x05 <= token <= 0x3F:
                raise AssertionError("token out of range: page %d %s 0x%02X" % (number, tag, token))
            if token in tags or tag in tokens:
                raise AssertionError("duplicate entry: page %d %s 0x%02X" % (number, tag, token))
            tags[token] = tag
            tokens[tag] = token
            versions[token] = vers
        pages[number] = CodePage(number, name, name + ":", tags, tokens, versions, section)
    if sorted(pages) != list(range(26)):
        raise AssertionError("code pages must be 0..25")
    return pages


#: {page number: CodePage}
CODEPAGES = _build()

#: Extra namespace spellings accepted on input, mapped to a page number.
#: * every page name without and with the colon ("AirSync", "AirSync:"),
#: * "GAL"/"GAL:" (heading of [MS-ASWBXML] 2.1.2.1.17 and the namespace
#:   table of [MS-ASCMD] 2.2.4 spell it so),
#: * the legacy POOM names of pages 1, 2, 4 and 9 used by older ActiveSync
#:   XML ("POOMMAIL:" was named by the task brief; the other three by analogy;
#:   none of the four is in the current specification text).
NAMESPACE_ALIASES = {}
for _p in CODEPAGES.values():
    NAMESPACE_ALIASES[_p.name] = _p.number
    NAMESPACE_ALIASES[_p.namespace] = _p.number
for _alias, _num in (("GAL", 16), ("POOMCONTACTS", 1), ("POOMMAIL", 2),
                     ("POOMCAL", 4), ("POOMTASKS", 9)):
    NAMESPACE_ALIASES[_alias] = _num
    NAMESPACE_ALIASES[_alias + ":"] = _num
del _p, _alias, _num

#: {canonical namespace: CodePage}
PAGES_BY_NAMESPACE = {p.namespace: p for p in CODEPAGES.values()}

_LOWER_ALIASES = {k.lower(): v for k, v in NAMESPACE_ALIASES.items()}


def page_for_namespace(ns, case_insensitive=False):
    """Return the CodePage for a namespace or page name, or None."""
    if isinstance(ns, int):
        return CODEPAGES.get(ns)
    if not isinstance(ns, str):
        return None
    num = NAMESPACE_ALIASES.get(ns)
    if num is None and case_insensitive:
        num = _LOWER_ALIASES.get(ns.lower())
    return CODEPAGES.get(num) if num is not None else None


def canonical_namespace(ns):
    """Map any accepted spelling to the canonical "Name:" form.

    Unknown namespaces are returned unchanged (so that invalid nodes can
    still be built; ``encode`` rejects them)."""
    page = page_for_namespace(ns)
    return page.namespace if page is not None else ns


def lookup_tag(ns, name):
    """(page number, token) of a tag, or None when unknown."""
    page = page_for_namespace(ns)
    if page is None:
        return None
    token = page.tokens.get(name)
    return None if token is None else (page.number, token)


def lookup_token(page_number, token):
    """(canonical namespace, tag name) of a token, or None when unknown."""
    page = CODEPAGES.get(page_number)
    if page is None:
        return None
    name = page.tags.get(token)
    return None if name is None else (page.namespace, name)


def all_tags():
    """Yield (page number, namespace, token, tag name, versions) for every tag."""
    for number in sorted(CODEPAGES):
        page = CODEPAGES[number]
        for token in sorted(page.tags):
            yield number, page.namespace, token, page.tags[token], page.versions[token]
