package client_test

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/testnet"
)

// TestPendingUploadFallback: nodes whose pending buffer takes nothing refuse every upload
// sent before the registration landed; the client uploads to each again after it, and the
// store certifies. With pending uploads off the same store goes the sequential way.
func TestPendingUploadFallback(t *testing.T) {
	net := testnet.New(t, testnet.Options{Pending: sn.PendingConfig{MaxBlobBytes: 1}})
	for _, disable := range []bool{false, true} {
		cfg := net.ClientConfig()
		cfg.DisablePendingUploads = disable
		c, err := net.NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, permanent := range []bool{false, true} {
			data := make([]byte, 200_000)
			rand.Read(data)
			res := mustStore(t, c, data, client.StoreOptions{Epochs: 1, Permanent: permanent})
			if res.NewlyCreated == nil || res.NewlyCreated.BlobObject.CertifiedEpoch == nil {
				t.Fatalf("pending off %v, permanent %v: %+v", disable, permanent, res)
			}
			id, _ := redstuff.ParseBlobID(res.NewlyCreated.BlobObject.BlobID)
			got, err := c.Read(testContext(t), id, client.ReadOptions{})
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("read back: %v", err)
			}
		}
	}
}
