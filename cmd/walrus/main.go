// Command walrus is the one binary of walrus-go: offline blob tools, the chain validator, the
// storage node, the client CLI and the publisher/aggregator daemons.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/walrus-go/walrus/internal/cli"
)

func main() {
	// SIGHUP (a closed terminal) stops a command cleanly, as SIGINT and SIGTERM do. Without
	// it, a devnet would ignore SIGHUP once CometBFT's log files register it.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
