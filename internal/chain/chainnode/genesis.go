package chainnode

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/types"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/abciapp"
)

// ValidatorPower is the voting power of each generated validator.
const ValidatorPower = 10

// ErrExists is returned when a generator finds a home that already holds a genesis.
var ErrExists = errors.New("chainnode: home already initialized")

// GenerateSingle initializes cfg.Home for a single-validator chain: a new validator key and
// node key, and a CometBFT genesis that names this validator and carries g as the app state
// (abciapp.EncodeAppState). The chain ID and genesis time are those of g.Params;
// g.Params.GenesisTime must be set (use the present time: CometBFT does not start consensus
// before the genesis time). It returns cfg with defaults filled in.
func GenerateSingle(cfg Config, g *chain.Genesis) (Config, error) {
	out, err := GenerateNetwork([]Config{cfg}, g)
	if err != nil {
		return Config{}, err
	}
	return out[0], nil
}

// GenerateNetwork initializes one home per configuration (cfgs[i].Home) for a chain whose
// validators are these nodes, with equal power: each gets its own validator and node keys,
// all get the same genesis (see GenerateSingle), and each returned Config lists the other
// validators as persistent peers at their P2PListen addresses, which must therefore be
// dialable (not port 0) when there is more than one validator. Peers on the same host are
// allowed (allow_duplicate_ip, no strict address book). With more than one validator, a
// zero TimeoutPropose becomes DefaultNetworkTimeoutPropose.
func GenerateNetwork(cfgs []Config, g *chain.Genesis) ([]Config, error) {
	if len(cfgs) == 0 {
		return nil, errors.New("chainnode: generate: no validators")
	}
	if g.Params.GenesisTime == 0 {
		return nil, errors.New("chainnode: generate: Params.GenesisTime is not set")
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("chainnode: generate: %w", err)
	}
	appState, err := abciapp.EncodeAppState(g)
	if err != nil {
		return nil, err
	}
	out := make([]Config, len(cfgs))
	for i, c := range cfgs {
		if len(cfgs) > 1 && c.TimeoutPropose == 0 {
			c.TimeoutPropose = DefaultNetworkTimeoutPropose
		}
		c = c.withDefaults()
		c.PersistentPeers = nil
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("chainnode: generate validator %d: %w", i, err)
		}
		if _, err := os.Stat(filepath.Join(c.Home, "config", "genesis.json")); err == nil {
			return nil, fmt.Errorf("%w: %s", ErrExists, c.Home)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("chainnode: generate: %w", err)
		}
		if len(cfgs) > 1 {
			if _, port, _ := net.SplitHostPort(c.P2PListen); port == "0" {
				return nil, fmt.Errorf("chainnode: generate validator %d: P2PListen %s: peers need a fixed port", i, c.P2PListen)
			}
		}
		out[i] = c
	}
	doc := &types.GenesisDoc{
		ChainID:         g.Params.ChainID,
		GenesisTime:     time.Unix(0, g.Params.GenesisTime).UTC(),
		InitialHeight:   1,
		ConsensusParams: types.DefaultConsensusParams(),
		AppState:        json.RawMessage(appState),
	}
	ids := make([]p2p.ID, len(out))
	for i, c := range out {
		cmt, err := c.cometConfig()
		if err != nil {
			return nil, err
		}
		for _, dir := range []string{filepath.Dir(cmt.GenesisFile()), filepath.Dir(cmt.PrivValidatorStateFile()), cmt.DBDir()} {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("chainnode: generate: %w", err)
			}
		}
		pv, err := genFilePV(cmt.PrivValidatorKeyFile(), cmt.PrivValidatorStateFile())
		if err != nil {
			return nil, err
		}
		nk, err := p2p.LoadOrGenNodeKey(cmt.NodeKeyFile())
		if err != nil {
			return nil, fmt.Errorf("chainnode: generate: node key: %w", err)
		}
		ids[i] = nk.ID()
		pub, err := pv.GetPubKey()
		if err != nil {
			return nil, fmt.Errorf("chainnode: generate: %w", err)
		}
		doc.Validators = append(doc.Validators, types.GenesisValidator{
			Address: pub.Address(), PubKey: pub, Power: ValidatorPower, Name: c.Moniker,
		})
	}
	if err := doc.ValidateAndComplete(); err != nil {
		return nil, fmt.Errorf("chainnode: generate: genesis: %w", err)
	}
	for i := range out {
		for j, c := range out {
			if j != i {
				out[i].PersistentPeers = append(out[i].PersistentPeers, p2p.IDAddressString(ids[j], c.P2PListen))
			}
		}
		if err := doc.SaveAs(filepath.Join(out[i].Home, "config", "genesis.json")); err != nil {
			return nil, fmt.Errorf("chainnode: generate: %w", err)
		}
	}
	return out, nil
}

// genFilePV writes a new validator key and an empty sign state, catching the panics of
// CometBFT's FilePV.Save.
func genFilePV(keyFile, stateFile string) (pv *privval.FilePV, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("chainnode: generate: validator key: %v", r)
		}
	}()
	pv = privval.GenFilePV(keyFile, stateFile)
	pv.Save()
	return pv, nil
}

// loadFilePV loads the validator key and sign state. CometBFT's privval.LoadFilePV exits
// the process on a bad file, so the files are checked here first.
func loadFilePV(keyFile, stateFile string) (*privval.FilePV, error) {
	raw, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("chainnode: validator key: %w", err)
	}
	var key privval.FilePVKey
	if err := cmtjson.Unmarshal(raw, &key); err != nil || key.PrivKey == nil {
		return nil, fmt.Errorf("chainnode: validator key %s: malformed (%v)", keyFile, err)
	}
	// A missing sign state is an error, not a fresh start: signing again from height 0
	// could make the validator double-sign.
	raw, err = os.ReadFile(stateFile)
	if err != nil {
		return nil, fmt.Errorf("chainnode: validator state: %w", err)
	}
	var st privval.FilePVLastSignState
	if err := cmtjson.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("chainnode: validator state %s: malformed (%v)", stateFile, err)
	}
	return privval.LoadFilePV(keyFile, stateFile), nil
}

// ReadGenesis returns the chain genesis (the app state) of the CometBFT genesis in home.
func ReadGenesis(home string) (*chain.Genesis, error) {
	doc, err := types.GenesisDocFromFile(filepath.Join(home, "config", "genesis.json"))
	if err != nil {
		return nil, fmt.Errorf("chainnode: %w", err)
	}
	return abciapp.DecodeAppState(doc.AppState)
}

// NodeID returns the P2P node ID of the validator in home (the "id" of "id@host:port").
func NodeID(home string) (string, error) {
	nk, err := p2p.LoadNodeKey(filepath.Join(home, "config", "node_key.json"))
	if err != nil {
		return "", fmt.Errorf("chainnode: %w", err)
	}
	return string(nk.ID()), nil
}
