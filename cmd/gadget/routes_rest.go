package main

import "net/http"

// restRoutes returns the REST compatibility layer (/api/..., /openapi.json, /docs), pattern → handler.
func (a *app) restRoutes() map[string]http.Handler {
	return nil
}
