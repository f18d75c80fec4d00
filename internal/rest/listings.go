package rest

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/spreadsheet"
)

// reportRow is a usage-report line, in the original's names.
type reportRow struct {
	Username  string `json:"username"`
	Page      string `json:"page"`
	APICalls  int64  `json:"api_calls"`
	DataTotal int64  `json:"data_total"`
}

// report serves GET /api/admin/reports and /api/admin/report/{username}.
func (a *API) report(w http.ResponseWriter, r *http.Request) error {
	return a.writeReport(w, r, r.PathValue("username"))
}

// writeReport answers a usage report for username ("" for everyone):
// start_date, end_date (YYYY-MM-DD, end day included; default the last 30
// days), offset, limit (at most 100) and format (json or csv).
func (a *API) writeReport(w http.ResponseWriter, r *http.Request, username string) error {
	in, err := readInput(r, "start_date", "end_date", "offset", "limit", "format")
	if err != nil {
		return err
	}
	from, err := in.date("start_date")
	if err != nil {
		return err
	}
	to, err := in.date("end_date")
	if err != nil {
		return err
	}
	offset, limit, err := in.page()
	if err != nil {
		return err
	}
	format, err := in.str("format")
	if err != nil {
		return err
	}
	if format != "" && format != "json" && format != "csv" {
		return errcode.Field("format", "format must be json or csv")
	}
	page, err := a.cfg.Listings.Report(r.Context(), from, to, username, offset, limit)
	if err != nil {
		return renamed(err, map[string]string{"from": "start_date", "to": "end_date"})
	}
	rows := make([]reportRow, len(page.Rows))
	for i, row := range page.Rows {
		rows[i] = reportRow{Username: row.Username, Page: row.API, APICalls: row.Calls, DataTotal: row.Bytes}
	}
	last := page.To.AddDate(0, 0, -1)
	h := w.Header()
	h.Set("X-Report-Start-Date", page.From.Format(time.DateOnly))
	h.Set("X-Report-End-Date", last.Format(time.DateOnly))
	h.Set("X-Total-Count", strconv.Itoa(page.Total))
	if format != "csv" {
		writeJSON(w, http.StatusOK, rows)
		return nil
	}
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="usage-%s-%s.csv"`, page.From.Format(time.DateOnly), last.Format(time.DateOnly)))
	cells := make([][]string, len(rows))
	for i, row := range rows {
		cells[i] = []string{row.Username, row.Page, strconv.FormatInt(row.APICalls, 10), strconv.FormatInt(row.DataTotal, 10)}
	}
	spreadsheet.Write(w, []string{"username", "page", "api_calls", "data_total"}, cells)
	return nil
}

// logJSON is a usage-log entry, in the original's names plus ours.
type logJSON struct {
	Username   string    `json:"username"`
	Page       string    `json:"page"`
	Endpoint   string    `json:"endpoint"`
	Parameters string    `json:"parameters"`
	UserAgent  string    `json:"user_agent"`
	IPAddress  string    `json:"ip_address"`
	QueryDate  time.Time `json:"query_date"`
	DataSize   int64     `json:"data_size"`
	Status     string    `json:"status"`
	Cached     bool      `json:"cached"`
	LatencyMs  int64     `json:"latency_ms"`
}

// logs serves GET /api/admin/logs and /api/admin/log/{username}: usage
// records newest first, offset and limit (at most 100).
func (a *API) logs(w http.ResponseWriter, r *http.Request) error {
	offset, limit, err := pageOf(r)
	if err != nil {
		return err
	}
	recs, err := a.cfg.Listings.Logs(r.Context(), r.PathValue("username"), offset, limit)
	if err != nil {
		return err
	}
	out := make([]logJSON, len(recs))
	for i, rec := range recs {
		out[i] = logJSON{Username: rec.Username, Page: rec.API, Endpoint: rec.Endpoint, Parameters: rec.Parameters,
			UserAgent: rec.UserAgent, IPAddress: rec.IP, QueryDate: rec.At.UTC(), DataSize: rec.DataSize,
			Status: rec.Status, Cached: rec.Cached, LatencyMs: rec.Latency.Milliseconds()}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
