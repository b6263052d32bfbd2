"""pysaml2 attribute map that sends attribute names exactly as given.

pysaml2's built-in maps rename well-known attributes to OIDs or eIDAS URIs
(uid -> urn:oid:0.9.2342.19200300.100.1.1, email -> urn:oid:1.2.840.113549.1.9.1.1,
firstname -> http://eidas.europa.eu/attributes/naturalperson/CurrentGivenName),
keeping our name only in FriendlyName. With this map as the only one, every
attribute is unknown to the converter, so pysaml2 emits Name="<as given>"
with no FriendlyName, as Azure AD sends its custom claims firstname,
lastname, email and uid. (pysaml2 still writes NameFormat="...:uri", its
saml.Attribute default, where Azure writes none.)
"""

MAP = {
    "identifier": "urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
    "fro": {},
    "to": {},
}
