package admin

// confirmPage asks an admin to confirm a change that cannot be taken back
// with one click (deactivate a user, remove an admin): it says what will
// happen and to whom, with a form that makes the change and a way back.
// It works without JavaScript: the change's button on the list is a link
// to this page.
type confirmPage struct {
	Section, SectionURL string // the list the change is made from
	Title               string
	Effects             []string // what will happen, one sentence each
	Action              string   // where the form posts
	Button              string
}
