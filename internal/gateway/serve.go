package gateway

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// ShutdownTimeout is how long Serve lets requests in flight finish after its context
// ends.
const ShutdownTimeout = 30 * time.Second

// Serve serves api on l and, if ml is not nil, metrics at /metrics on ml, until ctx ends or
// a server fails; then it shuts both down, giving requests in flight up to
// ShutdownTimeout, and returns nil (or the failure). The listeners are closed on return.
// The API server bounds headers (64 KiB) and the time to read them (10 s); bodies and
// answers may take up to 10 minutes.
func Serve(ctx context.Context, l net.Listener, api http.Handler, ml net.Listener, metrics http.Handler) error {
	servers := []*http.Server{{
		Handler: api, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Minute,
		WriteTimeout: 10 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
	}}
	listeners := []net.Listener{l}
	if ml != nil {
		mux := http.NewServeMux()
		mux.Handle("/metrics", metrics)
		servers = append(servers, &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second})
		listeners = append(listeners, ml)
	}
	errs := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errs <- srv.Serve(listeners[i]) }()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	for _, srv := range servers {
		_ = srv.Shutdown(sctx)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
