package main

import "net/http"

// portalRoutes returns the web portal (/portal/), pattern → handler.
func (a *app) portalRoutes() map[string]http.Handler {
	return nil
}
