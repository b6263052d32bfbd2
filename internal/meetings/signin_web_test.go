package meetings_test

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
)

func TestMain(m *testing.M) {
	sso.SetClockSkew(3 * time.Minute)
	os.Exit(m.Run())
}

// trustIdP points acme at an Azure-shaped test IdP, SSO on, accounts
// created at the first sign-in.
func (w *portal) trustIdP() *ssotest.IdP {
	w.t.Helper()
	ctx := context.Background()
	idp := ssotest.NewIdP(w.t)
	if err := w.App.SSO.SaveIdP(ctx, w.acme.ID, &idpmeta.IdP{EntityID: idp.EntityID, SSOURL: idp.SSOURL, Certificates: []*x509.Certificate{idp.Cert}}); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.App.SSO.UpdateSettings(ctx, w.acme.ID, func(s *sso.Settings) error {
		s.Enabled, s.AutoCreate = true, true
		return nil
	}); err != nil {
		w.t.Fatal(err)
	}
	return idp
}

// signInThroughIdP follows a redirect to the IdP as a browser would, signs
// email in there and posts the answer to the ACS; it returns the ACS's
// answer, which sends the browser on.
func (w *portal) signInThroughIdP(idp *ssotest.IdP, toIdP *http.Response, email, first, last string) *http.Response {
	w.t.Helper()
	if toIdP.StatusCode != http.StatusFound || !strings.HasPrefix(toIdP.Header.Get("Location"), idp.SSOURL) {
		w.t.Fatalf("not sent to the IdP: %d %q", toIdP.StatusCode, toIdP.Header.Get("Location"))
	}
	request, relayState := ssotest.AuthnRequest(w.t, toIdP.Header.Get("Location"))
	response := idp.Response(w.t, ssotest.Options{
		ACS: "http://acme.localhost:8080/saml/acs", Audience: "http://acme.localhost:8080/saml/metadata",
		InResponseTo: request.SelectAttrValue("ID", ""), NameID: email,
		// One object ID per person, as Azure keeps it across sign-ins.
		Attributes: idp.AzureClaims(email, first, last, "object-id-of-"+email),
	})
	req := portaltest.Request("POST", acmeHost, "/saml/acs", url.Values{
		"SAMLResponse": {ssotest.Encode(response)}, "RelayState": {relayState},
	})
	// The IdP's form posts cross-site, as Azure's does, with the cookie that
	// binds the sign-in to the browser that started it.
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	for _, c := range toIdP.Cookies() {
		req.AddCookie(c)
	}
	return w.Serve(req)
}

func TestJoinLinkGoesThroughSingleSignOnAndComesBackToItself(t *testing.T) {
	w := newPortal(t)
	idp := w.trustIdP()
	number := w.schedule(url.Values{"invitees": {"erin.cho@acme.example.com"}})
	w.post("/meetings/"+number+"/start", nil, w.hostC)

	for _, link := range []string{"/j/" + number, "/meet/ann.lee"} {
		// The room exists once its owner has been home.
		w.get("/", w.hostC)
		toIdP := w.Do("GET", acmeHost, link, nil)
		back := w.signInThroughIdP(idp, toIdP, "erin.cho@acme.example.com", "Erin", "Cho")
		if back.StatusCode != http.StatusSeeOther || back.Header.Get("Location") != link {
			t.Fatalf("%s: after sign-in the ACS sends the browser to %d %q, want the link itself", link, back.StatusCode, back.Header.Get("Location"))
		}
		session := portaltest.Cookie(back, "session")
		if session == nil {
			t.Fatalf("%s: no session after sign-in", link)
		}
		resp, body := w.get(link, session)
		switch link {
		case "/j/" + number:
			redirect(t, "the join link, signed in", resp, body, "/meetings/"+number+"?join=1")
			resp, body = w.get("/meetings/"+number+"?join=1", session)
			expect(t, "the meeting page", resp, body, http.StatusOK, "Design review", `data-autosubmit`, "Walk through the mock-ups.")
		default:
			expect(t, "the room, signed in", resp, body, http.StatusOK, "Ann Lee&#39;s personal room")
		}
	}
}

func TestGuestMayStillSignInFromTheJoinPage(t *testing.T) {
	w := newPortal(t)
	idp := w.trustIdP()
	number := w.schedule(guestsAllowed)
	resp, body := w.get("/j/" + number)
	expect(t, "join page", resp, body, http.StatusOK, `href="/j/`+number+`?sign-in=1"`, `id="guest-form"`)
	back := w.signInThroughIdP(idp, w.Do("GET", acmeHost, "/j/"+number+"?sign-in=1", nil), "erin.cho@acme.example.com", "Erin", "Cho")
	if back.Header.Get("Location") != "/j/"+number+"?sign-in=1" {
		t.Fatalf("after sign-in: %q", back.Header.Get("Location"))
	}
	resp, body = w.get("/j/"+number+"?sign-in=1", portaltest.Cookie(back, "session"))
	redirect(t, "signed in at the join link", resp, body, "/meetings/"+number+"?join=1")
}
