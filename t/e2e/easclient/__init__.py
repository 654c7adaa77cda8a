"""Exchange ActiveSync test client for the zxmobile end-to-end tests.

Its WBXML codec and code page tables are written from the Microsoft
specifications ([MS-ASWBXML], [MS-ASHTTP]) independently of the server's C
codec, so that the two implementations check each other.

    from easclient import EASClient, Node, encode, decode, from_xml, to_xml
"""

from .codepages import (CODEPAGES, CodePage, GLOBAL_TOKENS, NAMESPACE_ALIASES,
                        PAGES_BY_NAMESPACE, all_tags, canonical_namespace,
                        lookup_tag, lookup_token, page_for_namespace)
from .wbxml import (Node, WBXMLError, decode, decode_mb_u_int32, dump_tokens,
                    encode, encode_mb_u_int32, from_xml, to_etree, to_xml)
from .client import (COMMAND_CODES, OPTION_FLAGS, PARAMETER_TAGS,
                     WBXML_CONTENT_TYPE, EASClient, Headers, Response,
                     base64_query_bytes, basic_auth_header, decode_base64_query,
                     encode_base64_query, plain_query, protocol_version_byte)

__all__ = [
    "CODEPAGES", "CodePage", "GLOBAL_TOKENS", "NAMESPACE_ALIASES",
    "PAGES_BY_NAMESPACE", "all_tags", "canonical_namespace", "lookup_tag",
    "lookup_token", "page_for_namespace",
    "Node", "WBXMLError", "decode", "decode_mb_u_int32", "dump_tokens",
    "encode", "encode_mb_u_int32", "from_xml", "to_etree", "to_xml",
    "COMMAND_CODES", "OPTION_FLAGS", "PARAMETER_TAGS", "WBXML_CONTENT_TYPE",
    "EASClient", "Headers", "Response", "base64_query_bytes",
    "basic_auth_header", "decode_base64_query", "encode_base64_query",
    "plain_query", "protocol_version_byte",
]
