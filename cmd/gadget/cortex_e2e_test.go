package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/ent/usagelog"
	"github.com/inspector-gadget/gadget/internal/store"
)

// cortexClient replays the HTTP requests cortex4py 2.1.0 makes
// (TheHive-Project/Cortex4py, cortex4py/api.py): the base URL plus
// "/api/" plus the endpoint (api.py:29), "Authorization: Bearer <key>" on
// every request (api.py:59-61, 93-96), JSON bodies with "Content-Type:
// application/json" (api.py:95, 102), parameters in the query string
// (api.py:66, 103). requests adds its own User-Agent and Accept.
type cortexClient struct {
	t    *testing.T
	base string // the Cortex URL as configured: <gadget>/cortex
	key  string
}

// do sends one request and decodes its JSON answer into out (when not
// nil); it returns the status and the X-Total header.
func (c cortexClient) do(method, endpoint, query string, body any, out any) (int, string) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = strings.NewReader(string(raw))
	}
	u := c.base + "/api/" + endpoint
	if query != "" {
		u += "?" + query
	}
	req, _ := http.NewRequest(method, u, rd)
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "python-requests/2.31.0")
	req.Header.Set("Accept", "*/*")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: HTTP %d, not JSON: %s", method, endpoint, res.StatusCode, raw)
		}
	}
	return res.StatusCode, res.Header.Get("X-Total")
}

type cortexAnalyzer struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Version      string   `json:"version"`
	Description  string   `json:"description"`
	DataTypeList []string `json:"dataTypeList"`
	MaxTLP       *int     `json:"maxTlp"`
	MaxPAP       *int     `json:"maxPap"`
}

type cortexTaxonomy struct {
	Level     string `json:"level"`
	Namespace string `json:"namespace"`
	Predicate string `json:"predicate"`
	Value     any    `json:"value"`
}

type cortexJob struct {
	ID           string          `json:"id"`
	WorkerID     string          `json:"workerId"`
	WorkerName   string          `json:"workerName"`
	AnalyzerID   string          `json:"analyzerId"`
	Status       string          `json:"status"`
	Organization string          `json:"organization"`
	DataType     string          `json:"dataType"`
	Data         string          `json:"data"`
	TLP          int             `json:"tlp"`
	PAP          int             `json:"pap"`
	Message      string          `json:"message"`
	Type         string          `json:"type"`
	Date         int64           `json:"date"`
	StartDate    *int64          `json:"startDate"`
	EndDate      *int64          `json:"endDate"`
	Report       json.RawMessage `json:"report"`
}

type cortexReport struct {
	Success      bool   `json:"success"`
	ErrorMessage string `json:"errorMessage"`
	Summary      struct {
		Taxonomies []cortexTaxonomy `json:"taxonomies"`
	} `json:"summary"`
	Full struct {
		Value   string `json:"value"`
		Verdict struct {
			Level string `json:"level"`
			Score int    `json:"score"`
		} `json:"verdict"`
		Results []struct {
			Provider string          `json:"provider"`
			Status   string          `json:"status"`
			Cached   bool            `json:"cached"`
			Link     string          `json:"link"`
			Data     json.RawMessage `json:"data"`
		} `json:"results"`
	} `json:"full"`
	Artifacts  []any `json:"artifacts"`
	Operations []any `json:"operations"`
}

func (j cortexJob) report(t *testing.T) cortexReport {
	t.Helper()
	var r cortexReport
	if err := json.Unmarshal(j.Report, &r); err != nil {
		t.Fatalf("job %s (%s): report is not an object: %s", j.ID, j.Status, j.Report)
	}
	return r
}

type cortexError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
	Errors  []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"errors"`
}

// TestCortexAPI drives the Cortex API the way cortex4py and TheHive's
// Cortex connector do, on both storage configurations: status and current
// user, the analyzers (list, by type, by name, by id), a run and its
// report (waitreport, report, get, _search), TheHive's 1-second polling,
// the cache and force, TLP, errors in Cortex's shapes, and scoping: another
// user cannot see a job, mon can.
func TestCortexAPI(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			env := be.env(t)
			env["GADGET_ROOT_PASSWORD"] = rootPW
			fake := withFake(t, env)
			in := start(t, env)
			root := in.token("root", rootPW, "")
			for _, u := range []string{"alice", "bob"} {
				field[map[string]any](t, in.gql(root, `mutation($u: String!) { createUser(username: $u, password: "cortex-password-1") { username } }`,
					map[string]any{"u": u}), "createUser")
			}
			alice := cortexClient{t, in.base + "/cortex", in.apiKey(in.token("alice", "cortex-password-1", ""), "thehive", "TASKS")}
			bob := cortexClient{t, in.base + "/cortex", in.apiKey(in.token("bob", "cortex-password-1", ""), "thehive", "TASKS")}
			mon := cortexClient{t, in.base + "/cortex", in.apiKey(root, "thehive-admin")}
			usersOnly := cortexClient{t, in.base + "/cortex", in.apiKey(root, "users-only", "USERS")}

			// api.status() (api.py:145-146); TheHive reads versions.Cortex
			// (CortexClient.scala getVersion), then user/current's id
			// (getCurrentUser)
			var status struct {
				Versions map[string]string `json:"versions"`
			}
			if code, _ := (cortexClient{t: t, base: alice.base}).do("GET", "status", "", nil, &status); code != 200 || status.Versions["Cortex"] == "" {
				t.Fatalf("status: %d %+v", code, status)
			}
			var me struct {
				ID    string   `json:"id"`
				Roles []string `json:"roles"`
			}
			if code, _ := alice.do("GET", "user/current", "", nil, &me); code != 200 || me.ID != "alice" || !slices.Contains(me.Roles, "analyze") {
				t.Fatalf("user/current: %d %+v", code, me)
			}

			// analyzers.find_all({}, range='all') (analyzers.py:17-18,
			// abstract.py:14-18): POST analyzer/_search?range=all {"query": {}}
			var all []cortexAnalyzer
			code, total := alice.do("POST", "analyzer/_search", "range=all", map[string]any{"query": map[string]any{}}, &all)
			if code != 200 || len(all) < 12 || total != strconv.Itoa(len(all)) {
				t.Fatalf("analyzers: %d, %d of X-Total %s", code, len(all), total)
			}
			ids := map[string]cortexAnalyzer{}
			for _, a := range all {
				ids[a.ID] = a
				if a.Name == "" || a.Version == "" || a.Description == "" || len(a.DataTypeList) == 0 || a.MaxTLP == nil || a.MaxPAP == nil {
					t.Errorf("analyzer record %+v", a)
				}
			}
			if a := ids["gadget_all"]; !slices.Equal(a.DataTypeList, []string{"ip", "domain", "fqdn", "url", "hash"}) {
				t.Errorf("gadget_all dataTypeList = %v", a.DataTypeList)
			}
			if _, ok := ids["gadget_pb_quick"]; !ok {
				t.Error("no analyzer for the quick playbook")
			}
			if a := ids["gadget_abuseipdb"]; !slices.Equal(a.DataTypeList, []string{"ip"}) {
				t.Errorf("gadget_abuseipdb dataTypeList = %v", a.DataTypeList)
			}
			// no range: elastic4play's first ten, the total in X-Total
			var first []cortexAnalyzer
			if code, total := alice.do("POST", "analyzer/_search", "", map[string]any{"query": map[string]any{}}, &first); code != 200 || len(first) != 10 || total != strconv.Itoa(len(all)) {
				t.Errorf("default range: %d, %d, X-Total %s", code, len(first), total)
			}
			// TheHive's listAnalyser: GET analyzer?range=all
			var listed []cortexAnalyzer
			if code, _ := alice.do("GET", "analyzer", "range=all", nil, &listed); code != 200 || len(listed) != len(all) {
				t.Errorf("GET analyzer?range=all: %d, %d analyzers", code, len(listed))
			}
			// analyzers.get_by_type('ip') (analyzers.py:29-30)
			var forIP []cortexAnalyzer
			alice.do("GET", "analyzer/type/ip", "", nil, &forIP)
			if !slices.ContainsFunc(forIP, func(a cortexAnalyzer) bool { return a.ID == "gadget_abuseipdb" }) ||
				slices.ContainsFunc(forIP, func(a cortexAnalyzer) bool { return !slices.Contains(a.DataTypeList, "ip") }) {
				t.Errorf("analyzers for ip: %+v", forIP)
			}
			// analyzers.get_by_name (analyzers.py:26-27, abstract.py:20-34):
			// range=0-1 in the query string; TheHive's getAnalyzerByName puts
			// it in the body (dto/v0/SearchQuery.scala)
			byName := map[string]any{"_field": "name", "_value": "InspectorGadget_All"}
			var one []cortexAnalyzer
			if alice.do("POST", "analyzer/_search", "range=0-1", map[string]any{"query": byName}, &one); len(one) != 1 || one[0].ID != "gadget_all" {
				t.Errorf("by name (cortex4py): %+v", one)
			}
			if alice.do("POST", "analyzer/_search", "", map[string]any{"query": byName, "range": "0-1"}, &one); len(one) != 1 || one[0].ID != "gadget_all" {
				t.Errorf("by name (TheHive): %+v", one)
			}
			// analyzers.get_by_id (abstract.py:53-56)
			var got cortexAnalyzer
			if code, _ := alice.do("GET", "analyzer/gadget_all", "", nil, &got); code != 200 || got.Name != "InspectorGadget_All" {
				t.Errorf("get_by_id: %d %+v", code, got)
			}
			// TheHive's getRespondersByType: none here
			var responders []any
			if code, _ := alice.do("POST", "responder/_search", "", map[string]any{"query": map[string]any{"_field": "dataTypeList", "_value": "thehive:case"}, "range": "all"}, &responders); code != 200 || len(responders) != 0 {
				t.Errorf("responders: %d %v", code, responders)
			}

			// run_by_id (analyzers.py:50-86): {dataType, tlp, pap, message,
			// data}; then get_report_async(job_id) with its default
			// timeout='Inf' (jobs.py:22-23)
			var job cortexJob
			code, _ = alice.do("POST", "analyzer/gadget_all/run", "", map[string]any{"dataType": "ip", "tlp": 2, "pap": 2, "message": "case 7", "data": "203.0.113.45"}, &job)
			if code != 200 || job.ID == "" || (job.Status != "Waiting" && job.Status != "InProgress") || job.WorkerID != "gadget_all" ||
				job.DataType != "ip" || job.Data != "203.0.113.45" || job.Type != "analyzer" || job.Organization == "" || job.Date == 0 || job.Message != "case 7" {
				t.Fatalf("run: %d %+v", code, job)
			}
			var done cortexJob
			if code, _ := alice.do("GET", "job/"+job.ID+"/waitreport", "atMost=Inf", nil, &done); code != 200 || done.Status != "Success" || done.EndDate == nil {
				t.Fatalf("waitreport: %d %+v", code, done)
			}
			rep := done.report(t)
			if !rep.Success || len(rep.Summary.Taxonomies) < 2 || rep.Artifacts == nil || rep.Operations == nil {
				t.Fatalf("report = %+v", rep)
			}
			if tx := rep.Summary.Taxonomies[0]; tx.Level != "malicious" || tx.Namespace != "InspectorGadget" || tx.Predicate != "Verdict" {
				t.Errorf("verdict taxonomy = %+v", tx)
			}
			for _, tx := range rep.Summary.Taxonomies {
				if !slices.Contains([]string{"info", "safe", "suspicious", "malicious"}, tx.Level) {
					t.Errorf("taxonomy level %q: TheHive's ReportTagLevel has info, safe, suspicious, malicious", tx.Level)
				}
			}
			if rep.Full.Value != "203.0.113.45" || rep.Full.Verdict.Level != "MALICIOUS" || len(rep.Full.Results) < 3 {
				t.Errorf("full = %+v", rep.Full)
			}
			withData := 0
			for _, r := range rep.Full.Results {
				if r.Status == "OK" && len(r.Data) > 2 {
					withData++
				}
			}
			if withData == 0 {
				t.Error("no provider's data in the full report")
			}
			// jobs.get_report (jobs.py:19-20) and get_by_id (abstract.py:53-56)
			var again cortexJob
			if alice.do("GET", "job/"+job.ID+"/report", "", nil, &again); again.Status != "Success" || !again.report(t).Success {
				t.Errorf("report: %+v", again)
			}
			again = cortexJob{}
			if alice.do("GET", "job/"+job.ID, "", nil, &again); again.Status != "Success" || again.Report != nil || again.StartDate == nil {
				t.Errorf("job: %+v", again)
			}
			// jobs.get_artifacts (jobs.py:25-26): none, the evidence is in full
			var artifacts []any
			if code, total := alice.do("GET", "job/"+job.ID+"/artifacts", "", nil, &artifacts); code != 200 || artifacts == nil || len(artifacts) != 0 || total != "0" {
				t.Errorf("artifacts: %d %v, X-Total %q", code, artifacts, total)
			}

			// TheHive: InputArtifact (dto/v0/Artifact.scala), then getReport
			// with atMost=1 second every refreshDelay (CortexActor.scala); a
			// slow provider keeps the job InProgress past the first poll
			fake.SetLatency("virustotal", 2500*time.Millisecond)
			code, _ = alice.do("POST", "analyzer/gadget_all/run", "", map[string]any{"tlp": 1, "pap": 2, "dataType": "fqdn", "message": "42",
				"data": "login.evil.example", "parameters": map[string]any{"organisation": "soc", "user": "alice@thehive.local"}}, &job)
			if code != 200 || job.TLP != 1 {
				t.Fatalf("TheHive run: %d %+v", code, job)
			}
			deadline := time.Now().Add(30 * time.Second)
			for polls := 0; ; polls++ {
				done = cortexJob{}
				if code, _ := alice.do("GET", "job/"+job.ID+"/waitreport", "atMost=1%20second", nil, &done); code != 200 {
					t.Fatalf("waitreport: %d", code)
				}
				if polls == 0 && done.Status != "InProgress" {
					t.Errorf("first poll, with virustotal still answering: %s", done.Status)
				}
				if done.Status == "Success" || done.Status == "Failure" || time.Now().After(deadline) {
					break
				}
				var running string // while running the report is the status
				if err := json.Unmarshal(done.Report, &running); err != nil || (running != "Running" && running != "Waiting") {
					t.Fatalf("report of a %s job = %s", done.Status, done.Report)
				}
			}
			if done.Status != "Success" {
				t.Fatalf("TheHive's job: %+v", done)
			}
			fake.ClearLatency("virustotal")

			// the cache answers a second run; force (a query parameter in
			// cortex4py, analyzers.py:61-63) asks the providers again
			calls := totalCalls(fake)
			ipRun := map[string]any{"dataType": "ip", "tlp": 2, "pap": 2, "data": "203.0.113.45"}
			alice.do("POST", "analyzer/gadget_all/run", "", ipRun, &job)
			alice.do("GET", "job/"+job.ID+"/waitreport", "atMost=30seconds", nil, &done)
			for _, r := range done.report(t).Full.Results {
				if r.Status == "OK" && !r.Cached {
					t.Errorf("second run: %s not from the cache", r.Provider)
				}
			}
			if n := totalCalls(fake); n != calls {
				t.Errorf("a cached run made %d upstream calls", n-calls)
			}
			alice.do("POST", "analyzer/gadget_all/run", "force=1", ipRun, &job)
			alice.do("GET", "job/"+job.ID+"/waitreport", "atMost=30seconds", nil, &done)
			if n := totalCalls(fake); n == calls || done.Status != "Success" {
				t.Errorf("force: %d upstream calls, job %s", n-calls, done.Status)
			}

			// TLP 3 (red) asks no outside provider: only local knowledge
			// (the downloaded feeds) answers, and the report says so
			waitForFeeds(t, in)
			calls = totalCalls(fake)
			alice.do("POST", "analyzer/gadget_all/run", "", map[string]any{"dataType": "ip", "tlp": 3, "pap": 2, "data": "198.51.100.23"}, &job)
			alice.do("GET", "job/"+job.ID+"/waitreport", "atMost=30seconds", nil, &done)
			if done.Status != "Success" || !strings.Contains(string(done.Report), `"TLP:RED is not shared with virustotal"`) ||
				!strings.Contains(string(done.Report), `"provider":"feeds","title":"Local feeds","status":"NOT_FOUND"`) {
				t.Errorf("TLP red: %s %s", done.Status, done.Report)
			}
			// an analyzer with nothing left to ask at RED fails, as an
			// analyzer does, with Cortex's failure report
			var failed cortexJob
			alice.do("POST", "analyzer/gadget_virustotal/run", "", map[string]any{"dataType": "ip", "tlp": 3, "pap": 2, "data": "198.51.100.23"}, &failed)
			alice.do("GET", "job/"+failed.ID+"/waitreport", "atMost=30seconds", nil, &failed)
			if fr := failed.report(t); failed.Status != "Failure" || fr.Success || !strings.Contains(fr.ErrorMessage, "no provider answered") {
				t.Errorf("TLP red, virustotal alone: %s %s", failed.Status, failed.Report)
			}
			if n := totalCalls(fake); n != calls {
				t.Errorf("a TLP:RED job made %d upstream calls", n-calls)
			}

			// jobs.find_all({}, range='0-10', sort='-createdAt')
			// (jobs.py:10-11, abstract.py:14-18), and a filter on status
			var jobs []cortexJob
			code, total = alice.do("POST", "job/_search", "sort=-createdAt&range=0-10", map[string]any{"query": map[string]any{}}, &jobs)
			if code != 200 || len(jobs) != 6 || total != "6" || jobs[0].ID != failed.ID || jobs[0].Report != nil {
				t.Fatalf("job search: %d, %d jobs, X-Total %s", code, len(jobs), total)
			}
			code, _ = alice.do("POST", "job/_search", "range=all", map[string]any{"query": map[string]any{"_and": []any{
				map[string]any{"_field": "status", "_value": "Success"}, map[string]any{"_field": "dataType", "_value": "ip"}}}}, &jobs)
			if code != 200 || len(jobs) != 4 { // three lookups and the TLP:RED one
				t.Errorf("successful ip jobs: %d, %d", code, len(jobs))
			}

			// errors, in Cortex's shapes, with no job made and no call
			calls = totalCalls(fake)
			var e cortexError
			if code, _ := (cortexClient{t: t, base: alice.base}).do("GET", "analyzer", "", nil, &e); code != 401 || e.Type != "AuthenticationError" {
				t.Errorf("no key: %d %+v", code, e)
			}
			if code, _ := (cortexClient{t, alice.base, "igk_nope"}).do("POST", "analyzer/gadget_all/run", "", ipRun, &e); code != 401 || e.Type != "AuthenticationError" {
				t.Errorf("bad key: %d %+v", code, e)
			}
			if code, _ := usersOnly.do("POST", "analyzer/gadget_all/run", "", ipRun, &e); code != 403 || e.Type != "AuthorizationError" {
				t.Errorf("users-only key: %d %+v", code, e)
			}
			for name, c := range map[string]struct {
				analyzer string
				body     map[string]any
				status   int
				field    string
			}{
				"unknown analyzer": {"nope", ipRun, 404, ""},
				"no dataType":      {"gadget_all", map[string]any{"data": "203.0.113.45"}, 400, "dataType"},
				"no data":          {"gadget_all", map[string]any{"dataType": "ip"}, 400, "data"},
				"unknown dataType": {"gadget_all", map[string]any{"dataType": "mail", "data": "a@b.example"}, 400, "dataType"},
				"invalid ip":       {"gadget_all", map[string]any{"dataType": "ip", "data": "999.1.1.1"}, 400, "data"},
				"tlp out of range": {"gadget_all", map[string]any{"dataType": "ip", "data": "203.0.113.45", "tlp": 7}, 400, "tlp"},
				"kind it lacks":    {"gadget_abuseipdb", map[string]any{"dataType": "domain", "data": "evil.example"}, 400, "data"},
			} {
				e = cortexError{}
				code, _ := alice.do("POST", "analyzer/"+c.analyzer+"/run", "", c.body, &e)
				if code != c.status || e.Type == "" || (c.field != "" && (len(e.Errors) == 0 || e.Errors[0].Name != c.field)) {
					t.Errorf("%s: %d %+v, want %d on %q", name, code, e, c.status, c.field)
				}
			}
			// a file run (analyzers.py:70-82): multipart, the file as "data"
			// and the attributes as "_json"; files are not analyzed here
			var mp bytes.Buffer
			mw := multipart.NewWriter(&mp)
			mw.WriteField("_json", `{"dataType": "file", "tlp": 2, "pap": 2}`)
			fw, _ := mw.CreateFormFile("data", "sample.txt")
			fw.Write([]byte("hello"))
			mw.Close()
			req, _ := http.NewRequest("POST", alice.base+"/api/analyzer/gadget_all/run", &mp)
			req.Header.Set("Authorization", "Bearer "+alice.key)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 400 {
				t.Errorf("file run: %v %v", res, err)
			} else {
				res.Body.Close()
			}
			if code, _ := alice.do("POST", "job/_search", "", map[string]any{"query": map[string]any{"_string": "status:Success"}}, &e); code != 400 || e.Type != "SearchError" {
				t.Errorf("unsupported query: %d %+v", code, e)
			}
			if code, _ := alice.do("GET", "job/"+job.ID+"/waitreport", "atMost=soon", nil, &e); code != 400 {
				t.Errorf("bad atMost: %d %+v", code, e)
			}
			if n := totalCalls(fake); n != calls {
				t.Errorf("refused requests made %d upstream calls", n-calls)
			}

			// scoping: bob sees none of alice's jobs; mon sees them
			for _, path := range []string{"job/" + job.ID, "job/" + job.ID + "/report", "job/" + job.ID + "/waitreport", "job/" + job.ID + "/artifacts"} {
				e = cortexError{}
				if code, _ := bob.do("GET", path, "", nil, &e); code != 404 || e.Type != "NotFoundError" {
					t.Errorf("bob GET %s: %d %+v", path, code, e)
				}
			}
			if code, total := bob.do("POST", "job/_search", "range=all", map[string]any{"query": map[string]any{}}, &jobs); code != 200 || len(jobs) != 0 || total != "0" {
				t.Errorf("bob's job search: %d, %d jobs", code, len(jobs))
			}
			if code, _ := mon.do("GET", "job/"+job.ID, "", nil, &again); code != 200 || again.ID != job.ID {
				t.Errorf("mon reading alice's job: %d", code)
			}
			if code, _ := alice.do("POST", "job/_search", "range=all", map[string]any{"query": map[string]any{}}, &jobs); code != 200 || len(jobs) != 6 { // the six runs above
				t.Errorf("refused runs made jobs: %d", len(jobs))
			}

			// a job's lookup is a sighting from the cortex source (written
			// with its audit record, in a batch)
			const sq = `{ indicator(value: "203.0.113.45") { sightings { recent(first: 20) { username source tlp } } } }`
			type sighting struct{ Username, Source, TLP string }
			var sighted bool
			for wait := time.Now().Add(10 * time.Second); !sighted && time.Now().Before(wait); time.Sleep(100 * time.Millisecond) {
				got := field[struct {
					Sightings struct {
						Recent []sighting `json:"recent"`
					} `json:"sightings"`
				}](t, in.gql(root, sq, nil), "indicator")
				sighted = slices.ContainsFunc(got.Sightings.Recent, func(s sighting) bool {
					return s.Username == "alice" && s.Source == "cortex" && s.TLP == "AMBER"
				})
			}
			if !sighted {
				t.Error("no cortex sighting of 203.0.113.45 by alice under TLP:AMBER")
			}

			if err := in.stop(); err != nil { // flushes the usage writer
				t.Fatal(err)
			}
			ctx := context.Background()
			st, err := store.Open(ctx, env["GADGET_DATABASE_URL"])
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			rows, err := st.Client().UsageLog.Query().Where(usagelog.API("cortex"), usagelog.Endpoint("POST /cortex/api/analyzer/{id}/run")).All(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// five jobs with the providers' answers, eight refused with
			// a principal (unknown analyzer, bad input, a file); no key, a
			// bad key and a key without the tasks scope write none
			okRows := 0
			for _, r := range rows {
				if strings.Contains(r.Parameters, alice.key) {
					t.Fatalf("the key is in an audit row: %+v", r)
				}
				if r.Status == "ok" {
					okRows++
					if r.Username != "alice" || r.Providers == "" {
						t.Errorf("run audit row = %+v", r)
					}
				}
			}
			if okRows != 6 || len(rows) != 14 {
				t.Errorf("run audit rows: %d ok of %d, want 6 of 14", okRows, len(rows))
			}
		})
	}
}
