package chainnode

import (
	"testing"

	dbm "github.com/cometbft/cometbft-db"
)

// A read of a closed database, as CometBFT's consensus reactor does for a few seconds
// after the node stopped, answers "absent" instead of the error the block store panics
// on; a write still fails.
func TestClosingDBReadAfterClose(t *testing.T) {
	inner, err := dbm.NewGoLevelDB("state", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	db := &closingDB{DB: inner}
	if err := db.Set([]byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if v, err := db.Get([]byte("k")); err != nil || string(v) != "v" {
		t.Fatalf("open: %q %v", v, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if v, err := db.Get([]byte("k")); err != nil || v != nil {
		t.Fatalf("get after close: %q %v", v, err)
	}
	if ok, err := db.Has([]byte("k")); err != nil || ok {
		t.Fatalf("has after close: %v %v", ok, err)
	}
	if err := db.Set([]byte("k"), []byte("w")); err == nil {
		t.Fatal("a write after close succeeded")
	}
}
