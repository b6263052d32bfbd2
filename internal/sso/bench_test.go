package sso_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/app"
	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/users"

	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
	"github.com/meetings-portal/portal/internal/sso/xmlguard"
)

// BenchmarkConsume measures the ACS pipeline for one Azure-shaped,
// IdP-initiated response: xmlguard, signature and condition checks, the
// replay-cache insert and the settings and key loads from PostgreSQL.
// Responses are signed before the timer starts.
func BenchmarkConsume(b *testing.B) {
	ctx := context.Background()
	tp := portaltest.New(b)
	svc := tp.App.SSO
	idp := ssotest.NewIdP(b)
	site := trustingSite(b, tp, "acme", idp)
	responses := make([]string, b.N)
	for i := range responses {
		responses[i] = ssotest.Encode(idp.Response(b, ssotest.Options{ACS: acmeACS, Audience: acmeEntityID, Now: time.Now()}))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := svc.Consume(ctx, site, responses[i], "", ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkXMLGuard measures the portal's structural pre-checks alone.
func BenchmarkXMLGuard(b *testing.B) {
	idp := ssotest.NewIdP(b)
	form := ssotest.Encode(idp.Response(b, ssotest.Options{ACS: acmeACS, Audience: acmeEntityID}))
	b.ReportAllocs()
	b.SetBytes(int64(len(form)))
	for i := 0; i < b.N; i++ {
		if _, err := xmlguard.Decode(form); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkACSHandler measures a whole IdP-initiated sign-in of an existing
// user through the portal's handler (no network): routing, the ACS checks,
// the account, session and event written in one transaction, the redirect.
func BenchmarkACSHandler(b *testing.B) {
	// One client posts every response, each unsolicited and so charged to
	// its sign-in budget: the budget is not what is measured.
	tp := portaltest.New(b, portaltest.Configure(func(a *app.App) { a.SignInRate = math.MaxInt32 }))
	idp := ssotest.NewIdP(b)
	trustingSite(b, tp, "acme", idp)
	post := func(response string) *http.Response {
		req := portaltest.Request("POST", acmeHost, "/saml/acs", url.Values{"SAMLResponse": {response}})
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		return tp.Serve(req)
	}
	// The user exists: the first sign-in made the account.
	if resp := post(ssotest.Encode(idp.Response(b, ssotest.Options{ACS: acmeACS, Audience: acmeEntityID}))); resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("first sign-in: %d", resp.StatusCode)
	}
	responses := make([]string, b.N)
	for i := range responses {
		responses[i] = ssotest.Encode(idp.Response(b, ssotest.Options{ACS: acmeACS, Audience: acmeEntityID, Now: time.Now()}))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if resp := post(responses[i]); resp.StatusCode != http.StatusSeeOther {
			b.Fatalf("sign-in %d: %d", i, resp.StatusCode)
		}
	}
}

// The steps of one sign-in, each alone: BenchmarkXMLGuard (decode and the
// structural checks), BenchmarkStepVerify (crewjam's signature and
// condition checks), then the writes of the sign-in's transaction:
// BenchmarkStepReplay, BenchmarkStepAccount (account and session),
// BenchmarkStepEvent. BenchmarkACSHandler is all of them with routing and
// the response.

// BenchmarkStepVerify measures crewjam's ParseXMLResponse alone on the
// decoded response: what the portal pays for the signature and the
// conditions.
func BenchmarkStepVerify(b *testing.B) {
	idp := ssotest.NewIdP(b)
	var idpDesc saml.EntityDescriptor
	if err := xml.Unmarshal(idp.MetadataXML(), &idpDesc); err != nil {
		b.Fatal(err)
	}
	metadataURL, _ := url.Parse(acmeEntityID)
	acsURL, _ := url.Parse(acmeACS)
	sp := &saml.ServiceProvider{EntityID: acmeEntityID, MetadataURL: *metadataURL, AcsURL: *acsURL,
		IDPMetadata: &idpDesc, AllowIDPInitiated: true}
	responses := make([][]byte, b.N)
	for i := range responses {
		doc := idp.Response(b, ssotest.Options{ACS: acmeACS, Audience: acmeEntityID, Now: time.Now()})
		var err error
		if responses[i], err = doc.WriteToBytes(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := sp.ParseXMLResponse(responses[i], nil, *acsURL); err != nil {
			b.Fatal(err)
		}
	}
}

// inTx runs write b.N times, each in a transaction of its own, as the
// sign-in's transaction holds it.
func inTx(b *testing.B, tp *portaltest.Portal, write func(ctx context.Context, tx pgx.Tx, i int) error) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := pgx.BeginFunc(ctx, tp.App.Pool, func(tx pgx.Tx) error { return write(ctx, tx, i) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStepReplay measures writing an assertion's replay-cache entry.
func BenchmarkStepReplay(b *testing.B) {
	tp := portaltest.New(b)
	site := tp.CreateSite("acme")
	expires := time.Now().Add(time.Hour)
	inTx(b, tp, func(ctx context.Context, tx pgx.Tx, i int) error {
		return sso.RecordReplay(ctx, tx, site.ID, fmt.Sprintf("_assertion-%d", i), expires)
	})
}

// BenchmarkStepAccount measures an existing user's sign-in: the account
// found and updated from the claims, the session made.
func BenchmarkStepAccount(b *testing.B) {
	tp := portaltest.New(b)
	site := tp.CreateSite("acme")
	id := users.Identity{UID: "alice@example.com", Email: "alice@example.com", FirstName: "Alice", LastName: "Liddell"}
	policy := users.Policy{AutoCreate: true, AutoUpdate: true, Role: "host"}
	origin := session.Origin{UserAgent: "Mozilla/5.0", ClientIP: "192.0.2.1", NameID: id.UID}
	if _, _, err := tp.App.Users.SignIn(context.Background(), site.ID, id, policy); err != nil {
		b.Fatal(err)
	}
	inTx(b, tp, func(ctx context.Context, tx pgx.Tx, i int) error {
		_, _, err := tp.App.Users.SignInTx(ctx, tx, site.ID, id, policy, origin)
		return err
	})
}

// BenchmarkStepAccountFirst measures a user's first sign-in: no account
// with the uid, the look-alike check, the account created, the session
// made. The site has 1,000 other accounts.
func BenchmarkStepAccountFirst(b *testing.B) {
	tp := portaltest.New(b)
	site := tp.CreateSite("acme")
	policy := users.Policy{AutoCreate: true, AutoUpdate: true, Role: "host"}
	ctx := context.Background()
	if _, err := tp.App.Pool.Exec(ctx, `INSERT INTO users (site_id, uid, email, created_at, updated_at, uid_skeleton)
		SELECT $1, 'user' || g || '@example.com', 'user' || g || '@example.com', now(), now(), 'user' || g || '@example.com'
		FROM generate_series(1, 1000) g`, site.ID); err != nil {
		b.Fatal(err)
	}
	if _, err := tp.App.Pool.Exec(ctx, `ANALYZE users`); err != nil {
		b.Fatal(err)
	}
	inTx(b, tp, func(ctx context.Context, tx pgx.Tx, i int) error {
		uid := fmt.Sprintf("new%d@example.com", i)
		id := users.Identity{UID: uid, Email: uid, FirstName: "New", LastName: "Person"}
		_, _, err := tp.App.Users.SignInTx(ctx, tx, site.ID, id, policy, session.Origin{UserAgent: "Mozilla/5.0", ClientIP: "192.0.2.1", NameID: uid})
		return err
	})
}

// BenchmarkStepEvent measures writing the sign-in's event.
func BenchmarkStepEvent(b *testing.B) {
	tp := portaltest.New(b)
	site := tp.CreateSite("acme")
	inTx(b, tp, func(ctx context.Context, tx pgx.Tx, i int) error {
		e := sso.Event{SiteID: site.ID, Reference: fmt.Sprintf("req-%d", i), Flow: sso.FlowIdP, Result: sso.ResultSuccess,
			NameID: "alice@example.com", ClientIP: "192.0.2.1"}
		return tp.App.SSO.RecordEventTx(ctx, tx, e)
	})
}
