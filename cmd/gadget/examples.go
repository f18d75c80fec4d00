package main

import "github.com/inspector-gadget/gadget/internal/playground"

// playgroundOptions are GraphiQL's settings and example queries.
func playgroundOptions() playground.Options {
	return playground.Options{
		Title:         "Inspector Gadget",
		Endpoint:      "/graphql",
		TokenEndpoint: "/api/authenticate",
		AssetPrefix:   "/graphiql/",
		Examples: []playground.Example{
			{Name: "Status", Query: "# Public: no sign-in needed.\n{\n  status {\n    version\n    uptimeSeconds\n    providers { name enabled configured kinds }\n  }\n}\n"},
			{Name: "Me and my usage", Query: "# Needs the users scope.\n{\n  me { username admin lastLoginAt lastLoginIp }\n  myUsage { from to totalCalls totalBytes rows { api calls bytes } }\n}\n"},
			{Name: "Usage report (admin)", Query: "# Needs the mon scope.\n{\n  usageReport { from to totalCalls totalBytes rows { username api calls bytes } }\n}\n"},
			{Name: "Audit log (admin)", Query: "# Needs the mon scope.\n{\n  auditLog(first: 20) {\n    edges { node { queryDate username api status endpoint ipAddress dataSize } }\n    pageInfo { hasNextPage endCursor }\n  }\n}\n"},
			{Name: "Create a user (admin)", Query: "mutation {\n  createUser(username: \"analyst1\", password: \"choose-a-long-passphrase\") { id username active admin }\n}\n"},
		},
	}
}
