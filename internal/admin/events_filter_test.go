package admin_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/internal/sso"
)

// TestEventsUserFilterSearchesForTheTextAsTyped: _ and % (LIKE's
// wildcards) and \ (its escape character) typed in the User filter are
// looked for as characters, not patterns.
func TestEventsUserFilterSearchesForTheTextAsTyped(t *testing.T) {
	p := newPortal(t)
	names := map[string]string{
		"UNDE-RSCO-RE22": "b_simon@contoso.com",
		"PLAI-NNAM-E222": "bxsimon@contoso.com",
		"PERC-ENT2-2222": "100%sure@contoso.com",
		"BACK-SLAS-H222": `back\slash@contoso.com`,
	}
	for ref, nameID := range names {
		p.record(sso.Event{SiteID: p.acme.ID, Reference: ref, Result: sso.ResultSuccess, NameID: nameID, Flow: sso.FlowSP})
	}
	cases := []struct {
		user string
		want []string
	}{
		{"_", []string{"UNDE-RSCO-RE22"}},
		{"B_SIM", []string{"UNDE-RSCO-RE22"}},
		{"%", []string{"PERC-ENT2-2222"}},
		{"0%s", []string{"PERC-ENT2-2222"}},
		{`\`, []string{"BACK-SLAS-H222"}},
		{`k\s`, []string{"BACK-SLAS-H222"}},
		{"simon", []string{"UNDE-RSCO-RE22", "PLAI-NNAM-E222"}},
		{"%%", nil},
		{"__", nil},
	}
	for _, c := range cases {
		t.Run(c.user, func(t *testing.T) {
			body := p.get(acmeHost, "/admin/events?user="+url.QueryEscape(c.user), p.acmeAdmin)
			for ref := range names {
				want := strings.Contains(strings.Join(c.want, " "), ref)
				if strings.Contains(body, ref) != want {
					t.Errorf("user=%s: %s (%s) shown %v, want %v", c.user, ref, names[ref], !want, want)
				}
			}
			if n := rowCount(t, body, "events"); n != len(c.want) {
				t.Errorf("user=%s: %d rows, want %d", c.user, n, len(c.want))
			}
		})
	}
}
