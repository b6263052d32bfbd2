#!/usr/bin/python3
"""A tiny pysaml2 identity provider for the portal's interop tests.

pysaml2 is an independent SAML implementation (Python, signing through the
xmlsec1 command-line tool, i.e. libxml2 + libxmlsec1), so a response it makes
and our Go service provider accepts proves the wire format, not just that
crewjam/saml agrees with itself.

Run with Debian's interpreter, /usr/bin/python3, which sees the
python3-pysaml2 package. It reads one JSON object on stdin and writes one
JSON object on stdout, or a list of them and a list of replies in the same
order; exceptions go to stderr with a non-zero exit.

Request fields:
  command            "metadata" | "response" | "parse_authn_request"
  idp_entity_id      IdP entity ID
  sso_url            the IdP's SingleSignOnService (HTTP-Redirect) URL
  key_file           IdP private key (PEM) used to sign
  cert_file          IdP certificate (PEM) published in metadata and KeyInfo
  sp_metadata        the SP metadata XML (crewjam's ServiceProvider.Metadata()),
                     loaded as pysaml2 "inline" metadata: loading it at all is
                     the check that pysaml2 accepts our metadata
  destination        ACS URL (defaults to the SP metadata's HTTP-POST ACS)
  name_id            NameID value (emailAddress format)
  attributes         {name: [values]}
  in_response_to     AuthnRequest ID; empty for an IdP-initiated response
  sign_response      bool
  sign_assertion     bool
  sha1               bool: sign with RSA-SHA1 and SHA-1 digests (pysaml2's
                     own default), to check that the portal refuses them
  attribute_names    "literal" (default: Name exactly as given, no NameFormat,
                     like Azure AD's custom claims) or "pysaml2-default"
                     (pysaml2's built-in attribute maps, which rename to OIDs)
  saml_request       (parse_authn_request) base64 deflated AuthnRequest
  relay_state, sig_alg, signature   (parse_authn_request) redirect-binding
                     query parameters, exactly as sent

  slo_url            the IdP's SingleLogoutService URL (both bindings); metadata
                     lists it when given
  encrypt            (response) encrypt the assertion to the SP's encryption
                     certificate from its metadata (or encrypt_cert_file)
  content_cipher     (response, encrypt) XML Encryption URI of the content
                     cipher: aes128-gcm, aes256-gcm (xmlenc11), aes128-cbc,
                     aes256-cbc (xmlenc); default aes256-gcm
  key_transport      (response, encrypt) rsa-oaep-mgf1p (default) or rsa-1_5
  encrypt_cert_file  (response, encrypt) encrypt to this certificate instead
  binding            (logout_request, logout_response) "redirect" or "post"
  session_indexes    (logout_request) SessionIndex values
  destination        (logout_request) the SP's SingleLogoutService URL
  saml_request / saml_response, relay_state, sig_alg, signature
                     (logout_response, parse_logout_response) the portal's
                     HTTP-Redirect message, exactly as sent

Replies:
  metadata:             {"metadata": "<EntityDescriptor ...>"}
  response:             {"response": "<base64 of the Response XML>"}
  parse_authn_request:  {"id": ..., "issuer": ..., "acs_url": ...,
                         "name_id_format": ..., "signature_valid": bool}
  logout_request:       {"url": ..., "fields": {...}} the LogoutRequest to the
                        SP: a redirect URL (signed query), or a form to post
                        (SAMLRequest with an enveloped signature, RelayState)
  logout_response:      {"request": {...}, "url": ..., "fields": {...}}: the
                        portal's LogoutRequest as pysaml2 read it (id, name_id,
                        name_id_format, session_indexes, issuer, destination,
                        signature_valid), and the signed LogoutResponse to it
  parse_logout_response: {"in_response_to": ..., "status": ..., "issuer": ...,
                        "destination": ..., "signature_valid": bool}
"""

import base64
import json
import os
import sys

import saml2.entity
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.samlp import SessionIndex
from saml2.sigver import pre_encryption_part
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor, metadata_tostring_fix
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.saml import AUTHN_PASSWORD_PROTECTED
from saml2.server import Server
from saml2.sigver import verify_redirect_signature
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256


HERE = os.path.dirname(os.path.abspath(__file__))


def sig_alg(req):
    return SIG_RSA_SHA1 if req.get("sha1") else SIG_RSA_SHA256


def digest_alg(req):
    return DIGEST_SHA1 if req.get("sha1") else DIGEST_SHA256


def make_config(req):
    metadata = {}
    if req.get("sp_metadata"):
        metadata = {"inline": [req["sp_metadata"]]}
    conf = {
        "entityid": req["idp_entity_id"],
        "key_file": req["key_file"],
        "cert_file": req["cert_file"],
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "metadata": metadata,
        # pysaml2 7.0 signs with RSA-SHA1 and SHA-1 digests unless told
        # otherwise (saml2.xmldsig sig_default, digest_default); the portal
        # refuses SHA-1 (RejectSHA1Signatures), so ask for SHA-256.
        "signing_algorithm": sig_alg(req),
        "digest_algorithm": digest_alg(req),
        "service": {
            "idp": {
                "name": "pysaml2 interop IdP",
                "endpoints": {
                    "single_sign_on_service": [
                        (req.get("sso_url", "https://idp.example/sso"),
                         BINDING_HTTP_REDIRECT),
                    ],
                    "single_logout_service": [
                        (req["slo_url"], BINDING_HTTP_REDIRECT),
                        (req["slo_url"], BINDING_HTTP_POST),
                    ] if req.get("slo_url") else [],
                },
                "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                # Advertised in the IdP metadata, as a real IdP that insists
                # on signed requests would. pysaml2 7.0's parse_authn_request
                # reads it as "the request XML must carry an enveloped
                # signature", which the HTTP-Redirect binding never has (the
                # signature is over the query string), so parse_authn_request
                # turns it off and checks the query signature itself.
                "want_authn_requests_signed": bool(req.get("want_authn_requests_signed", True)),
                "sign_response": bool(req.get("sign_response")),
                "sign_assertion": bool(req.get("sign_assertion")),
                "policy": {
                    "default": {
                        "lifetime": {"minutes": 5},
                        # Release every attribute we are given.
                        "attribute_restrictions": None,
                    },
                },
            },
        },
    }
    if req.get("attribute_names", "literal") == "literal":
        conf["attribute_map_dir"] = os.path.join(HERE, "attributemaps")
    cfg = IdPConfig()
    cfg.load(conf)
    return cfg


def cmd_metadata(req):
    cfg = make_config(req)
    ed = entity_descriptor(cfg)
    xml = metadata_tostring_fix(ed, {"xs": "http://www.w3.org/2001/XMLSchema"})
    if isinstance(xml, bytes):
        xml = xml.decode("utf-8")
    return {"metadata": xml}


def sp_entity_and_acs(server):
    """The single SP in the inline metadata, and its HTTP-POST ACS."""
    entities = list(server.metadata.keys())
    if len(entities) != 1:
        raise SystemExit("expected exactly one SP entity in the metadata, got %r" % entities)
    eid = entities[0]
    acs = server.metadata.assertion_consumer_service(eid, BINDING_HTTP_POST)
    if not acs:
        raise SystemExit("SP metadata has no HTTP-POST AssertionConsumerService")
    return eid, acs[0]["location"]


def cmd_response(req):
    server = Server(config=make_config(req))
    sp_eid, destination = sp_entity_and_acs(server)
    destination = req.get("destination") or destination

    identity = {k: list(v) for k, v in req.get("attributes", {}).items()}
    name_id = NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=req["name_id"])
    encrypt = {}
    if req.get("encrypt"):
        encrypt = use_encryption(server, req)
    resp = server.create_authn_response(
        identity,
        req.get("in_response_to") or None,
        destination,
        sp_eid,
        name_id=name_id,
        authn={"class_ref": AUTHN_PASSWORD_PROTECTED},
        sign_response=bool(req.get("sign_response")),
        sign_assertion=bool(req.get("sign_assertion")),
        sign_alg=sig_alg(req),
        digest_alg=digest_alg(req),
        **encrypt
    )
    if isinstance(resp, list):
        raise SystemExit("pysaml2 made an error response: %s" % "\n".join(resp))
    if not isinstance(resp, bytes):
        resp = str(resp).encode("utf-8")
    return {"response": base64.b64encode(resp).decode("ascii")}


XMLENC = "http://www.w3.org/2001/04/xmlenc#"
XMLENC11 = "http://www.w3.org/2009/xmlenc11#"
CIPHERS = {
    # name: (EncryptionMethod URI, xmlsec1 --session-key)
    "aes128-gcm": (XMLENC11 + "aes128-gcm", "aes-128"),
    "aes256-gcm": (XMLENC11 + "aes256-gcm", "aes-256"),
    "aes128-cbc": (XMLENC + "aes128-cbc", "aes-128"),
    "aes256-cbc": (XMLENC + "aes256-cbc", "aes-256"),
}


def use_encryption(server, req):
    """Have pysaml2 encrypt the assertion with the cipher and key transport
    asked for. pysaml2 7.0 always uses 3DES with RSA-OAEP (its encryption
    template and session key are fixed in saml2.entity), so the template
    and the session key type are replaced here, and xmlsec1 does the rest.
    The assertion is encrypted self-contained: its namespaces declared on
    it, so that it reads the same outside the Response."""
    uri, session_key = CIPHERS[req.get("content_cipher", "aes256-gcm")]
    key_transport = XMLENC + req.get("key_transport", "rsa-oaep-mgf1p")

    def template(**kwargs):
        return pre_encryption_part(msg_enc=uri, key_enc=key_transport, **kwargs)

    saml2.entity.pre_encryption_part = template
    backend = server.sec
    encrypt_assertion = backend.encrypt_assertion

    def with_session_key(statement, enc_key, tmpl, key_type=None, node_xpath=None, node_id=None):
        return encrypt_assertion(statement, enc_key, tmpl, key_type=session_key, node_xpath=node_xpath)

    backend.encrypt_assertion = with_session_key
    args = {"encrypt_assertion": True, "encrypt_assertion_self_contained": True}
    if req.get("encrypt_cert_file"):
        with open(req["encrypt_cert_file"]) as f:
            args["encrypt_cert_assertion"] = f.read()
    return args


def sp_slo(server, binding):
    """The single SP's SingleLogoutService for binding."""
    eid = list(server.metadata.keys())[0]
    slo = server.metadata.single_logout_service(eid, binding, "spsso")
    if not slo:
        raise SystemExit("SP metadata has no SingleLogoutService for %s" % binding)
    return eid, slo[0]["location"]


BINDINGS = {"redirect": BINDING_HTTP_REDIRECT, "post": BINDING_HTTP_POST}


def send(server, binding_name, message_xml, destination, relay_state, typ):
    """The message as the binding carries it: a URL whose query is signed
    (redirect), or the form fields of an HTTP-POST (the message signed in
    its XML already)."""
    binding = BINDINGS[binding_name]
    if binding == BINDING_HTTP_REDIRECT:
        info = server.apply_binding(binding, message_xml, destination, relay_state,
                                    response=(typ == "SAMLResponse"), sign=True,
                                    sigalg=SIG_RSA_SHA256)
        location = dict(info["headers"])["Location"]
        return {"url": location}
    if isinstance(message_xml, str):
        message_xml = message_xml.encode("utf-8")
    fields = {typ: base64.b64encode(message_xml).decode("ascii")}
    if relay_state:
        fields["RelayState"] = relay_state
    return {"url": destination, "fields": fields}


def cmd_logout_request(req):
    server = Server(config=make_config(req))
    binding = req.get("binding", "redirect")
    sp_eid, destination = sp_slo(server, BINDINGS[binding])
    destination = req.get("destination") or destination
    name_id = NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=req["name_id"])
    _, lreq = server.create_logout_request(
        destination, sp_eid, name_id=name_id,
        session_indexes=req.get("session_indexes") or None,
        sign=(binding == "post"), sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
    return send(server, binding, str(lreq), destination, req.get("relay_state") or "", "SAMLRequest")


def verify_redirect(server, param, value, req, issuer):
    """Checks the query signature of the portal's HTTP-Redirect message with
    the SP's signing certificates from its metadata."""
    saml_msg = {param: value, "SigAlg": req["sig_alg"], "Signature": req["signature"]}
    if req.get("relay_state") is not None:
        saml_msg["RelayState"] = req["relay_state"]
    for cert in server.metadata.certs(issuer, "any", "signing"):
        cert_pem = cert[1] if isinstance(cert, tuple) else cert
        if verify_redirect_signature(saml_msg, server.sec.sec_backend, cert_pem):
            return True
    return False


def cmd_logout_response(req):
    # As for parse_authn_request: the redirect binding signs the query, not
    # the XML, which verify_redirect checks.
    req = dict(req, want_authn_requests_signed=False)
    server = Server(config=make_config(req))
    parsed = server.parse_logout_request(req["saml_request"], BINDING_HTTP_REDIRECT)
    msg = parsed.message
    issuer = msg.issuer.text
    read = {
        "id": msg.id,
        "issuer": issuer,
        "destination": msg.destination,
        "name_id": msg.name_id.text,
        "name_id_format": msg.name_id.format or "",
        "name_qualifier": msg.name_id.name_qualifier or "",
        "sp_name_qualifier": msg.name_id.sp_name_qualifier or "",
        "session_indexes": [si.text for si in (msg.session_index or [])],
        "signature_valid": verify_redirect(server, "SAMLRequest", req["saml_request"], req, issuer),
    }
    binding = req.get("binding", "redirect")
    resp = server.create_logout_response(msg, [BINDINGS[binding]], sign=(binding == "post"),
                                         sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
    _, destination = sp_slo(server, BINDINGS[binding])
    out = send(server, binding, str(resp), destination, req.get("relay_state") or "", "SAMLResponse")
    out["request"] = read
    return out


def cmd_parse_logout_response(req):
    server = Server(config=make_config(req))
    parsed = server.parse_logout_request_response(req["saml_response"], BINDING_HTTP_REDIRECT)
    msg = parsed.response
    issuer = msg.issuer.text
    return {
        "in_response_to": msg.in_response_to,
        "status": msg.status.status_code.value,
        "issuer": issuer,
        "destination": msg.destination,
        "signature_valid": verify_redirect(server, "SAMLResponse", req["saml_response"], req, issuer),
    }


def cmd_parse_authn_request(req):
    req = dict(req, want_authn_requests_signed=False)
    server = Server(config=make_config(req))
    # parse_authn_request inflates, parses and checks the request against the
    # SP metadata (issuer known, ACS URL listed) ...
    parsed = server.parse_authn_request(req["saml_request"], BINDING_HTTP_REDIRECT)
    msg = parsed.message
    issuer = msg.issuer.text
    # ... but for the redirect binding the signature is over the query
    # string, which the caller checks separately (saml2 IdP frontends call
    # verify_redirect_signature themselves). Check it with the SP's
    # certificate from its metadata.
    saml_msg = {"SAMLRequest": req["saml_request"], "SigAlg": req["sig_alg"],
                "Signature": req["signature"]}
    if req.get("relay_state") is not None:
        saml_msg["RelayState"] = req["relay_state"]
    certs = server.metadata.certs(issuer, "any", "signing")
    ok = False
    for cert in certs:
        cert_pem = cert[1] if isinstance(cert, tuple) else cert
        if verify_redirect_signature(saml_msg, server.sec.sec_backend, cert_pem):
            ok = True
            break
    nip = msg.name_id_policy
    return {
        "id": msg.id,
        "issuer": issuer,
        "acs_url": msg.assertion_consumer_service_url,
        "name_id_format": nip.format if nip is not None else "",
        "signature_valid": ok,
    }


COMMANDS = {
    "metadata": cmd_metadata,
    "response": cmd_response,
    "parse_authn_request": cmd_parse_authn_request,
    "logout_request": cmd_logout_request,
    "logout_response": cmd_logout_response,
    "parse_logout_response": cmd_parse_logout_response,
}


def main():
    req = json.load(sys.stdin)
    # A list of requests gets a list of replies: Python and pysaml2 take
    # about a second to start, so the Go tests send each table in one go.
    if isinstance(req, list):
        out = [COMMANDS[r["command"]](r) for r in req]
    else:
        out = COMMANDS[req["command"]](req)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
