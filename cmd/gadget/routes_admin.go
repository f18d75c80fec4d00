package main

import "net/http"

// adminRoutes returns admin mounts (River UI under /admin/river/), pattern → handler.
func (a *app) adminRoutes() map[string]http.Handler {
	return nil
}
