package rest

import "net/http"

func (a *API) openAPI(w http.ResponseWriter, r *http.Request) {}

func docsRoutes() map[string]http.Handler { return nil }
