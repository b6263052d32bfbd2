package portaltest

import (
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// FormValues returns what a browser sends for the form with the given id
// on a page, untouched: its text, hidden and other inputs with their
// values, ticked checkboxes and radio buttons ("on" unless they have a
// value), the selected option of each select (the first when none is),
// text areas — its own controls and those outside it that name it with
// form="id". Buttons and disabled controls are not sent. A test that
// changes one field of the result sends exactly what a person who changed
// only that field sends.
func FormValues(t testing.TB, body, formID string) url.Values {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse the page: %v", err)
	}
	values := url.Values{}
	found := false
	var walk func(n *html.Node, form string)
	walk = func(n *html.Node, form string) {
		if n.Type == html.ElementNode {
			if n.DataAtom == atom.Form {
				form = attr(n, "id")
				found = found || form == formID
			}
			owner := form
			if f, ok := attrOK(n, "form"); ok {
				owner = f
			}
			if owner == formID && !hasAttr(n, "disabled") {
				addControl(values, n)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, form)
		}
	}
	walk(doc, "")
	if !found {
		t.Fatalf("the page has no form with id %q", formID)
	}
	return values
}

// addControl adds what the control n sends, if it is one.
func addControl(values url.Values, n *html.Node) {
	name := attr(n, "name")
	if name == "" {
		return
	}
	switch n.DataAtom {
	case atom.Input:
		switch strings.ToLower(attr(n, "type")) {
		case "submit", "button", "reset", "image", "file":
		case "checkbox", "radio":
			if hasAttr(n, "checked") {
				v, ok := attrOK(n, "value")
				if !ok {
					v = "on"
				}
				values.Add(name, v)
			}
		default:
			values.Add(name, attr(n, "value"))
		}
	case atom.Textarea:
		values.Add(name, text(n))
	case atom.Select:
		var first *html.Node
		selected := false
		var options func(*html.Node)
		options = func(o *html.Node) {
			for c := o.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && c.DataAtom == atom.Option {
					if first == nil {
						first = c
					}
					if hasAttr(c, "selected") {
						values.Add(name, optionValue(c))
						selected = true
					}
				}
				options(c)
			}
		}
		options(n)
		if !selected && first != nil && !hasAttr(n, "multiple") {
			values.Add(name, optionValue(first))
		}
	}
}

func optionValue(o *html.Node) string {
	if v, ok := attrOK(o, "value"); ok {
		return v
	}
	return strings.TrimSpace(text(o))
}

func text(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func attr(n *html.Node, key string) string {
	v, _ := attrOK(n, key)
	return v
}

func hasAttr(n *html.Node, key string) bool {
	_, ok := attrOK(n, key)
	return ok
}
