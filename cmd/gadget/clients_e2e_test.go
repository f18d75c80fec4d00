package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// clientScripts holds our drivers of the official Python clients.
const clientScripts = "../../scripts/clients"

// officialClients returns python3 and the directory of the official
// clients (cortex4py, taxii2-client) named by GADGET_CLIENTS_DIR, or skips
// saying which is missing. The clients are not part of this repository:
// docs/integrations.md says which versions were checked and how to get them.
func officialClients(t *testing.T) (python, dir string) {
	t.Helper()
	dir = os.Getenv("GADGET_CLIENTS_DIR")
	if dir == "" {
		t.Skip("GADGET_CLIENTS_DIR is not set: point it at checkouts of cortex4py and taxii2-client (docs/integrations.md)")
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skipf("python3 not found: %v", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return python, abs
}

// runClient runs one of our driver scripts and fails the test with its
// output when it exits non-zero.
func runClient(t *testing.T, python, dir, script string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, append([]string{filepath.Join(clientScripts, script)}, args...)...)
	cmd.Env = append(os.Environ(), "GADGET_CLIENTS_DIR="+dir)
	out, err := cmd.CombinedOutput()
	t.Logf("%s:\n%s", script, out)
	if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
}

// TestOfficialClients drives the Cortex API with cortex4py (analyzers →
// run → wait → report) and the TAXII 2.1 server with taxii2-client
// (discovery → API root → collections → objects paged, manifest) through
// scripts/clients, on both storage configurations, each user with an API
// key of their own.
func TestOfficialClients(t *testing.T) {
	t.Parallel()
	python, dir := officialClients(t)
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			env := be.env(t)
			env["GADGET_ROOT_PASSWORD"] = rootPW
			withFake(t, env)
			in := start(t, env)
			root := in.token("root", rootPW, "")
			field[map[string]any](t, in.gql(root, `mutation { createUser(username: "alice", password: "clients-password-1") { username } }`, nil), "createUser")
			alice := in.token("alice", "clients-password-1", "")

			const ip = "203.0.113.45" // the fake providers find it malicious
			runClient(t, python, dir, "cortex4py_check.py", "--url", in.base+"/cortex", "--key", in.apiKey(alice, "thehive", "TASKS"), "--ip", ip)

			// enough stored verdicts for several pages, after the one the
			// Cortex run published
			const n = 35
			putIndicators(t, env["GADGET_DATABASE_URL"], n, 2, time.Now().UTC().Add(time.Hour))
			runClient(t, python, dir, "taxii2_check.py", "--url", in.base+"/taxii2/", "--user", "alice", "--key", in.apiKey(alice, "sentinel", "TASKS"),
				"--ip", ip, "--min-objects", strconv.Itoa(n+1), "--page", "10")
		})
	}
}
