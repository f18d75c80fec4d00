package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/errcode"
)

// input is a request's parameters, from the query string and from a JSON,
// form-encoded or multipart body, as the original took them: JSON values
// keep their type, query and form values are strings.
type input map[string]any

// readInput gathers r's query and body parameters. A name given twice, an
// unknown name or an unreadable body is a 400 naming the field.
func readInput(r *http.Request, allowed ...string) (input, error) {
	in := input{}
	add := func(vals map[string][]string) error {
		for k, vs := range vals {
			if _, dup := in[k]; dup || len(vs) > 1 {
				return errcode.Field(k, k+" given more than once")
			}
			in[k] = vs[0]
		}
		return nil
	}
	if err := add(r.URL.Query()); err != nil {
		return nil, err
	}
	if r.Body != nil && r.Body != http.NoBody && (r.ContentLength != 0 || r.Header.Get("Content-Type") != "") {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch ct {
		case "application/json", "":
			var body map[string]any
			dec := json.NewDecoder(r.Body)
			dec.UseNumber()
			if err := dec.Decode(&body); err != nil && !errors.Is(err, io.EOF) {
				return nil, bodyError(err, "body must be a JSON object")
			}
			for k, v := range body {
				if _, dup := in[k]; dup {
					return nil, errcode.Field(k, k+" given more than once")
				}
				in[k] = v
			}
		case "application/x-www-form-urlencoded", "multipart/form-data":
			if err := parseForm(r, ct); err != nil {
				return nil, bodyError(err, "malformed form")
			}
			if err := add(r.PostForm); err != nil {
				return nil, err
			}
		default:
			return nil, errcode.Field("Content-Type", "send application/json or a form")
		}
	}
	for k := range in {
		if !contains(allowed, k) {
			return nil, errcode.Field(k, "unknown parameter "+quoteShort(k))
		}
	}
	if read, ok := r.Context().Value(paramsKey{}).(*input); ok {
		*read = in
	}
	return in, nil
}

// parseForm parses a form body of content type ct (url-encoded or
// multipart) into r.PostForm.
func parseForm(r *http.Request, ct string) error {
	if ct == "multipart/form-data" {
		// The form's values are all we read; any file part is dropped
		// at once (r is a copy of the server's request, whose clean-up
		// would not see this form).
		err := r.ParseMultipartForm(maxFormBytes)
		if r.MultipartForm != nil {
			r.MultipartForm.RemoveAll()
		}
		return err
	}
	return r.ParseForm()
}

func bodyError(err error, msg string) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errcode.Field("body", "request body is too large")
	}
	return errcode.Field("body", msg)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func quoteShort(s string) string {
	if len(s) > 32 {
		s = s[:32] + "…"
	}
	return strconv.Quote(s)
}

// str returns a string parameter ("" when absent).
func (in input) str(name string) (string, error) {
	switch v := in[name].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	}
	return "", errcode.Field(name, name+" must be a string")
}

// required returns a string parameter that must be present and non-empty.
func (in input) required(name string) (string, error) {
	s, err := in.str(name)
	if err == nil && s == "" {
		err = errcode.Field(name, name+" is required")
	}
	return s, err
}

// credentials returns the required username and password.
func (in input) credentials() (username, password string, err error) {
	if username, err = in.required("username"); err != nil {
		return "", "", err
	}
	password, err = in.required("password")
	return username, password, err
}

// boolean returns a boolean parameter, def when absent.
func (in input) boolean(name string, def bool) (bool, error) {
	switch v := in[name].(type) {
	case nil:
		return def, nil
	case bool:
		return v, nil
	case string:
		if b, err := strconv.ParseBool(v); err == nil {
			return b, nil
		}
	}
	return false, errcode.Field(name, name+" must be true or false")
}

// integer returns a non-negative integer parameter, 0 when absent.
func (in input) integer(name string) (int, error) {
	var s string
	switch v := in[name].(type) {
	case nil:
		return 0, nil
	case json.Number:
		s = v.String()
	case string:
		s = v
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 1_000_000_000 {
		return 0, errcode.Field(name, name+" must be a non-negative integer")
	}
	return n, nil
}

// page returns the checked offset and limit (default accounting.MaxListing).
func (in input) page() (int, int, error) {
	offset, err := in.integer("offset")
	if err != nil {
		return 0, 0, err
	}
	limit, err := in.integer("limit")
	if err != nil {
		return 0, 0, err
	}
	if _, given := in["limit"]; given && limit == 0 {
		limit = -1 // refused below, with the range in the message
	}
	return accounting.Page(offset, limit)
}

// date returns a YYYY-MM-DD parameter, nil when absent.
func (in input) date(name string) (*time.Time, error) {
	s, err := in.str(name)
	if err != nil || s == "" {
		return nil, err
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return nil, errcode.Field(name, name+" must be a date as YYYY-MM-DD")
	}
	return &t, nil
}

// list returns a comma-separated parameter's distinct non-empty items,
// lower-cased, in order.
func (in input) list(name string, maxItems int) ([]string, error) {
	s, err := in.str(name)
	if err != nil || s == "" {
		return nil, err
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.ToLower(strings.TrimSpace(f)); f != "" && !contains(out, f) {
			out = append(out, f)
		}
	}
	if len(out) > maxItems {
		return nil, errcode.Field(name, fmt.Sprintf("at most %d %s", maxItems, name))
	}
	return out, nil
}

// renamed returns err with its field, and those names in its message,
// renamed to the REST parameters' names (the services use GraphQL's).
func renamed(err error, names map[string]string) error {
	e := errcode.Of(err)
	n, ok := names[e.Field]
	if !ok {
		return err
	}
	c := *e
	c.Field = n
	words := strings.Fields(c.Message)
	for i, w := range words {
		if r, ok := names[w]; ok {
			words[i] = r
		}
	}
	c.Message = strings.Join(words, " ")
	return &c
}
