package testnet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/chain/chainnode"
)

// validatorSet is the chain of a network and a client of it: one validator in this
// process (the default), one `walrus chain start` process (Options.ValidatorBinary), or
// several validators in this process (Options.Validators). Network and Cluster embed it.
type validatorSet struct {
	// Validator is the chain validator in this process (validator 0 of several); nil
	// when it runs as a process.
	Validator *chainnode.Node
	// Chain is a client of the chain: of the in-process validator directly, of the
	// validator process over JSON-RPC, or of several validators over JSON-RPC with
	// failover (chainclient.DialAll).
	Chain *chainclient.Client
	// RPCAddr is the host:port of the validator's JSON-RPC (of validator 0 of several);
	// empty unless Options.RPC, ValidatorBinary or Validators > 1.
	RPCAddr string
	// Validators and RPCAddrs are every validator and its JSON-RPC host:port, with
	// Options.Validators > 1 (a stopped validator stays in the list).
	Validators []*chainnode.Node
	RPCAddrs   []string

	binary string // Options.ValidatorBinary
	cfg    chainnode.Config
	log    *slog.Logger
	proc   *exec.Cmd
	done   chan struct{}
}

// startValidators generates the validators' homes under dir for genesis g and starts
// them. free returns a free loopback host:port (testvec.FreeAddr).
func startValidators(o Options, g *chain.Genesis, dir string, log *slog.Logger, free func() (string, error)) (*validatorSet, error) {
	v := &validatorSet{binary: o.ValidatorBinary, log: log}
	if o.Validators > 1 {
		if o.ValidatorBinary != "" {
			return nil, errors.New("testnet: Validators > 1 with ValidatorBinary")
		}
		return v, v.startSeveral(o, g, dir, free)
	}
	cfg := chainnode.Config{
		Home: filepath.Join(dir, "validator"), P2PListen: "127.0.0.1:0", RPCListen: chainnode.RPCOff,
		Heartbeat: o.Heartbeat, Logger: log.With("component", "validator"),
	}
	if o.RPC || o.ValidatorBinary != "" {
		v.RPCAddr = o.RPCAddr
		if v.RPCAddr == "" {
			a, err := free()
			if err != nil {
				return nil, err
			}
			v.RPCAddr = a
		}
		cfg.RPCListen = v.RPCAddr
	}
	cfg, err := chainnode.GenerateSingle(cfg, g)
	if err != nil {
		return nil, fmt.Errorf("testnet: %w", err)
	}
	if o.ValidatorBinary != "" {
		if cfg.P2PListen, err = free(); err != nil { // fixed across restarts of the process
			return nil, err
		}
		if err := writeValidatorConfig(cfg); err != nil {
			return nil, err
		}
	}
	v.cfg = cfg
	return v, v.start()
}

// startSeveral generates and starts Options.Validators in-process validators with
// JSON-RPC on loopback, and dials Chain to all of them. Their consensus timeouts are
// short (a proposal 400 ms, a vote 200 ms), so that a stopped validator's rounds pass
// quickly.
func (v *validatorSet) startSeveral(o Options, g *chain.Genesis, dir string, free func() (string, error)) error {
	cfgs := make([]chainnode.Config, o.Validators)
	for i := range cfgs {
		p2p, err := free()
		if err != nil {
			return err
		}
		rpc, err := free()
		if err != nil {
			return err
		}
		cfgs[i] = chainnode.Config{
			Home: filepath.Join(dir, fmt.Sprintf("validator-%d", i)), Moniker: fmt.Sprintf("validator-%d", i),
			P2PListen: p2p, RPCListen: rpc, Heartbeat: o.Heartbeat,
			TimeoutPropose: 400 * time.Millisecond, TimeoutVote: 200 * time.Millisecond,
			Logger: v.log.With("component", fmt.Sprintf("validator-%d", i)),
		}
	}
	cfgs, err := chainnode.GenerateNetwork(cfgs, g)
	if err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	var urls []string
	for i, c := range cfgs {
		val, err := chainnode.Start(c)
		if err != nil {
			for _, val := range v.Validators {
				val.Close()
			}
			return fmt.Errorf("testnet: starting validator %d: %w", i, err)
		}
		v.Validators = append(v.Validators, val)
		v.RPCAddrs = append(v.RPCAddrs, c.RPCListen)
		urls = append(urls, "http://"+c.RPCListen)
	}
	v.Validator, v.RPCAddr = v.Validators[0], v.RPCAddrs[0]
	if v.Chain, err = chainclient.DialAll(urls, chainclient.Options{Logger: v.log.With("component", "chainclient")}); err != nil {
		for _, val := range v.Validators {
			val.Close()
		}
		return fmt.Errorf("testnet: %w", err)
	}
	return nil
}

// start starts the single validator, in this process or as a process, and makes Chain
// (a client of a process outlives its restarts).
func (v *validatorSet) start() error {
	var err error
	copts := chainclient.Options{Logger: v.log.With("component", "chainclient")}
	if v.binary != "" {
		if err := v.startProcess(); err != nil {
			return err
		}
		if v.Chain != nil {
			return nil // the HTTP client outlives restarts of the process
		}
		v.Chain, err = chainclient.Dial(v.RPCAddr, copts)
	} else {
		if v.Validator, err = chainnode.Start(v.cfg); err != nil {
			return fmt.Errorf("testnet: starting the validator: %w", err)
		}
		if v.Chain, err = chainclient.New(v.Validator.Client(), copts); err != nil {
			v.Validator.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	return nil
}

// writeValidatorConfig writes the chain.yaml that `walrus chain start --home` reads.
func writeValidatorConfig(cfg chainnode.Config) error {
	b, err := yaml.Marshal(map[string]string{
		"p2p_listen": cfg.P2PListen, "rpc_listen": cfg.RPCListen, "heartbeat": cfg.Heartbeat.String(), "log_level": "info",
	})
	if err == nil {
		err = os.WriteFile(filepath.Join(cfg.Home, "chain.yaml"), b, 0o600)
	}
	if err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	return nil
}

// startProcess runs `walrus chain start --home` with its output appended to
// HOME/validator.log and waits (up to a minute) until its JSON-RPC accepts connections.
func (v *validatorSet) startProcess() error {
	logPath := filepath.Join(v.cfg.Home, "validator.log")
	log, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	cmd := exec.Command(v.binary, "chain", "start", "--home", v.cfg.Home)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("testnet: %w", err)
	}
	done := make(chan struct{})
	v.proc, v.done = cmd, done
	go func() {
		cmd.Wait() //nolint:errcheck // a killed process reports its signal
		log.Close()
		close(done)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = poll(ctx, func() (bool, error) {
		select {
		case <-done:
			return false, fmt.Errorf("the validator process exited; see %s", logPath)
		default:
		}
		c, err := net.DialTimeout("tcp", v.RPCAddr, time.Second)
		if err != nil {
			return false, nil
		}
		c.Close()
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("testnet: waiting for the validator's JSON-RPC: %w", err)
	}
	return nil
}

// stop stops the single validator: in-process (with Chain, which calls it directly), or
// its process with sig (SIGTERM waits up to 20 s before SIGKILL).
func (v *validatorSet) stop(sig syscall.Signal) error {
	if v.proc == nil {
		if v.Validator == nil {
			return nil
		}
		v.Chain.Close()
		return v.Validator.Close()
	}
	v.proc.Process.Signal(sig) //nolint:errcheck // it may have exited
	select {
	case <-v.done:
	case <-time.After(20 * time.Second):
		v.proc.Process.Kill() //nolint:errcheck // it may have exited
		<-v.done
	}
	v.proc = nil
	return nil
}

// close stops every validator and closes Chain.
func (v *validatorSet) close() error {
	err := v.stop(syscall.SIGTERM)
	for _, val := range v.Validators {
		val.Close() // idempotent: validator 0 was closed above
	}
	if v.Chain != nil {
		v.Chain.Close()
	}
	return err
}
