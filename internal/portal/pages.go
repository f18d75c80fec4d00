package portal

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/spreadsheet"
)

// dateRange reads the optional from and to fields (YYYY-MM-DD).
func dateRange(q url.Values) (from, to *time.Time, err error) {
	read := func(field string) (*time.Time, error) {
		v := strings.TrimSpace(q.Get(field))
		if v == "" {
			return nil, nil
		}
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return nil, errcode.Field(field, field+" must be a date such as 2026-03-31")
		}
		return &t, nil
	}
	if from, err = read("from"); err != nil {
		return nil, nil, err
	}
	to, err = read("to")
	return from, to, err
}

// wantsCSV reports whether the request asks for the CSV export.
func wantsCSV(r *http.Request) bool { return r.URL.Query().Get("format") == "csv" }

// writeCSV sends rows as an attachment; cells that a spreadsheet would run
// as a formula are quoted with a leading apostrophe (spreadsheet.Write).
func writeCSV(w http.ResponseWriter, name string, header []string, rows [][]string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	spreadsheet.Write(w, header, rows)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// statsPage is the data of the usage and overview pages.
type statsPage struct {
	Stats     *accounting.Stats
	Calls     Chart
	Bytes     Chart
	Providers []providerRow
	RiverUI   string
}

type providerRow struct {
	lookup.ProviderStatus
	accounting.APIStats
}

// stats reads the date range and the statistics for username ("" everyone).
func (p *Portal) stats(r *http.Request, username string, apis []string) (*accounting.Stats, error) {
	from, to, err := dateRange(r.URL.Query())
	if err != nil {
		return nil, err
	}
	return p.cfg.Stats.Stats(r.Context(), from, to, username, apis)
}

func (p *Portal) usage(w http.ResponseWriter, r *http.Request) {
	me := auth.FromContext(r.Context())
	st, err := p.stats(r, me.Username, nil)
	if err != nil {
		p.render(w, r, errcode.HTTPStatus(errcode.CodeOf(err)), "usage", view{Title: "My usage", Error: errcode.Of(err).Message, Form: r.URL.Query()})
		return
	}
	if wantsCSV(r) {
		var rows [][]string
		for _, s := range st.Series {
			for i, d := range st.Days {
				if s.Calls[i] > 0 {
					rows = append(rows, []string{d.Format(time.DateOnly), s.API, itoa(s.Calls[i]), itoa(s.Bytes[i])})
				}
			}
		}
		writeCSV(w, "usage-"+me.Username+".csv", []string{"day", "api", "calls", "bytes"}, rows)
		return
	}
	data := statsPage{Stats: st,
		Calls: newChart("Calls per day by API", st.Days, st.Series, func(s accounting.Series) []int64 { return s.Calls }),
		Bytes: newChart("Bytes per day by API", st.Days, st.Series, func(s accounting.Series) []int64 { return s.Bytes })}
	p.render(w, r, http.StatusOK, "usage", view{Title: "My usage", Form: rangeForm(st), Data: data})
}

// rangeForm echoes the range a page shows (To is exclusive).
func rangeForm(st *accounting.Stats) url.Values {
	return url.Values{"from": {st.From.Format(time.DateOnly)}, "to": {st.To.AddDate(0, 0, -1).Format(time.DateOnly)}}
}

func (p *Portal) overview(w http.ResponseWriter, r *http.Request) {
	infos := p.cfg.Providers()
	names := make([]string, len(infos))
	for i, pi := range infos {
		names[i] = pi.Name
	}
	st, err := p.stats(r, "", names)
	if err != nil {
		p.render(w, r, errcode.HTTPStatus(errcode.CodeOf(err)), "overview", view{Title: "Overview", Error: errcode.Of(err).Message, Form: r.URL.Query()})
		return
	}
	data := statsPage{Stats: st, RiverUI: p.cfg.RiverUI,
		Calls: newChart("Upstream calls per provider per day", st.Days, st.Series, func(s accounting.Series) []int64 { return s.Upstream })}
	byName := map[string]accounting.APIStats{}
	for _, a := range st.APIs {
		byName[a.API] = a
	}
	for _, pi := range infos {
		data.Providers = append(data.Providers, providerRow{ProviderStatus: pi, APIStats: byName[pi.Name]})
	}
	p.render(w, r, http.StatusOK, "overview", view{Title: "Overview", Form: rangeForm(st), Data: data})
}

// usersPage is the data of the users page.
type usersPage struct{ Users []*auth.User }

func (p *Portal) users(w http.ResponseWriter, r *http.Request) {
	p.showUsers(w, r, http.StatusOK, view{Notice: r.URL.Query().Get("done")})
}

// showUsers renders the users page with v's message and the form echoed.
func (p *Portal) showUsers(w http.ResponseWriter, r *http.Request, status int, v view) {
	us, err := p.cfg.Auth.ListUsers(r.Context())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v.Title, v.Data = "Users", usersPage{Users: us}
	p.render(w, r, status, "users", v)
}

// userChanged answers a user form: back to the list with a notice, or the
// list again with the error and the submitted username (never a password).
func (p *Portal) userChanged(w http.ResponseWriter, r *http.Request, err error, notice string) {
	if err != nil {
		p.showUsers(w, r, errcode.HTTPStatus(errcode.CodeOf(err)), view{Error: errcode.Of(err).Message,
			Form: url.Values{"username": {r.PostFormValue("username")}, "admin": {r.PostFormValue("admin")}}})
		return
	}
	http.Redirect(w, r, "/portal/admin/users?"+url.Values{"done": {notice}}.Encode(), http.StatusSeeOther)
}

func (p *Portal) createUser(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("username"))
	_, err := p.cfg.Auth.CreateUser(r.Context(), name, r.PostFormValue("password"), r.PostFormValue("admin") == "on", true)
	p.userChanged(w, r, err, "Created "+name+".")
}

func (p *Portal) setActive(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("username")
	var err error
	active, perr := strconv.ParseBool(r.PostFormValue("active"))
	if perr != nil {
		err = errcode.Field("active", "active must be true or false")
	} else {
		_, err = p.cfg.Auth.SetUserActive(r.Context(), auth.FromContext(r.Context()), name, active)
	}
	word := map[bool]string{true: "Enabled ", false: "Disabled "}[active]
	p.userChanged(w, r, err, word+name+".")
}

func (p *Portal) setPassword(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("username")
	_, err := p.cfg.Auth.SetUserPassword(r.Context(), name, r.PostFormValue("password"))
	p.userChanged(w, r, err, "Reset the password of "+name+"; their sessions have ended.")
}

// auditPage is the data of the audit page.
type auditPage struct {
	Records []accounting.Record
	// Next and CSV are the relative links ("?" and a query string built
	// by url.Values.Encode, so already escaped) to the next page ("" on
	// the last) and the CSV export; typed as URLs so that html/template
	// does not escape them a second time (it made "?format%3dcsv").
	Next template.URL
	CSV  template.URL
}

// maxAuditExport bounds the CSV export of the audit log.
const maxAuditExport = 10000

func (p *Portal) audit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := auditFilter(q)
	if err != nil {
		p.render(w, r, http.StatusBadRequest, "audit", view{Title: "Audit log", Error: errcode.Of(err).Message, Form: q})
		return
	}
	if wantsCSV(r) {
		p.auditCSV(w, r, f)
		return
	}
	page, err := p.cfg.Accounting.Audit(r.Context(), f, 50, q.Get("after"))
	if err != nil {
		p.render(w, r, errcode.HTTPStatus(errcode.CodeOf(err)), "audit", view{Title: "Audit log", Error: errcode.Of(err).Message, Form: q})
		return
	}
	data := auditPage{Records: page.Records}
	next := cloneValues(q)
	next.Del("format")
	if page.HasNext {
		next.Set("after", page.EndCursor)
		data.Next = template.URL("?" + next.Encode())
	}
	next.Del("after")
	next.Set("format", "csv")
	data.CSV = template.URL("?" + next.Encode())
	p.render(w, r, http.StatusOK, "audit", view{Title: "Audit log", Form: q, Data: data})
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

func auditFilter(q url.Values) (accounting.AuditFilter, error) {
	f := accounting.AuditFilter{Username: strings.TrimSpace(q.Get("username")), API: strings.TrimSpace(q.Get("api")), Status: strings.TrimSpace(q.Get("status"))}
	from, to, err := dateRange(q)
	if err != nil {
		return f, err
	}
	if from != nil {
		f.From = *from
	}
	if to != nil {
		f.To = to.AddDate(0, 0, 1) // through the end of that day
	}
	if from != nil && to != nil && !f.From.Before(f.To) {
		return f, errcode.Field("from", "from must not be after to")
	}
	return f, nil
}

func (p *Portal) auditCSV(w http.ResponseWriter, r *http.Request, f accounting.AuditFilter) {
	var rows [][]string
	after := ""
	for len(rows) < maxAuditExport {
		page, err := p.cfg.Accounting.Audit(r.Context(), f, accounting.MaxPage, after)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		for _, rec := range page.Records {
			rows = append(rows, []string{rec.At.UTC().Format(time.RFC3339), rec.Username, rec.API, rec.Status, strconv.FormatBool(rec.Cached),
				itoa(rec.DataSize), itoa(rec.Latency.Milliseconds()), rec.Endpoint, rec.Parameters, rec.IP, rec.UserAgent})
		}
		if !page.HasNext {
			break
		}
		after = page.EndCursor
	}
	writeCSV(w, "audit.csv", []string{"time", "username", "api", "status", "cached", "bytes", "latency_ms", "endpoint", "parameters", "ip", "user_agent"}, rows)
}

func (p *Portal) reports(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, to, err := dateRange(q)
	var rep *accounting.Report
	if err == nil {
		rep, err = p.cfg.Accounting.Report(r.Context(), from, to, strings.TrimSpace(q.Get("username")))
	}
	if err != nil {
		p.render(w, r, errcode.HTTPStatus(errcode.CodeOf(err)), "reports", view{Title: "Reports", Error: errcode.Of(err).Message, Form: q})
		return
	}
	if wantsCSV(r) {
		rows := make([][]string, len(rep.Rows))
		for i, row := range rep.Rows {
			rows[i] = []string{row.Username, row.API, itoa(row.Calls), itoa(row.Bytes)}
		}
		writeCSV(w, fmt.Sprintf("usage-report-%s-%s.csv", rep.From.Format(time.DateOnly), rep.To.AddDate(0, 0, -1).Format(time.DateOnly)),
			[]string{"username", "api", "calls", "bytes"}, rows)
		return
	}
	form := url.Values{"from": {rep.From.Format(time.DateOnly)}, "to": {rep.To.AddDate(0, 0, -1).Format(time.DateOnly)}, "username": {q.Get("username")}}
	p.render(w, r, http.StatusOK, "reports", view{Title: "Reports", Form: form, Data: rep})
}

func (p *Portal) jobs(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "jobs", view{Title: "Jobs", Data: statsPage{RiverUI: p.cfg.RiverUI}})
}
