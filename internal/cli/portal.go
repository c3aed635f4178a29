package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/portal"
)

// defaultPortalAddr is where 'walrus portal' and the devnet's portal listen.
const defaultPortalAddr = "127.0.0.1:3000"

type portalFlags struct {
	bind          string
	domain        string
	maxSizeMiB    uint64
	maxConcurrent int
	// ready, if set, is called with the listening address once the portal serves.
	ready func(addr string)
}

func portalCommand(ce *clientEnv) *cobra.Command {
	var f portalFlags
	cmd := &cobra.Command{
		Use:   "portal",
		Short: "Serve Walrus Sites at http://<site>.localhost:PORT",
		Long: "Serve Walrus Sites over HTTP: http://<site object ID in base36>.DOMAIN:PORT/path and\n" +
			"http://<site name>.DOMAIN:PORT/path (browsers resolve *.localhost to this machine). Content is\n" +
			"read from the storage nodes and checked against its SHA-256 on chain before it is sent.\n" +
			"docs/sites.md describes the resolution of paths and the status codes. Stops on interrupt.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runPortal(ce, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.bind, "bind-address", defaultPortalAddr, "address to serve sites on")
	fl.StringVar(&f.domain, "domain", "localhost", "domain whose subdomains are sites")
	fl.Uint64Var(&f.maxSizeMiB, "max-resource-size", 64, "largest resource served, in MiB")
	fl.IntVar(&f.maxConcurrent, "max-concurrent", 64, "requests served at once; more wait")
	return cmd
}

func runPortal(ce *clientEnv, f portalFlags) error {
	if f.maxSizeMiB == 0 || f.maxConcurrent <= 0 || f.domain == "" {
		return usageError{errors.New("--max-resource-size and --max-concurrent must be positive, --domain not empty")}
	}
	s, err := ce.connect(ce.ctx, false)
	if err != nil {
		return err
	}
	defer s.close()
	p, err := portal.New(portal.Config{
		Chain: s.chain, Blobs: &portal.ClientBlobs{Client: s.client},
		Domain: f.domain, MaxResourceSize: f.maxSizeMiB << 20, MaxConcurrent: f.maxConcurrent, Logger: ce.logger(),
	})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", f.bind)
	if err != nil {
		return withHint(fmt.Errorf("cannot listen on %s: %w", f.bind, err), "choose another address with --bind-address")
	}
	ctx, cancel := context.WithCancel(ce.ctx)
	defer cancel()
	hs := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: 64 << 10, BaseContext: func(net.Listener) context.Context { return ctx }}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(l) }()
	url := "http://" + f.domain + ":" + portPart(l.Addr().String())
	if ce.json {
		json.NewEncoder(ce.stdout).Encode(map[string]string{"url": url})
	}
	fmt.Fprintf(ce.stderr, "walrus: serving sites at http://<site>.%s:%s\n", f.domain, portPart(l.Addr().String()))
	if f.ready != nil {
		f.ready(l.Addr().String())
	}
	select {
	case err := <-served:
		return err
	case <-ce.ctx.Done():
	}
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ce.ctx), 10*time.Second)
	defer scancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	return nil
}

func portPart(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return port
}

// startDevnetPortal starts the devnet's portal (unless --portal off) with ce's context and
// returns the line to print, a channel that receives its error when it stops, and a function
// that waits for it to stop after ce's context ends.
func startDevnetPortal(ce *clientEnv, addr string) (string, <-chan error, func(), error) {
	if addr == "off" || addr == "" {
		return "", nil, func() {}, nil
	}
	ready := make(chan string, 1)
	stopped := make(chan error, 1)
	done := make(chan struct{})
	cce := *ce
	env := *ce.env
	env.json = false
	cce.env = &env
	go func() {
		defer close(done)
		stopped <- runPortal(&cce, portalFlags{bind: addr, domain: "localhost", maxSizeMiB: 64, maxConcurrent: 64,
			ready: func(a string) { ready <- a }})
	}()
	select {
	case a := <-ready:
		return fmt.Sprintf("http://<site>.localhost:%s", portPart(a)), stopped, func() { <-done }, nil
	case err := <-stopped:
		if err == nil {
			err = errors.New("stopped")
		}
		return "", nil, nil, fmt.Errorf("the portal did not start: %w", err)
	}
}
