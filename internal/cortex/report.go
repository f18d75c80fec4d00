package cortex

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/soc"
)

// Namespace is the taxonomies' namespace: TheHive shows each as a tag
// "InspectorGadget:Verdict=…" on the observable.
const Namespace = "InspectorGadget"

// reportJSON is a successful job's report, as an analyzer writes it
// (cortexutils) and JobCtrl serves it; TheHive reads summary.taxonomies as
// the observable's tags and keeps full as the job's report.
type reportJSON struct {
	Success    bool        `json:"success"`
	Summary    summaryJSON `json:"summary"`
	Full       fullJSON    `json:"full"`
	Artifacts  []any       `json:"artifacts"`
	Operations []any       `json:"operations"`
}

type summaryJSON struct {
	Taxonomies []taxonomy `json:"taxonomies"`
}

// taxonomy is one short result (TheHive's OutputMinireport): level is one
// of info, safe, suspicious, malicious.
type taxonomy struct {
	Level     string `json:"level"`
	Namespace string `json:"namespace"`
	Predicate string `json:"predicate"`
	Value     string `json:"value"`
}

type fullJSON struct {
	Value     string       `json:"value"`
	Kind      string       `json:"kind"`
	Analyzer  string       `json:"analyzer"`
	Playbook  string       `json:"playbook,omitempty"`
	Verdict   verdictJSON  `json:"verdict"`
	Results   []resultJSON `json:"results"`
	Generated time.Time    `json:"generatedAt"`
}

type verdictJSON struct {
	Level    string   `json:"level"`
	Score    int      `json:"score"`
	Reasons  []string `json:"reasons"`
	Complete bool     `json:"complete"`
	Coverage string   `json:"coverage"`
}

type errorOut struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type resultJSON struct {
	Provider  string          `json:"provider"`
	Title     string          `json:"title"`
	Status    string          `json:"status"`
	Cached    bool            `json:"cached"`
	FetchedAt *time.Time      `json:"fetchedAt,omitempty"`
	LatencyMs int64           `json:"latencyMs"`
	Level     string          `json:"level,omitempty"`
	Score     *int            `json:"score,omitempty"`
	Reason    string          `json:"reason,omitempty"`
	Link      string          `json:"link,omitempty"`
	Error     *errorOut       `json:"error,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
}

// levels maps a verdict level to a taxonomy level.
var levels = map[indicator.Level]string{
	indicator.Malicious: "malicious", indicator.Suspicious: "suspicious", indicator.Benign: "safe", indicator.Unknown: "info",
}

// buildReport is the report of rep: the combined verdict and each
// provider that answered as taxonomies, everything in full.
func buildReport(a soc.Analyzer, ind indicator.Indicator, rep *soc.Report) reportJSON {
	v := rep.Verdict
	cov := lookup.CoverageOf(rep.Results)
	taxes := []taxonomy{{Level: levels[v.Level], Namespace: Namespace, Predicate: "Verdict",
		Value: fmt.Sprintf("%s %d/100", strings.ToLower(v.Level.String()), v.Score)}}
	full := fullJSON{Value: ind.Value, Kind: string(ind.Kind), Analyzer: a.ID, Playbook: a.Playbook, Generated: rep.At.UTC(),
		Verdict: verdictJSON{Level: v.Level.String(), Score: v.Score, Reasons: v.Reasons, Complete: cov.Complete(), Coverage: cov.String()},
		Results: []resultJSON{}}
	if full.Verdict.Reasons == nil {
		full.Verdict.Reasons = []string{}
	}
	for _, r := range rep.Results {
		out := resultJSON{Provider: r.Provider, Title: soc.Title(r.Provider), Status: string(r.Status), Cached: r.Cached,
			LatencyMs: r.Latency.Milliseconds(), Link: soc.Link(ind, r)}
		if !r.FetchedAt.IsZero() {
			t := r.FetchedAt.UTC()
			out.FetchedAt = &t
		}
		switch r.Status {
		case lookup.StatusOK:
			score := r.Verdict.Score
			out.Level, out.Score, out.Reason = r.Verdict.Level.String(), &score, r.Verdict.Reason
			taxes = append(taxes, taxonomy{Level: levels[r.Verdict.Level], Namespace: Namespace, Predicate: out.Title,
				Value: fmt.Sprintf("%s %d/100", strings.ToLower(r.Verdict.Level.String()), score)})
		case lookup.StatusNotFound:
			taxes = append(taxes, taxonomy{Level: "info", Namespace: Namespace, Predicate: out.Title, Value: "not found"})
		}
		if r.Status == lookup.StatusOK || r.Status == lookup.StatusNotFound {
			out.Data = r.Data
		}
		if r.Err != nil {
			out.Error = &errorOut{Code: string(r.Err.Code), Message: r.Err.Message}
		}
		full.Results = append(full.Results, out)
	}
	return reportJSON{Success: true, Summary: summaryJSON{Taxonomies: taxes}, Full: full, Artifacts: []any{}, Operations: []any{}}
}
