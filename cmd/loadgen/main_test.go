package main

import (
	"strings"
	"testing"
)

// The configuration loadgen prints names every setting but shows no secret.
func TestDescribeHidesSecrets(t *testing.T) {
	got := describe([]string{
		"GADGET_DATABASE_URL=postgres://gadget:db-pass-1@127.0.0.1:5432/x?sslmode=disable",
		"GADGET_JWT_SECRET=jwt-secret-2", "GADGET_VIRUSTOTAL_API_KEY=vt-key-3", "GADGET_ROOT_PASSWORD=root-pass-4",
		"GADGET_LOG_LEVEL=error",
	})
	for _, secret := range []string{"db-pass-1", "jwt-secret-2", "vt-key-3", "root-pass-4"} {
		if strings.Contains(got, secret) {
			t.Errorf("describe shows %q: %s", secret, got)
		}
	}
	for _, want := range []string{"postgres://gadget@127.0.0.1:5432/x", "GADGET_JWT_SECRET=(set)", "GADGET_VIRUSTOTAL_API_KEY=(set)",
		"GADGET_ROOT_PASSWORD=(set)", "GADGET_LOG_LEVEL=error"} {
		if !strings.Contains(got, want) {
			t.Errorf("describe = %s; want it to hold %q", got, want)
		}
	}
}
