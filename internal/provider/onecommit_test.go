package provider_test

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/inspector-gadget/gadget/internal/provider"
)

// issue19Base is the commit before the first provider of issue 19 (the
// REST source names); every provider whose file was added after it must
// have been added by a commit of its own.
const issue19Base = "de84a3b"

// TestProviderAddedInOneCommit checks the claim "adding a provider touches
// one Go file plus its testdata" against history: the commit that added
// internal/provider/<name>.go changes only that file, its test, its
// testdata and the files `make generate` writes. It needs the repository's
// history and is skipped without it (a tarball, a shallow clone).
func TestProviderAddedInOneCommit(t *testing.T) {
	t.Parallel()
	git := func(args ...string) (string, bool) {
		out, err := exec.Command("git", append([]string{"-C", repoRoot}, args...)...).Output()
		return strings.TrimSpace(string(out)), err == nil
	}
	if _, ok := git("cat-file", "-e", issue19Base+"^{commit}"); !ok {
		t.Skip("no git history with the issue 19 base commit")
	}
	checked := 0
	for _, d := range provider.Descriptors() {
		file := "internal/provider/" + d.Name + ".go"
		added, ok := git("log", "--diff-filter=A", "--format=%H", "--", file)
		if !ok || added == "" {
			continue // not committed yet
		}
		commit := strings.Fields(added)[len(strings.Fields(added))-1]
		if _, after := git("merge-base", "--is-ancestor", issue19Base, commit); !after || strings.HasPrefix(commit, issue19Base) {
			continue // an older provider, added with the pipeline
		}
		files, _ := git("show", "--name-only", "--format=", commit)
		for _, f := range strings.Fields(files) {
			own := f == file || f == "internal/provider/"+d.Name+"_test.go" ||
				strings.HasPrefix(f, "internal/provider/testdata/"+d.Name+"/") ||
				slices.Contains(generated, f) || f == "docs/providers.md" || f == "docs/policy.md"
			if !own {
				t.Errorf("provider %s was added by %.10s, which also changes %s (want only %s, its test, testdata/%s/ and generated files)",
					d.Name, commit, filepath.ToSlash(f), file, d.Name)
			}
		}
		checked++
	}
	t.Logf("%d providers added after %s checked", checked, issue19Base)
}
