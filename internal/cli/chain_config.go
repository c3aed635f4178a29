package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/walrus-go/walrus/internal/chain/chainnode"
)

// validatorConfigFile is the name of a validator's configuration in its home directory.
const validatorConfigFile = "chain.yaml"

// validatorConfig is the YAML form of chainnode.Config (without the home, which is the
// directory holding the file). Durations are Go duration strings; empty or zero values take
// chainnode's defaults.
type validatorConfig struct {
	Moniker            string   `yaml:"moniker"`
	P2PListen          string   `yaml:"p2p_listen"`
	RPCListen          string   `yaml:"rpc_listen"`
	PprofListen        string   `yaml:"pprof_listen,omitempty"`
	PersistentPeers    []string `yaml:"persistent_peers"`
	TimeoutCommit      string   `yaml:"timeout_commit"`
	TimeoutPropose     string   `yaml:"timeout_propose"`
	TimeoutVote        string   `yaml:"timeout_vote"`
	Heartbeat          string   `yaml:"heartbeat"`
	FlushThrottle      string   `yaml:"flush_throttle"`
	PeerGossipSleep    string   `yaml:"peer_gossip_sleep"`
	MempoolSize        int      `yaml:"mempool_size"`
	SubscriptionBuffer int      `yaml:"subscription_buffer"`
	LogLevel           string   `yaml:"log_level"`
}

func newValidatorConfig(c chainnode.Config) validatorConfig {
	return validatorConfig{
		Moniker: c.Moniker, P2PListen: c.P2PListen, RPCListen: c.RPCListen, PprofListen: c.PprofListen, PersistentPeers: c.PersistentPeers,
		TimeoutCommit: c.TimeoutCommit.String(), TimeoutPropose: c.TimeoutPropose.String(), TimeoutVote: c.TimeoutVote.String(),
		Heartbeat: c.Heartbeat.String(), FlushThrottle: c.FlushThrottle.String(), PeerGossipSleep: c.PeerGossipSleep.String(),
		MempoolSize: c.MempoolSize, SubscriptionBuffer: c.SubscriptionBuffer, LogLevel: "info",
	}
}

const validatorConfigHeader = `# Walrus chain validator configuration, written by 'walrus chain init' and read by
# 'walrus chain start --home DIR'. Durations are Go durations ("300ms", "3s"); a heartbeat
# of "-1s" makes no empty blocks; rpc_listen "off" serves no JSON-RPC. pprof_listen:
# HOST:PORT (absent by default) serves Go's runtime profiles there; keep it private.
`

func writeValidatorConfig(home string, c validatorConfig) error {
	b, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	path := filepath.Join(home, validatorConfigFile)
	return os.WriteFile(path, append([]byte(validatorConfigHeader), b...), 0o600)
}

// loadValidatorConfig reads home/chain.yaml strictly (unknown keys are errors naming their
// line) into a chainnode.Config and the log level.
func loadValidatorConfig(home string) (chainnode.Config, slog.Level, error) {
	path := filepath.Join(home, validatorConfigFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return chainnode.Config{}, 0, withHint(fmt.Errorf("%s not found", path), "initialize the validator with 'walrus chain init --home "+home+"'")
	}
	if err != nil {
		return chainnode.Config{}, 0, fmt.Errorf("cannot read %s: %w", path, unwrapPathError(err))
	}
	var vc validatorConfig
	if err := yaml.UnmarshalWithOptions(raw, &vc, yaml.DisallowUnknownField()); err != nil {
		return chainnode.Config{}, 0, fmt.Errorf("%s: %s", path, strings.TrimSpace(yaml.FormatError(err, false, true)))
	}
	c := chainnode.Config{
		Home: home, Moniker: vc.Moniker, P2PListen: vc.P2PListen, RPCListen: vc.RPCListen, PprofListen: vc.PprofListen,
		PersistentPeers: vc.PersistentPeers, MempoolSize: vc.MempoolSize, SubscriptionBuffer: vc.SubscriptionBuffer,
	}
	for _, d := range []struct {
		name string
		s    string
		out  *time.Duration
	}{
		{"timeout_commit", vc.TimeoutCommit, &c.TimeoutCommit},
		{"timeout_propose", vc.TimeoutPropose, &c.TimeoutPropose},
		{"timeout_vote", vc.TimeoutVote, &c.TimeoutVote},
		{"heartbeat", vc.Heartbeat, &c.Heartbeat},
		{"flush_throttle", vc.FlushThrottle, &c.FlushThrottle},
		{"peer_gossip_sleep", vc.PeerGossipSleep, &c.PeerGossipSleep},
	} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil {
			return chainnode.Config{}, 0, fmt.Errorf("%s: %s: %w", path, d.name, err)
		}
		*d.out = v
	}
	level := slog.LevelInfo
	if vc.LogLevel != "" {
		if err := level.UnmarshalText([]byte(vc.LogLevel)); err != nil {
			return chainnode.Config{}, 0, fmt.Errorf("%s: log_level: %w", path, err)
		}
	}
	if err := c.Validate(); err != nil {
		return chainnode.Config{}, 0, fmt.Errorf("%s: %w", path, err)
	}
	return c, level, nil
}
