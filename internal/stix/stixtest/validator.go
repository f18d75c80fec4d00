// Package stixtest checks STIX 2.1 objects against the official OASIS
// schemas (cti-stix2-json-schemas, copied into internal/stix/testdata with
// their source commit), for the tests of every transport that produces
// STIX.
package stixtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaBase is the $id prefix of the official schemas (testdata/…/SOURCE.md).
const schemaBase = "http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/"

// Validator checks STIX objects against the official OASIS STIX 2.1 JSON
// schemas, by type, with format assertions on.
type Validator struct{ schemas map[string]*jsonschema.Schema }

// NewValidator compiles the schemas under dir (the testdata copy).
func NewValidator(t testing.TB, dir string) *Validator {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	byType := map[string]string{}
	fsys := os.DirFS(dir)
	err := fs.WalkDir(fsys, "schemas", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return err
		}
		if err := c.AddResource(schemaBase+p, doc); err != nil {
			return err
		}
		byType[strings.TrimSuffix(path.Base(p), ".json")] = schemaBase + p
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	v := &Validator{schemas: map[string]*jsonschema.Schema{}}
	for typ, url := range byType {
		s, err := c.Compile(url)
		if err != nil {
			t.Fatalf("compile %s: %v", typ, err)
		}
		v.schemas[typ] = s
	}
	return v
}

// Check validates one object (or a bundle) by its type's schema.
func (v *Validator) Check(t testing.TB, obj any) {
	t.Helper()
	if err := v.Validate(obj); err != nil {
		b, _ := json.Marshal(obj)
		t.Errorf("does not validate against the official STIX 2.1 schema: %v\n%s", err, b)
	}
}

// Validate validates obj by its type's schema.
func (v *Validator) Validate(obj any) error {
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	typ, _ := inst.(map[string]any)["type"].(string)
	s := v.schemas[typ]
	if s == nil {
		return fmt.Errorf("no official schema for type %q", typ)
	}
	return s.Validate(inst)
}
