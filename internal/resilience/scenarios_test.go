package resilience

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/faultproxy"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/internal/testvec"
)

// scenario is one line of the table: run injects a fault into a running cluster, checks
// the promise that applies, and fills in its row. Every scenario leaves the cluster healed
// (all nodes running, proxies passing); the suite then reads every certified blob.
type scenario struct {
	name string
	run  func(t *testing.T, ctx context.Context, c *cluster, r *row, sz size)
}

// size is the scale of a run: the CI subset, or the soak run's larger blobs and rounds.
type size struct {
	shards uint16 // shards of the main network (the largest blob grows with it)
	blobs  []int  // sizes of the blobs written per step
	big    int    // size of the blob a crash interrupts
	rounds int    // how often the main table runs
}

func runSize() size {
	if os.Getenv("WALRUS_SOAK") != "" {
		return size{shards: 100, blobs: []int{0, 1, 4096, 1 << 20, 8 << 20}, big: 32 << 20, rounds: 3}
	}
	// 14 shards hold blobs of at most 3.93 MB.
	return size{shards: 14, blobs: []int{1, 50_000, 1 << 20}, big: 3 << 20, rounds: 1}
}

// TestResilience runs the scenario table on a network of 7 storage node processes over
// 14 shards (f = 4 shards: two nodes; 100 shards in a soak run) and the epoch-change scenario on a second network
// whose epochs last 10 s; it prints the report.
func TestResilience(t *testing.T) {
	if testing.Short() {
		t.Skip("starts networks of processes")
	}
	if testvec.Race {
		t.Skip("the suite runs without the race detector (make resilience); its processes are not race-instrumented anyway")
	}
	sz := runSize()
	rep := &report{}
	defer func() {
		var b strings.Builder
		rep.write(&b)
		fmt.Print("\nResilience report\n\n" + b.String() + "\n")
		if err := rep.save(); err != nil {
			t.Error(err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()

	t.Run("main", func(t *testing.T) {
		c := newCluster(t, clusterOptions{nodes: 7, shards: sz.shards})
		setup := &row{name: fmt.Sprintf("setup: 7 nodes, %d shards", sz.shards)}
		start := time.Now()
		c.writeBlobs(ctx, setup, sz.blobs...)
		c.readAll(ctx, setup)
		setup.took = time.Since(start)
		rep.add(setup)
		for round := range sz.rounds {
			for _, s := range mainScenarios {
				name := s.name
				if sz.rounds > 1 {
					name = fmt.Sprintf("%s (round %d)", name, round+1)
				}
				r := &row{name: name}
				t.Logf("scenario %s", name)
				start := time.Now()
				s.run(t, ctx, c, r, sz)
				c.healAll()
				// The promise after every scenario: everything certified so far reads back.
				c.readAll(ctx, r)
				r.took = time.Since(start)
				rep.add(r)
				if t.Failed() {
					t.Fatalf("scenario %q failed; stopping", name)
				}
			}
		}
	})
	t.Run("epoch", func(t *testing.T) {
		r := &row{name: "5. epoch change under load, source node killed mid-migration"}
		start := time.Now()
		epochChange(t, ctx, sz, r)
		r.took = time.Since(start)
		rep.add(r)
	})
	t.Run("attack", func(t *testing.T) {
		r := &row{name: "9. attacker process against a live network"}
		start := time.Now()
		attack(t, ctx, sz, r)
		r.took = time.Since(start)
		rep.add(r)
	})
}

// mainScenarios run in order on the main network; scenario 5 (epochChange) needs a
// network with short epochs of its own.
var mainScenarios = []scenario{
	{"1a. node loss within f", nodeLossWithinF},
	{"1b. node loss beyond f", nodeLossBeyondF},
	{"2. disk loss", diskLoss},
	{"3. Byzantine nodes", byzantine},
	{"4. malicious client", maliciousClient},
	{"6a. kill -9 of a node during ingest", killNodeDuringIngest},
	{"6b. kill -9 of the validator during commits", killValidator},
	{"6c. kill -9 of a client between register and certify", killClient},
	{"7. network faults", networkFaults},
	{"8. hostile input", hostileInput},
}

func shardCount(ms []chain.MemberInfo) string {
	n := 0
	for _, m := range ms {
		n += len(m.Shards)
	}
	return fmt.Sprint(n)
}

// byzantine makes the nodes of up to f shards lie: corrupted slivers, corrupted metadata,
// refusals (while blobs are written too), and corrupted recovery symbols while an honest
// node rebuilds its lost disk from them. Reads stay correct; the client counts and logs the bad answers, and the
// rebuilding node counts them in its metrics.
func byzantine(t *testing.T, ctx context.Context, c *cluster, r *row, sz size) {
	cmt, _ := c.committee(ctx)
	liars := faultyNodes(cmt, false)
	set := func(k faultproxy.Kind) {
		c.healAll()
		for _, m := range liars {
			c.proxy(c.node(m.NetworkAddress)).Set(faultproxy.Fault{Kind: k})
		}
	}
	before := c.client.BadResponses()
	logsBefore := c.logs.count("failed verification")
	for _, k := range []faultproxy.Kind{faultproxy.CorruptSlivers, faultproxy.CorruptMetadata, faultproxy.Refuse} {
		set(k)
		c.writeBlobs(ctx, r, sz.blobs[len(sz.blobs)-1])
		c.readAll(ctx, r)
	}
	// A lying node is met only when the client asks it; read until each kind was seen
	// (each read asks a liar with probability about 2/7 at least), within bounds.
	blobs := c.certified()
	for _, k := range []struct {
		fault faultproxy.Kind
		count func(client.BadResponses) int64
	}{
		{faultproxy.CorruptMetadata, func(b client.BadResponses) int64 { return b.Metadata }},
		{faultproxy.CorruptSlivers, func(b client.BadResponses) int64 { return b.Slivers }},
	} {
		set(k.fault)
		for i := 0; i < 60 && k.count(c.client.BadResponses()) == k.count(before); i++ {
			c.readOne(ctx, r, blobs[i%len(blobs)])
		}
	}
	after := c.client.BadResponses()
	badMeta, badSlivers := after.Metadata-before.Metadata, after.Slivers-before.Slivers
	logged := c.logs.count("failed verification") - logsBefore
	if badMeta == 0 || badSlivers == 0 {
		t.Errorf("the client counted %d bad metadata and %d bad slivers; want both > 0", badMeta, badSlivers)
	}
	if logged != int(badMeta+badSlivers) {
		t.Errorf("the client logged %d bad answers but counted %d", logged, badMeta+badSlivers)
	}

	// Wrong recovery symbols: an honest node loses its disk and rebuilds from peers, two
	// of which corrupt every symbol they send.
	set(faultproxy.CorruptSymbols)
	var victim *testnet.ClusterNode
	for _, m := range cmt.Members {
		if !isMember(liars, m.NetworkAddress) {
			victim = c.node(m.NetworkAddress)
			break
		}
	}
	c.kill(victim)
	if err := os.RemoveAll(victim.Config.DataDir); err != nil {
		t.Fatal(err)
	}
	c.start(victim)
	c.holdsAll(ctx, victim, 3*time.Minute)
	met := c.metrics(victim)
	peerBad := int64(met["walrus_node_bad_peer_responses_total"])
	r.recovered = int64(met["walrus_node_recovered_bytes_total"])
	r.downloaded = int64(met["walrus_node_recovery_downloaded_bytes_total"])
	if peerBad == 0 {
		t.Errorf("%s rebuilt its slivers with liars among its peers but counted no bad peer response", victim.Name)
	}
	nodeLog, err := os.ReadFile(filepath.Join(victim.Dir, "node.log"))
	if err != nil {
		t.Fatal(err)
	}
	warned := strings.Count(string(nodeLog), "a peer's answer failed verification")
	if warned == 0 {
		t.Errorf("%s counted %d bad peer answers but logged none", victim.Name, peerBad)
	}
	c.healAll()
	r.note = fmt.Sprintf("%d nodes (%s shards) served corrupted slivers, metadata and symbols, or refused: client counted %d bad metadata and %d bad slivers (%d warnings logged); %s rebuilt its disk past %d bad symbols (%d warnings in its log)",
		len(liars), shardCount(liars), badMeta, badSlivers, logged, victim.Name, peerBad, warned)
}

func isMember(ms []chain.MemberInfo, addr string) bool {
	for _, m := range ms {
		if m.NetworkAddress == addr {
			return true
		}
	}
	return false
}

// maliciousClient registers and certifies a blob whose encoding is inconsistent (every
// sliver matches the metadata, but one cannot be rebuilt from the others), leaving out
// the node that holds the bad sliver. That node finds the inconsistency when it syncs,
// the committee attests it, the chain marks the blob invalid and every node drops it;
// reads answer "invalid".
func maliciousClient(t *testing.T, ctx context.Context, c *cluster, r *row, _ size) {
	eb, bad := inconsistentBlob(t, c.net.Enc, c.randomBlob(60_000))
	id := eb.Metadata.BlobID
	cmt, _ := c.committee(ctx)
	badShard := uint16(id.PairShard(bad, c.net.Enc.NShards()))
	var finder chain.MemberInfo
	for _, m := range cmt.Members {
		for _, s := range m.Shards {
			if s == badShard {
				finder = m
			}
		}
	}
	if _, err := c.net.StoreEncoded(ctx, eb, testnet.StoreOptions{Epochs: 20, Skip: []string{finder.NetworkAddress}}); err != nil {
		t.Fatal(err)
	}
	r.written++
	testnet.WaitFor(t, 2*time.Minute, "the chain to mark the blob invalid", func() (bool, error) {
		st, err := c.net.Chain.BlobStatus(ctx, id)
		return st.Invalid, err
	})
	testnet.WaitFor(t, time.Minute, "every node to drop the invalid blob", func() (bool, error) {
		for _, nd := range c.net.Nodes {
			nc := c.net.Client(nd.Config.Listen)
			st, err := nc.BlobStatus(ctx, id)
			if err != nil || st.Kind != sn.BlobStatusInvalid {
				return false, err
			}
			if ms, err := nc.MetadataStatus(ctx, id); err != nil || ms != sn.StatusNonexistent {
				return false, err
			}
		}
		return true, nil
	})
	r.reads++
	_, err := c.client.Read(ctx, id, client.ReadOptions{})
	if !errors.Is(err, client.ErrInvalidBlob) || !strings.Contains(err.Error(), "invalid") {
		r.failed++
		t.Errorf("read of the invalid blob: want ErrInvalidBlob, got %v", err)
	}
	found := c.metrics(c.node(finder.NetworkAddress))["walrus_node_invalid_blob_certificates_total"]
	r.note = fmt.Sprintf("%s found the inconsistency, the chain marked the blob invalid (certificates submitted by it: %.0f), all nodes dropped it; read: %v",
		finder.Name, found, err)
}

// killNodeDuringIngest kills a node with SIGKILL the moment a large upload to it starts.
// The store certifies with the other nodes; the node restarts with an intact store and
// rebuilds what it missed.
func killNodeDuringIngest(t *testing.T, ctx context.Context, c *cluster, r *row, sz size) {
	_, nodes := c.committee(ctx)
	nd := nodes[1]
	started := make(chan struct{})
	var once sync.Once
	c.proxy(nd).OnRequest(func(method, path string) {
		if method == "PUT" && strings.Contains(path, "/slivers") {
			once.Do(func() { close(started) })
		}
	})
	defer c.proxy(nd).OnRequest(nil)
	done := make(chan error, 1)
	go func() {
		_, err := c.store(ctx, c.randomBlob(sz.big))
		done <- err
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("the store ended before uploading to %s: %v", nd.Name, err)
	}
	c.kill(nd)
	if err := <-done; err != nil {
		t.Fatalf("store with a node killed during its upload: %v", err)
	}
	r.written++
	c.start(nd)
	c.holdsAll(ctx, nd, 3*time.Minute)
	met := c.metrics(nd)
	r.recovered = int64(met["walrus_node_recovered_bytes_total"])
	r.downloaded = int64(met["walrus_node_recovery_downloaded_bytes_total"])
	r.note = fmt.Sprintf("%s killed as a %d MiB upload to it began; the store certified without it; restarted, it holds its part again (%s bytes uploaded to it again by the store's tail, %.0f slivers rebuilt from peers, %.0f syncs put off while the tail arrived)",
		nd.Name, sz.big>>20, thousands(int64(met["walrus_node_ingest_bytes_total"])), met["walrus_node_recovered_slivers_total"], met["walrus_node_blob_syncs_deferred_total"])
}

// killValidator kills the validator process with SIGKILL while stores are submitting
// their transactions, restarts it, and retries what failed.
func killValidator(t *testing.T, ctx context.Context, c *cluster, r *row, sz size) {
	h0, err := c.net.Chain.Height(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, nodes := c.committee(ctx)
	uploading := make(chan struct{})
	var once sync.Once
	c.proxy(nodes[0]).OnRequest(func(method, path string) {
		if method == "PUT" {
			once.Do(func() { close(uploading) })
		}
	})
	defer c.proxy(nodes[0]).OnRequest(nil)
	const n = 4
	type result struct {
		data []byte
		err  error
	}
	results := make(chan result, n)
	for i := range n {
		data := c.randomBlob(sz.blobs[i%len(sz.blobs)] + i)
		go func() {
			_, err := c.store(ctx, data)
			results <- result{data, err}
		}()
	}
	<-uploading // the first registration is committed; the others are in flight
	c.net.KillValidator()
	c.net.StartValidator()
	failed := 0
	for range n {
		res := <-results
		if res.err == nil {
			r.written++
			continue
		}
		failed++
		t.Logf("store interrupted by the validator crash: %v", res.err)
		if _, err := c.store(ctx, res.data); err != nil {
			t.Errorf("retry after the validator restarted: %v", err)
			continue
		}
		r.written++
	}
	h1, err := c.net.Chain.Height(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h1 <= h0 {
		t.Errorf("the chain did not advance after the restart: height %d -> %d", h0, h1)
	}
	r.note = fmt.Sprintf("validator killed with %d stores in flight (%d of them failed and were retried); chain height %d -> %d",
		n, failed, h0, h1)
}

// networkFaults puts up to f shards' nodes behind slow, lossy, cut and silent links, then
// makes every link flaky; stores and reads go on through timeouts and retries.
func networkFaults(t *testing.T, ctx context.Context, c *cluster, r *row, sz size) {
	cmt, _ := c.committee(ctx)
	bad := faultyNodes(cmt, false)
	faults := []faultproxy.Fault{
		{Kind: faultproxy.Delay, Delay: 300 * time.Millisecond},
		{Kind: faultproxy.Drop, Rate: 0.5},
		{Kind: faultproxy.Cut, CutAfter: 2048},
		{Kind: faultproxy.Blackhole},
	}
	var took []string
	for _, f := range faults {
		c.healAll()
		for _, m := range bad {
			c.proxy(c.node(m.NetworkAddress)).Set(f)
		}
		start := time.Now()
		c.writeBlobs(ctx, r, sz.blobs[len(sz.blobs)-1])
		c.readAll(ctx, r)
		took = append(took, fmt.Sprintf("%s %.1f s", f.Kind, time.Since(start).Seconds()))
	}
	c.healAll()
	for _, p := range c.proxies {
		p.Set(faultproxy.Fault{Kind: faultproxy.Drop, Rate: 0.1})
	}
	c.writeBlobs(ctx, r, sz.blobs...)
	c.readAll(ctx, r)
	var faulted uint64
	for _, p := range c.proxies {
		faulted += p.Stats().TotalFaulted()
	}
	c.healAll()
	r.note = fmt.Sprintf("%d nodes behind links that delay 300 ms, drop half the requests, cut answers after 2 KiB, or never answer (%s); then 10%% loss on every link (%d requests faulted in all)",
		len(bad), strings.Join(took, ", "), faulted)
}

// nodeLossWithinF kills the nodes of up to f shards: every blob reads and writes certify;
// restarted, the nodes rebuild what they missed.
func nodeLossWithinF(t *testing.T, ctx context.Context, c *cluster, r *row, sz size) {
	cmt, _ := c.committee(ctx)
	down := faultyNodes(cmt, false)
	for _, m := range down {
		c.kill(c.node(m.NetworkAddress))
	}
	c.readAll(ctx, r)
	c.writeBlobs(ctx, r, sz.blobs...)
	// The stores' tail uploads would reach nodes that return at once (scenario 6a shows
	// that); wait them out so that the returning nodes recover from their peers.
	c.client.WaitTail()
	for _, m := range down {
		c.start(c.node(m.NetworkAddress))
	}
	for _, m := range down {
		nd := c.node(m.NetworkAddress)
		c.holdsAll(ctx, nd, 3*time.Minute)
		met := c.metrics(nd)
		r.recovered += int64(met["walrus_node_recovered_bytes_total"])
		r.downloaded += int64(met["walrus_node_recovery_downloaded_bytes_total"])
	}
	r.note = fmt.Sprintf("%d nodes (%s of %d shards) killed; writes certified; on restart they recovered what they missed",
		len(down), shardCount(down), cmt.NShards)
}

// nodeLossBeyondF kills nodes until no write quorum is left: the store fails clearly with
// no certificate, reads still work, and once the nodes return the same store succeeds.
func nodeLossBeyondF(t *testing.T, ctx context.Context, c *cluster, r *row, sz size) {
	cmt, _ := c.committee(ctx)
	down := faultyNodes(cmt, true)
	for _, m := range down {
		c.kill(c.node(m.NetworkAddress))
	}
	data := c.randomBlob(100_000)
	eb, err := c.net.Enc.Encode(data)
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	_, err = c.client.Store(sctx, data, client.StoreOptions{Epochs: 20})
	cancel()
	switch {
	case err == nil:
		t.Errorf("a store certified with %s of %d shards down", shardCount(down), cmt.NShards)
	case !errors.Is(err, client.ErrNoQuorum):
		t.Errorf("store with too few nodes: want ErrNoQuorum, got %v", err)
	}
	st, serr := c.net.Chain.BlobStatus(ctx, eb.Metadata.BlobID)
	if serr != nil {
		t.Fatal(serr)
	}
	if st.DeletableCertified > 0 || st.PermanentCertified > 0 {
		t.Errorf("the failed store left a certified blob: %+v", st)
	}
	// Reads need only a third of the shards.
	c.readAll(ctx, r)
	for _, m := range down {
		c.start(c.node(m.NetworkAddress))
	}
	// Once the nodes are back, the same store succeeds (reusing the registration).
	if _, err := c.store(ctx, data); err != nil {
		t.Errorf("store after the nodes returned: %v", err)
	} else {
		r.written++
	}
	msg := "no error"
	if err != nil {
		msg = err.Error()
		if len(msg) > 90 {
			msg = msg[:90] + "…"
		}
	}
	r.note = fmt.Sprintf("%d nodes (%s of %d shards) killed; the store failed with %q and no certificate; after restart it succeeded",
		len(down), shardCount(down), cmt.NShards, msg)
}

// diskLoss restarts a node with an empty data directory (blobs are written while it is
// down): it rebuilds every sliver of its shards.
func diskLoss(t *testing.T, ctx context.Context, c *cluster, r *row, sz size) {
	_, nodes := c.committee(ctx)
	nd := nodes[2]
	c.kill(nd)
	if err := os.RemoveAll(nd.Config.DataDir); err != nil {
		t.Fatal(err)
	}
	c.writeBlobs(ctx, r, sz.blobs...) // stored while the node is down: it must rebuild these too
	c.start(nd)
	c.holdsAll(ctx, nd, 3*time.Minute)
	met := c.metrics(nd)
	r.recovered = int64(met["walrus_node_recovered_bytes_total"])
	r.downloaded = int64(met["walrus_node_recovery_downloaded_bytes_total"])
	if r.recovered == 0 {
		t.Errorf("%s rebuilt nothing after losing its disk", nd.Name)
	}
	r.note = fmt.Sprintf("%s restarted with an empty data directory and rebuilt %d slivers of %d blobs",
		nd.Name, int64(met["walrus_node_recovered_slivers_total"]), len(c.certified()))
}
