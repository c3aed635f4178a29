package explorer

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/walrus-go/walrus/internal/chain"
)

// TestPrometheus: the explorer's metrics are exported from the registry it also reads the
// gateway's latencies from (as in the daemon), without recursing.
func TestPrometheus(t *testing.T) {
	f := newFakeChain(4, 10)
	var owner chain.Address
	owner[0] = 1
	f.addBlob(1, owner, 1000, 9, true)
	node := &fakeNode{}
	reg := prometheus.NewRegistry()
	x, err := New(context.Background(), Config{Chain: f, Registerer: reg, Gateway: reg,
		Dial: func(string, [chain.NetworkKeySize]byte, int) (Node, error) { return node, nil }})
	if err != nil {
		t.Fatal(err)
	}
	x.Collect(context.Background())
	if _, err := x.Overview(context.Background()); err != nil {
		t.Fatal(err)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, fam := range fams {
		for _, m := range fam.GetMetric() {
			got[fam.GetName()] += m.GetGauge().GetValue()
		}
	}
	if got["walrus_network_stored_blobs"] != 1 || got["walrus_network_stored_bytes"] != 1000 || got["walrus_network_node_up"] != 4 {
		t.Fatalf("metrics %v", got)
	}
}
