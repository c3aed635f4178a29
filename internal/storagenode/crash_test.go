package storagenode_test

import (
	"context"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

// TestStateSurvivesCrash commits events and an upload on a crashable in-memory
// filesystem, simulates a crash that keeps only synced data, and restarts the node on what
// is left: everything committed must be there (the node can confirm the blob), and the
// event cursor must match.
func TestStateSurvivesCrash(t *testing.T) {
	fs := vfs.NewCrashableMem()
	var st *store.Store
	e := nodetest.New(t, 7, []uint16{1, 3, 5}, nodetest.Options{Config: func(c *sn.Config) {
		var err error
		if st, err = store.Open("crash", store.Options{FS: fs}); err != nil {
			t.Fatal(err)
		}
		c.Store = st
	}})
	b := e.Blob(9000, 1)
	e.Register(b, nodetest.ObjectID(1), 5, false)
	u, err := e.Node.NewUpload(b.Metadata.BlobID, b.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range e.OwnedPairs(b) {
		u.Add(context.Background(), p.Index, &p.Primary, p.Primary.Bytes())
		u.Add(context.Background(), p.Index, &p.Secondary, p.Secondary.Bytes())
	}
	if _, err := u.Commit(); err != nil {
		t.Fatal(err)
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{})
	st.Close()

	st2, err := store.Open("crash", store.Options{FS: crashed})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	node, err := sn.New(sn.Config{NShards: 7, Key: e.Key, Store: st2})
	if err != nil {
		t.Fatal(err)
	}
	if node.Cursor() != e.Seq || node.Epoch() != 1 || len(node.OwnedShards()) != 3 {
		t.Fatalf("after the crash: cursor %d (want %d), epoch %d, shards %v", node.Cursor(), e.Seq, node.Epoch(), node.OwnedShards())
	}
	msg, err := node.Confirm(b.Metadata.BlobID, sn.Persistence{})
	if err != nil || msg.Verify(e.Key.PublicKey()) != nil {
		t.Fatalf("confirmation after the crash: %v", err)
	}
}
