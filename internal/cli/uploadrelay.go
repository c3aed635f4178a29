package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/gateway"
	"github.com/walrus-go/walrus/internal/uploadrelay"
)

// defaultRelayAddr is the relay's address: Walrus's port, on loopback like the daemons.
const defaultRelayAddr = "127.0.0.1:57391"

type relayFlags struct {
	bind          string
	maxBodyKiB    int64
	maxConcurrent int
	tipAddress    string
	tipConst      uint64
	tipBase       uint64
	tipPerKiB     uint64
	tipFreshness  time.Duration
}

func uploadRelayCommand(ce *clientEnv) *cobra.Command {
	var f relayFlags
	cmd := &cobra.Command{
		Use:   "upload-relay",
		Short: "Run an upload relay: take whole blobs over HTTP and upload them to the storage nodes",
		Long: "Run an upload relay (Walrus's walrus-upload-relay): POST /v1/blob-upload-relay takes a blob the\n" +
			"client registered, encodes it, uploads its slivers to the storage nodes and answers with the\n" +
			"confirmation certificate the client certifies it with; GET /v1/tip-config says what it charges.\n" +
			"With --tip-const, or --tip-base and --tip-per-kib, each upload must be paid by a tip to\n" +
			"--tip-address (default: the wallet's address) committing to the blob; see docs/upload-relay.md.\n" +
			"The relay needs no wallet without a tip. Stops cleanly on interrupt.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUploadRelay(ce, cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.bind, "server-address", defaultRelayAddr, "address to serve the relay on")
	fl.Int64Var(&f.maxBodyKiB, "max-body-size", uploadrelay.DefaultMaxBodySize>>10, "largest blob accepted, in KiB")
	fl.IntVar(&f.maxConcurrent, "max-concurrent-requests", uploadrelay.DefaultMaxConcurrent, "uploads served at once; more get 503")
	fl.StringVar(&f.tipAddress, "tip-address", "", "address the tips are paid to (default: the wallet's)")
	fl.Uint64Var(&f.tipConst, "tip-const", 0, "ask a constant tip of this many FROST per upload")
	fl.Uint64Var(&f.tipBase, "tip-base", 0, "ask a linear tip: this many FROST per upload plus --tip-per-kib")
	fl.Uint64Var(&f.tipPerKiB, "tip-per-kib", 0, "ask a linear tip: this many FROST per KiB of the encoded blob, plus --tip-base")
	fl.DurationVar(&f.tipFreshness, "tip-freshness", uploadrelay.DefaultTipFreshness, "how long after it is paid a tip is accepted")
	return cmd
}

// tipConfig turns the tip flags into what the relay asks; wallet is the default payee.
func (f relayFlags) tipConfig(cmd *cobra.Command, wallet func() (chain.Address, error)) (uploadrelay.TipConfig, error) {
	fl := cmd.Flags()
	constant, linear := fl.Changed("tip-const"), fl.Changed("tip-base") || fl.Changed("tip-per-kib")
	switch {
	case constant && linear:
		return uploadrelay.TipConfig{}, usageError{errors.New("give either --tip-const or --tip-base and --tip-per-kib, not both")}
	case !constant && !linear:
		if fl.Changed("tip-address") {
			return uploadrelay.TipConfig{}, usageError{errors.New("--tip-address needs --tip-const, or --tip-base and --tip-per-kib")}
		}
		return uploadrelay.TipConfig{}, nil
	}
	var cfg uploadrelay.TipConfig
	if constant {
		c := f.tipConst
		cfg.Kind.Const = &c
	} else {
		cfg.Kind.Linear = &uploadrelay.LinearTip{Base: f.tipBase, PerKiB: f.tipPerKiB}
	}
	if f.tipAddress != "" {
		a, err := chain.ParseAddress(f.tipAddress)
		if err != nil {
			return cfg, usageError{fmt.Errorf("--tip-address: %w", err)}
		}
		cfg.Address = a
		return cfg, nil
	}
	a, err := wallet()
	if err != nil {
		return cfg, withHint(err, "give --tip-address, or configure a wallet")
	}
	cfg.Address = a
	return cfg, nil
}

func runUploadRelay(ce *clientEnv, cmd *cobra.Command, f relayFlags) error {
	if f.maxBodyKiB <= 0 || f.maxConcurrent <= 0 || f.tipFreshness <= 0 {
		return usageError{errors.New("--max-body-size, --max-concurrent-requests and --tip-freshness must be positive")}
	}
	s, err := ce.connect(ce.ctx, false)
	if err != nil {
		return err
	}
	defer s.close()
	tip, err := f.tipConfig(cmd, func() (chain.Address, error) {
		if s.signer == nil {
			return chain.Address{}, errors.New("a tip needs an address to be paid to, and no wallet is configured")
		}
		return s.signer.Address(), nil
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ce.ctx)
	defer cancel()
	cfg := uploadrelay.Config{Uploader: s.client, Tip: tip, MaxBodySize: f.maxBodyKiB << 10,
		MaxConcurrent: f.maxConcurrent, Logger: ce.logger()}
	ledgerDone := make(chan error, 1)
	if tip.RequiresTip() {
		ledger, err := uploadrelay.NewTipLedger(ctx, s.chain, tip.Address, f.tipFreshness, nil)
		if err != nil {
			return err
		}
		cfg.Tips = ledger
		go func() { ledgerDone <- ledger.Run(ctx) }()
	}
	h, err := uploadrelay.NewServer(cfg)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", f.bind)
	if err != nil {
		return withHint(fmt.Errorf("cannot listen on %s: %w", f.bind, err), "choose another address with --server-address")
	}
	fmt.Fprintf(ce.stderr, "walrus: serving the upload relay on http://%s\n", l.Addr())
	if tip.RequiresTip() {
		fmt.Fprintf(ce.stderr, "walrus: uploads must be paid by a tip to %s\n", tip.Address)
	}
	serveErr := gateway.Serve(ctx, l, h, nil, nil)
	cancel()
	if tip.RequiresTip() {
		if err := <-ledgerDone; err != nil && !errors.Is(err, context.Canceled) && serveErr == nil {
			serveErr = fmt.Errorf("following the chain for tips: %w", err)
		}
	}
	return serveErr
}
