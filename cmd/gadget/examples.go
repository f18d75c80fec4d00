package main

import "github.com/inspector-gadget/gadget/internal/playground"

// playgroundOptions are GraphiQL's settings and example queries. Every
// example is a named operation (GraphiQL titles its tab with the name) and
// runs in TestPlaygroundExamples against the fake intel server; the values
// follow its conventions (203.0.113.0/24 and "evil" hosts are listed as
// malicious, 192.0.2.0/24 is unknown to every provider).
func playgroundOptions() playground.Options {
	return playground.Options{
		Title:         "Inspector Gadget",
		Endpoint:      "/graphql",
		TokenEndpoint: "/api/authenticate",
		AssetPrefix:   "/graphiql/",
		Examples: []playground.Example{
			{Name: "Look up an indicator", Query: `# Needs the tasks scope. Defanged input (203.0.113[.]7, hxxp://…) is accepted.
# verdict combines every provider serving the kind; each typed provider
# field asks only that provider (select results for all of them as JSON).
query LookUpIndicator {
  indicator(value: "203.0.113.7") {
    value
    kind
    verdict { level score reasons }
    ... on IPAddress {
      abuseipdb { status cached abuseConfidenceScore totalReports countryCode }
      virustotal { status cached reputation stats { malicious suspicious harmless } }
    }
  }
}
`},
			{Name: "Look up a batch", Query: `# Needs the tasks scope. Up to 1,000 values, answered in input order; a value
# that does not parse is an InvalidIndicator with error, and the others answer.
query LookUpBatch {
  indicators(values: ["203.0.113.7", "hxxp://evil[.]example/payload", "192.0.2.44", "not an indicator"]) {
    value
    kind
    verdict { level score reasons }
    error { code message }
  }
}
`},
			{Name: "Me and my usage", Query: `# Needs the users scope. Usage covers the 30 days ending today by default.
query MyUsage {
  me { username admin lastLoginAt lastLoginIp }
  myUsage { from to totalCalls totalBytes rows { api calls bytes } }
}
`},
			{Name: "Usage report (admin)", Query: `# Needs the mon scope: every user's calls and bytes per API.
query UsageReport {
  usageReport { from to totalCalls totalBytes rows { username api calls bytes } }
}
`},
			{Name: "Audit log (admin)", Query: `# Needs the mon scope. Newest first; pass after: endCursor for the next page.
query AuditLog {
  auditLog(first: 20) {
    edges { node { queryDate username api status endpoint ipAddress dataSize } }
    pageInfo { hasNextPage endCursor }
  }
}
`},
			{Name: "Status", Query: `# Public: no sign-in needed.
query Status {
  status {
    version
    uptimeSeconds
    providers { name enabled configured kinds }
  }
}
`},
			{Name: "Create a user (admin)", Query: `# Needs the mon scope. Passwords are 12 to 72 bytes.
mutation CreateUser {
  createUser(username: "analyst1", password: "choose-a-long-passphrase") { id username active admin }
}
`},
		},
	}
}
