package daemon_test

import (
	"context"
	"testing"
	"time"

	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
	"github.com/walrus-go/walrus/internal/testnet"
)

// TestInvalidBlob stores a blob whose metadata commits to an inconsistent encoding (every
// sliver verifies on its own) and skips the node that holds the inconsistent sliver. Blob
// sync on that node finds the inconsistency while recovering the sliver, collects
// invalid-blob attestations from the committee and submits the certificate; the chain
// marks the blob invalid and every node deletes its data.
func TestInvalidBlob(t *testing.T) {
	net := testnet.NewCluster(t, testnet.Options{})
	startAll(t, net)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	eb, bad := nodetest.Inconsistent(t, net.Enc, 30_000, 7)
	id := eb.Metadata.BlobID
	cmt, err := net.Chain.Committee(ctx)
	if err != nil {
		t.Fatal(err)
	}
	owner := cmt.Members[0]
	badShard := uint16(id.PairShard(bad, net.Enc.NShards()))
	for _, m := range cmt.Members {
		for _, s := range m.Shards {
			if s == badShard {
				owner = m
			}
		}
	}
	if _, err := net.StoreEncoded(ctx, eb, testnet.StoreOptions{Skip: []string{owner.NetworkAddress}}); err != nil {
		t.Fatal(err)
	}
	testnet.WaitFor(t, 2*time.Minute, "the chain to mark the blob invalid", func() (bool, error) {
		st, err := net.Chain.BlobStatus(ctx, id)
		return st.Invalid, err
	})
	testnet.WaitFor(t, 2*time.Minute, "every node to drop the invalid blob", func() (bool, error) {
		for _, nd := range net.Nodes {
			c := net.Client(nd.Addr)
			st, err := c.BlobStatus(ctx, id)
			if err != nil || st.Kind != sn.BlobStatusInvalid {
				return false, err
			}
			if ms, err := c.MetadataStatus(ctx, id); err != nil || ms != sn.StatusNonexistent {
				return false, err
			}
		}
		return true, nil
	})
	// The node that found the inconsistency submitted the certificate (its counter follows
	// the transaction's result).
	testnet.WaitFor(t, time.Minute, "the invalid-blob certificate to be counted", func() (bool, error) {
		for _, nd := range net.Nodes {
			if nd.Addr == owner.NetworkAddress {
				return nd.Daemon.Stats().InvalidBlobsSubmitted == 1, nil
			}
		}
		return false, nil
	})
}
