package rest

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/indicator"
)

// maxExtractBody bounds POST /api/extract bodies: 1 MiB of text, with room
// for JSON's escaping of it. The text itself is then held to 1 MiB.
const maxExtractBody = 2*indicator.MaxTextLen + 64<<10

// extract answers POST /api/extract: the indicators in a text/plain body or
// in the "text" of a JSON body, as indicator.Extraction's JSON.
func (a *API) extract(w http.ResponseWriter, r *http.Request) error {
	text, err := readText(r)
	if err != nil {
		return err
	}
	ex, err := a.cfg.Extractor.Extract(text)
	if err != nil {
		return &errcode.Error{Code: errcode.BadRequest, Field: "text", Message: err.Error(), Err: err}
	}
	writeJSON(w, http.StatusOK, ex)
	return nil
}

// readText reads the text to extract from: the whole body if it is
// text/plain, the "text" member if it is JSON.
func readText(r *http.Request) (string, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var text string
	switch ct {
	case "text/plain":
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return "", tooLarge(err, "could not read the body")
		}
		text = string(b)
	case "application/json":
		var body struct {
			Text *string `json:"text"`
		}
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil {
			return "", tooLarge(err, `body must be {"text": "..."}`)
		}
		if body.Text == nil {
			return "", errcode.Field("text", "text is required")
		}
		text = *body.Text
	default:
		return "", errcode.Field("Content-Type", "send text/plain, or application/json with {\"text\": ...}")
	}
	if len(text) > indicator.MaxTextLen {
		return "", &errcode.Error{Code: errcode.BadRequest, Field: "text", Message: indicator.ErrTextTooLong.Error(), Err: indicator.ErrTextTooLong}
	}
	return text, nil
}

// tooLarge is a body error: 413 if the body went over its limit (writeError
// tells by the cause), 400 with msg otherwise.
func tooLarge(err error, msg string) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &errcode.Error{Code: errcode.BadRequest, Field: "text", Message: indicator.ErrTextTooLong.Error(), Err: err}
	}
	return errcode.Field("body", msg)
}

// isTooLarge reports whether err is about a body or text over its limit,
// which writeError answers with 413.
func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe) || errors.Is(err, indicator.ErrTextTooLong)
}
