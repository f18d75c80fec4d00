package portal

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/policy"
)

// sightingWait is how long annotate waits for the lookup's own sighting,
// which the accounting writer stores a moment after the lookup ends.
const sightingWait = 3 * time.Second

// annotate puts the analyst's manual verdict and/or note on their own
// sighting of a card's value from the lookup that started at `since`, and
// answers JSON: the value's sightings line afterwards, or the error with
// its code and field.
func (p *Portal) annotate(w http.ResponseWriter, r *http.Request) {
	answer := func(status int, body map[string]string) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(body)
	}
	sum, err := p.annotateSighting(r)
	if err != nil {
		e := errcode.Of(err)
		if e.Code == errcode.Internal {
			p.cfg.Logger.ErrorContext(r.Context(), "portal annotate", "err", err)
		}
		answer(errcode.HTTPStatus(e.Code), map[string]string{"error": e.Message, "code": string(e.Code), "field": e.Field})
		return
	}
	answer(http.StatusOK, map[string]string{"sightings": sum.Card(p.cfg.Now())})
}

func (p *Portal) annotateSighting(r *http.Request) (policy.Summary, error) {
	pol := p.cfg.Policy
	if pol == nil {
		return policy.Summary{}, errcode.New(errcode.NotFound, "sightings are not available on this server")
	}
	ind, err := indicator.Parse(r.PostFormValue("value"))
	if err != nil {
		return policy.Summary{}, errcode.Field("value", err.Error())
	}
	verdict, err := policy.ParseManualVerdict(r.PostFormValue("verdict"))
	if err != nil {
		return policy.Summary{}, errcode.Field("verdict", err.Error())
	}
	note := strings.TrimSpace(r.PostFormValue("note"))
	if note == "" && verdict == "" {
		return policy.Summary{}, errcode.Field("verdict", "choose a verdict, write a note, or both")
	}
	since, err := time.Parse(time.RFC3339Nano, r.PostFormValue("since"))
	if err != nil {
		return policy.Summary{}, errcode.Field("since", "since must be the lookup's start time (RFC 3339)")
	}
	me := auth.FromContext(r.Context()).Username
	var own *policy.Sighting
	for deadline := p.cfg.Now().Add(sightingWait); own == nil; {
		recent, err := pol.Recent(r.Context(), ind, me, false, 1)
		if err != nil {
			return policy.Summary{}, err
		}
		if len(recent) > 0 && !recent[0].At.Before(since.Add(-time.Second)) {
			own = &recent[0]
			break
		}
		if p.cfg.Now().After(deadline) {
			return policy.Summary{}, errcode.New(errcode.Conflict, "your lookup of this value is not recorded yet: try again in a moment")
		}
		select {
		case <-r.Context().Done():
			return policy.Summary{}, errcode.New(errcode.Timeout, "the request ended")
		case <-time.After(200 * time.Millisecond):
		}
	}
	if _, err := pol.Annotate(r.Context(), me, false, own.ID, note, verdict); err != nil {
		return policy.Summary{}, err
	}
	return pol.Sightings(r.Context(), ind)
}
