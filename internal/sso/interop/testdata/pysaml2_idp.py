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

Replies:
  metadata:             {"metadata": "<EntityDescriptor ...>"}
  response:             {"response": "<base64 of the Response XML>"}
  parse_authn_request:  {"id": ..., "issuer": ..., "acs_url": ...,
                         "name_id_format": ..., "signature_valid": bool}
"""

import base64
import json
import os
import sys

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
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
    )
    if isinstance(resp, list):
        raise SystemExit("pysaml2 made an error response: %s" % "\n".join(resp))
    if not isinstance(resp, bytes):
        resp = str(resp).encode("utf-8")
    return {"response": base64.b64encode(resp).decode("ascii")}


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
