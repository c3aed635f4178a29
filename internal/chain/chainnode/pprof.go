package chainnode

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// pprofServer serves Go's runtime profiles (Config.PprofListen) on a listener of its own.
type pprofServer struct {
	ln  net.Listener
	srv *http.Server
}

// startPprof listens on addr and serves the profile routes of net/http/pprof, and nothing
// else: the index at /debug/pprof/, a CPU profile at /debug/pprof/profile?seconds=N and an
// execution trace at /debug/pprof/trace?seconds=N.
func startPprof(addr string) (*pprofServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("chainnode: pprof listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	s := &pprofServer{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go s.srv.Serve(ln) //nolint:errcheck // returns ErrServerClosed on close
	return s, nil
}

func (s *pprofServer) addr() string { return s.ln.Addr().String() }

func (s *pprofServer) close() { s.srv.Close() }
