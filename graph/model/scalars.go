package model

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalStringMap writes a map[string]string (VirusTotal's categories,
// URLhaus's blacklists) as the JSON scalar, exactly as graphql.MarshalAny
// would; gqlgen.yml lists it beside graphql.Any so such summary fields bind
// without a hand-written resolver. A nil map is null.
func MarshalStringMap(m map[string]string) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		if err := json.NewEncoder(w).Encode(m); err != nil {
			panic(err) // a map of strings always encodes
		}
	})
}

// UnmarshalStringMap reads a JSON object of strings.
func UnmarshalStringMap(v any) (map[string]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case map[string]string:
		return v, nil
	case map[string]any:
		out := make(map[string]string, len(v))
		for k, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("JSON: %q is %T, want a string", k, x)
			}
			out[k] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("JSON: %T is not an object of strings", v)
}
