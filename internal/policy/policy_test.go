package policy

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// repoRoot returns the repository root (two levels above this package).
func repoRoot(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(wd, "..", "..")
}

// packages maps every directory with non-test Go files to those files.
func packages(t *testing.T) map[string][]string {
	root := repoRoot(t)
	pkgs := map[string][]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && p != root {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			rel, _ := filepath.Rel(root, filepath.Dir(p))
			pkgs[rel] = append(pkgs[rel], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 5 {
		t.Fatalf("found only %d packages under %s", len(pkgs), root)
	}
	return pkgs
}

func TestEveryPackageHasDoc(t *testing.T) {
	for dir, files := range packages(t) {
		documented := false
		for _, f := range files {
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			if af.Doc != nil && strings.TrimSpace(af.Doc.Text()) != "" {
				documented = true
			}
		}
		if !documented {
			t.Errorf("package %s has no package comment", dir)
		}
	}
}

// pure lists the packages that must stay free of side effects (DESIGN.md §6), and the
// imports they must not use.
var pure = []string{"internal/rscode", "internal/merkle", "internal/redstuff", "internal/bcs", "internal/committee", "internal/chain"}

var impure = []string{"net", "net/http", "os", "os/exec", "time", "syscall", "io/ioutil", "math/rand", "math/rand/v2"}

func TestPurePackagesImportNoSideEffects(t *testing.T) {
	pkgs := packages(t)
	for _, dir := range pure {
		for _, f := range pkgs[dir] {
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range af.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				for _, bad := range impure {
					if path == bad {
						t.Errorf("%s imports %q; pure packages take side effects as parameters", f, path)
					}
				}
			}
		}
	}
}
