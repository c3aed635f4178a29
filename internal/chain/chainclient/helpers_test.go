package chainclient_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"golang.org/x/crypto/blake2b"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/chain/chainnode"
	"github.com/walrus-go/walrus/internal/merkle"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/testvec"
)

// genesisTime is fixed so that two runs build the same genesis. Epochs are long enough that
// no epoch change happens while a test runs, although the chain starts in the past.
var genesisTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const testEpoch = 10 * 365 * 24 * time.Hour

func seededRand(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	return rand.NewChaCha8(s)
}

func testSigner(name string) *chainclient.Signer {
	seed := blake2b.Sum256([]byte("chainclient-test:" + name))
	return chainclient.NewSigner(ed25519.NewKeyFromSeed(seed[:]))
}

var (
	testLogger = testvec.Logger
	freeAddr   = testvec.FreeAddr
	waitFor    = testvec.WaitFor
)

// devnet is a single-validator chain for a test.
type devnet struct {
	t       testing.TB
	cfg     chainnode.Config
	genesis *chain.Genesis
	keys    []chainnode.StorageNodeKeys
	node    *chainnode.Node
	client  *chainclient.Client
}

type devnetOptions struct {
	// chainID is the chain's ID: default "chainclient-test"; "generate" lets DevnetGenesis
	// draw one from seed.
	chainID   string
	seed      uint64 // of the genesis keys; default 7
	faucet    uint64
	heartbeat time.Duration // default: none
	rpc       bool          // serve JSON-RPC on a loopback port
	accounts  []chain.GenesisAccount
	// timeoutCommit is the wait after each block before the next (default chainnode's).
	timeoutCommit time.Duration
}

func newDevnet(t testing.TB, o devnetOptions) *devnet {
	t.Helper()
	if o.accounts == nil {
		o.accounts = []chain.GenesisAccount{
			{Address: testSigner("alice").Address(), Balance: 1_000_000 * chain.FrostPerWAL},
			{Address: testSigner("carol").Address(), Balance: chainnode.DefaultMinFee + 10},
		}
	}
	switch o.chainID {
	case "":
		o.chainID = "chainclient-test"
	case "generate":
		o.chainID = ""
	}
	if o.seed == 0 {
		o.seed = 7
	}
	g, keys, err := chainnode.DevnetGenesis(chainnode.DevnetOptions{
		ChainID: o.chainID, GenesisTime: genesisTime, EpochDuration: testEpoch, FaucetMax: o.faucet,
		Accounts: o.accounts, Rand: seededRand(o.seed),
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := chainnode.Config{Home: t.TempDir(), P2PListen: "127.0.0.1:0", RPCListen: chainnode.RPCOff, Heartbeat: -1, Logger: testLogger()}
	if o.heartbeat != 0 {
		cfg.Heartbeat = o.heartbeat
	}
	if o.rpc {
		cfg.RPCListen = freeAddr(t)
	}
	cfg.TimeoutCommit = o.timeoutCommit
	cfg, err = chainnode.GenerateSingle(cfg, g)
	if err != nil {
		t.Fatal(err)
	}
	d := &devnet{t: t, cfg: cfg, genesis: g, keys: keys}
	d.start()
	t.Cleanup(d.stop)
	return d
}

func (d *devnet) start() {
	d.t.Helper()
	node, err := chainnode.Start(d.cfg)
	if err != nil {
		d.t.Fatal(err)
	}
	d.node = node
	d.client, err = chainclient.New(node.Client(), chainclient.Options{Logger: testLogger()})
	if err != nil {
		d.t.Fatal(err)
	}
	// The first block is made at once; later blocks only for transactions.
	d.waitHeight(1)
}

func (d *devnet) stop() {
	if d.node == nil {
		return
	}
	d.client.Close()
	if err := d.node.Close(); err != nil {
		d.t.Errorf("close node: %v", err)
	}
	d.node = nil
}

func (d *devnet) restart() {
	d.t.Helper()
	d.stop()
	d.start()
}

func (d *devnet) rpcURL() string { return "http://" + d.cfg.RPCListen }

// waitHeight waits until the application has committed height h.
func (d *devnet) waitHeight(h int64) {
	d.t.Helper()
	waitFor(d.t, 2*time.Minute, fmt.Sprintf("height %d", h), func() (bool, error) {
		c, _ := d.node.App().LastCommit()
		return c.Height >= h, nil
	})
}

// committee returns the current committee and a signer that certifies messages with all of
// its members.
func (d *devnet) certifier(ctx context.Context) (chain.CommitteeInfo, func(msg []byte) chain.Certificate) {
	d.t.Helper()
	cmt, err := d.client.Committee(ctx)
	if err != nil {
		d.t.Fatal(err)
	}
	var signers []*bls.SecretKey
	for _, m := range cmt.Members {
		for _, k := range d.keys {
			if k.BLS.PublicKey().Bytes() == m.PublicKey {
				signers = append(signers, k.BLS)
			}
		}
	}
	if len(signers) != len(cmt.Members) {
		d.t.Fatalf("keys of %d of %d committee members", len(signers), len(cmt.Members))
	}
	bitmap := make([]byte, (len(cmt.Members)+7)/8)
	for i := range cmt.Members {
		bitmap[i/8] |= 1 << (i % 8)
	}
	return cmt, func(msg []byte) chain.Certificate {
		sigs := make([]bls.Signature, len(signers))
		for i, sk := range signers {
			sigs[i] = sk.Sign(msg)
		}
		agg, err := bls.AggregateSignatures(sigs)
		if err != nil {
			d.t.Fatal(err)
		}
		return chain.Certificate{Signers: bitmap, Message: msg, Signature: agg.Bytes()}
	}
}

// testBlob returns the root hash and blob ID of a named test blob.
func testBlob(name string, size uint64) ([32]byte, redstuff.BlobID) {
	root := blake2b.Sum256([]byte("blob:" + name))
	return root, redstuff.DeriveBlobID(redstuff.EncodingRS2, size, merkle.Node(root))
}

func encodedSize(t testing.TB, nShards uint16, size uint64) uint64 {
	t.Helper()
	cfg, err := redstuff.NewConfig(int(nShards))
	if err != nil {
		t.Fatal(err)
	}
	n, err := cfg.EncodedLength(size)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// stateDump returns the committed state with the system record's time zeroed (the only
// value that depends on the wall clock), and the commit record.
func stateDump(t testing.TB, d *devnet) ([][2][]byte, int64) {
	t.Helper()
	var out [][2][]byte
	c, err := d.node.App().ExportState(func(k, v []byte) bool {
		if bytes.Equal(k, []byte("s")) {
			s, err := chain.DecodeSystemState(v)
			if err != nil {
				t.Fatal(err)
			}
			s.Time = 0
			v = s.Encode()
		}
		out = append(out, [2][]byte{k, v})
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, c.Height
}
