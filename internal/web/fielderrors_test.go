package web

import (
	"html/template"
	"testing"
)

func TestErrorSummaryListsProblemsInFormOrderAndLeavesNoneOut(t *testing.T) {
	errs := map[string]string{"b": "B is wrong", "a": "A is wrong", "zz": "not in the order", "empty": ""}
	s := NewErrorSummary("Not saved", errs, "b", "a", "missing")
	var got []string
	for _, e := range s.Errors {
		got = append(got, e.Name+": "+e.Error)
	}
	want := []string{"b: B is wrong", "a: A is wrong", "zz: not in the order"}
	if len(got) != len(want) {
		t.Fatalf("summary %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("summary %q, want %q", got, want)
		}
	}
	if NewErrorSummary("Not saved", nil).Errors != nil {
		t.Error("a form with no errors has a summary")
	}
}

func TestFieldAttrsDescribeTheFieldByItsHelpAndItsError(t *testing.T) {
	errs := map[string]string{"url": "Enter an https:// address."}
	cases := []struct {
		name string
		help []string
		want template.HTMLAttr
	}{
		{"url", []string{"url-help"}, `aria-describedby="url-help url-error" aria-invalid="true"`},
		{"url", nil, `aria-describedby="url-error" aria-invalid="true"`},
		{"name", []string{"name-help"}, `aria-describedby="name-help"`},
		{"name", nil, ``},
	}
	for _, c := range cases {
		if got := fieldAttrs(errs, c.name, c.help...); got != c.want {
			t.Errorf("fieldAttrs(%s, %v) = %q, want %q", c.name, c.help, got, c.want)
		}
	}
}
