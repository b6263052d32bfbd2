package session

import (
	"reflect"
	"strings"
	"testing"
)

func TestSubjectColumnsFollowTheFieldsOrder(t *testing.T) {
	type inner struct {
		Name string `db:"name"`
	}
	type account struct {
		SiteID int64 `db:"site_id"`
		ID     int64 `db:"id"`
		inner
		Skipped string `db:"-"`
		hidden  int
		Last    string `db:"last"`
	}
	columns, fields := dbColumns(reflect.TypeFor[account]())
	if want := []string{"site_id", "id", "name", "last"}; !reflect.DeepEqual(columns, want) {
		t.Errorf("columns of account = %v, want %v", columns, want)
	}
	var a account
	targets := scanTargets(nil, &a, fields)
	if len(targets) != 4 || targets[0] != &a.SiteID || targets[1] != &a.ID || targets[2] != &a.Name || targets[3] != &a.Last {
		t.Errorf("scan targets of account = %v, want its site_id, id, name and last fields in order", targets)
	}
	for _, target := range targets {
		if target == &a.hidden || target == &a.Skipped {
			t.Errorf("an unexported or db:\"-\" field is a scan target")
		}
	}
	if lookup := NewSubject[account]("accounts").lookup; !strings.Contains(lookup, "SELECT live.*, t.site_id, t.id, t.name, t.last FROM live\nJOIN accounts t ON t.site_id = live.site_id AND t.id = live.subject_id") {
		t.Errorf("the lookup does not read account's columns from its table on the session's site:\n%s", lookup)
	}

	// live.* is the session's columns as sessionColumns lists them: the
	// Session's fields must come in that order.
	var listed []string
	for c := range strings.SplitSeq(sessionColumns, ",") {
		listed = append(listed, strings.TrimSpace(c))
	}
	if got, _ := dbColumns(reflect.TypeFor[Session]()); !reflect.DeepEqual(got, listed) {
		t.Errorf("Session's fields are in the order %v, its columns %v", got, listed)
	}

	defer func() {
		if recover() == nil {
			t.Error("a field without a db tag did not panic")
		}
	}()
	NewSubject[struct{ Untagged string }]("accounts")
}
