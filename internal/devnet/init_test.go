package devnet_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/devnet"
)

// TestInitDiscard: Discard removes a devnet's files and nothing else, and the directory
// only if it is then empty.
func TestInitDiscard(t *testing.T) {
	parent := t.TempDir()
	mine := filepath.Join(parent, "shared")
	if err := os.MkdirAll(mine, 0o700); err != nil {
		t.Fatal(err)
	}
	notes := filepath.Join(mine, "notes.txt")
	if err := os.WriteFile(notes, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(parent, "fresh")
	for _, dir := range []string{mine, fresh} {
		created, err := devnet.Init(devnet.Options{Dir: dir, Nodes: 2, Shards: 10, NodePort: 20100})
		if err != nil || !created {
			t.Fatalf("Init(%s) = %v, %v", dir, created, err)
		}
		if created, err := devnet.Init(devnet.Options{Dir: dir}); err != nil || created {
			t.Fatalf("second Init(%s) = %v, %v; want resumed", dir, created, err)
		}
		rec, err := devnet.Recorded(dir)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Nodes != 2 || rec.Shards != 10 || rec.NodePort != 20100 || rec.ChainRPC != "127.0.0.1:26657" || rec.EpochDuration != 10*time.Minute {
			t.Fatalf("Recorded = %+v", rec)
		}
		y, err := os.ReadFile(devnet.Layout{Dir: dir}.NodeConfig(1))
		if err != nil || !strings.Contains(string(y), "memtable_bytes: 4194304\n") {
			t.Fatalf("node.yaml does not size the storage engine for a devnet (%v):\n%s", err, y)
		}
		if err := devnet.Discard(dir); err != nil {
			t.Fatal(err)
		}
		if devnet.Exists(dir) {
			t.Fatalf("%s still holds a devnet", dir)
		}
	}
	ents, err := os.ReadDir(mine)
	if err != nil || len(ents) != 1 || ents[0].Name() != "notes.txt" {
		t.Fatalf("after Discard %s holds %v (%v), want only notes.txt", mine, ents, err)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Fatalf("Discard left the empty directory it was given (%v)", err)
	}
}

// TestInitRefusesLeftovers: files with the devnet's names but no devnet.json are not
// taken over (a failed Init would then remove them).
func TestInitRefusesLeftovers(t *testing.T) {
	dir := t.TempDir()
	wallet := filepath.Join(dir, "wallet.json")
	if err := os.WriteFile(wallet, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := devnet.Init(devnet.Options{Dir: dir, Nodes: 1, Shards: 4})
	if err == nil || !strings.Contains(err.Error(), "wallet.json but no devnet.json") {
		t.Fatalf("Init over a stray wallet.json: %v", err)
	}
	if b, err := os.ReadFile(wallet); err != nil || string(b) != "{}" {
		t.Fatalf("the stray wallet.json was touched: %q, %v", b, err)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		o    devnet.Options
		want string
	}{
		{devnet.Options{}, "--dir"},
		{devnet.Options{Dir: "d", Nodes: 200}, "--nodes 200"},
		{devnet.Options{Dir: "d", Shards: 2}, "--shards 2"},
		{devnet.Options{Dir: "d", EpochDuration: time.Second}, "--epoch-duration"},
		{devnet.Options{Dir: "d", NodePort: 80}, "--node-port 80"},
		{devnet.Options{Dir: "d", ChainRPC: "localhost"}, "--chain-rpc"},
		{devnet.Options{Dir: "d", ChainP2P: "127.0.0.1:0"}, "--chain-p2p"},
	} {
		o := c.o
		if o.Nodes == 0 {
			o.Nodes = 4
		}
		if o.Shards == 0 {
			o.Shards = 100
		}
		if o.EpochDuration == 0 {
			o.EpochDuration = time.Minute
		}
		if o.NodePort == 0 {
			o.NodePort = 9185
		}
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate(%+v) = %v, want an error naming %s", c.o, err, c.want)
		}
	}
}

// TestCheckAddresses: an address in use comes back with the flag that moves it.
func TestCheckAddresses(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	o := devnet.Options{Dir: "d", Nodes: 2, ChainRPC: l.Addr().String(), ChainP2P: freeAddr(t), NodePort: freePortBlock(t, 2)}
	addrs := o.Addresses()
	if len(addrs) != 2+2*2 {
		t.Fatalf("Addresses = %v", addrs)
	}
	var le *devnet.ListenError
	err = devnet.CheckAddresses(addrs)
	if !errors.As(err, &le) || le.Flag != "--chain-rpc" || !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("CheckAddresses with the chain RPC port taken: %v", err)
	}
	if err := devnet.CheckAddresses(addrs[1:]); err != nil {
		t.Fatalf("CheckAddresses of free ports: %v", err)
	}
}
