package audit_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/internal/audit"
)

// actionCode is what an audit action code looks like in the source.
var actionCode = regexp.MustCompile(`^(admin|sso|user|meetings)\.[a-z][a-z-]*$`)

// actionPrefix is the start of a code built by concatenation, which the
// scan could not check.
var actionPrefix = regexp.MustCompile(`^(admin|sso|user|meetings)\.$`)

// TestEveryRecordedActionHasWords reads every Go file of the module (not
// tests) and checks that each string that looks like an action code has
// words in the table, and that no code is built from pieces.
func TestEveryRecordedActionHasWords(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		file, err := parser.ParseFile(fset, path, src, 0)
		if err != nil {
			return err
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BasicLit:
				if s, err := strconv.Unquote(n.Value); err == nil && n.Kind == token.STRING && actionCode.MatchString(s) {
					seen[s] = true
					if !audit.Known(s) {
						t.Errorf("%s: action %q has no words in internal/audit/actions.go", fset.Position(n.Pos()), s)
					}
				}
			case *ast.BinaryExpr:
				if lit, ok := n.X.(*ast.BasicLit); ok && n.Op == token.ADD && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil && actionPrefix.MatchString(s) {
						t.Errorf("%s: an action code built as %q + …: write each code whole so it can be checked", fset.Position(n.Pos()), s)
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The scan found the codes it should: it reads the right files.
	for _, code := range []string{"sso.import-metadata", "user.deactivate", "admin.add", "admin.sign-in-failed"} {
		if !seen[code] {
			t.Errorf("the scan did not find %q in the source", code)
		}
	}
}

func TestWordsOfActions(t *testing.T) {
	for _, tc := range []struct{ code, want string }{
		{"sso.import-metadata", "Imported identity provider metadata"},
		{"user.deactivate", "Deactivated a user"},
		{"admin.sign-in-failed", "Failed admin sign-in"},
		{"sso.something-retired", "sso.something-retired"},
	} {
		if got := audit.Words(tc.code); got != tc.want {
			t.Errorf("Words(%q) = %q, want %q", tc.code, got, tc.want)
		}
	}
	for _, a := range audit.Actions() {
		if a.Words == "" || a.Words == a.Code {
			t.Errorf("action %q has no words", a.Code)
		}
	}
}

func TestParseDetail(t *testing.T) {
	for _, tc := range []struct {
		line string
		want audit.Details
	}{
		{"", nil},
		{"britta@contoso.com (id 4)", audit.Details{{Value: "britta@contoso.com (id 4)"}}},
		{"Auto Account Creation: off → on; MFA: on → off", audit.Details{
			{Name: "Auto Account Creation", Value: "off → on"}, {Name: "MFA", Value: "on → off"}}},
		{"https://idp.example/x: y", audit.Details{{Value: "https://idp.example/x: y"}}},
		{"a name far too long to be a name of anything at all: x", audit.Details{{Value: "a name far too long to be a name of anything at all: x"}}},
	} {
		got := audit.ParseDetail(tc.line)
		if len(got) != len(tc.want) {
			t.Errorf("ParseDetail(%q) = %#v, want %#v", tc.line, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("ParseDetail(%q)[%d] = %#v, want %#v", tc.line, i, got[i], tc.want[i])
			}
		}
		if tc.line != "" && got.String() != tc.line {
			t.Errorf("ParseDetail(%q).String() = %q", tc.line, got.String())
		}
	}
}
