package daemon

import (
	"net/http"
	"net/http/pprof"
)

// pprofRoutes adds Go's runtime profiles (Config.Pprof) to mux, the metrics listener's:
// the index of profiles at /debug/pprof/, a CPU profile at /debug/pprof/profile?seconds=N
// (30 by default) and an execution trace at /debug/pprof/trace?seconds=N.
func pprofRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}
