package chain

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// modelStore is the naive reference for Store: a map plus a full sort on every iteration.
type modelStore map[string][]byte

func (m modelStore) iterate(start, end []byte) []string {
	var keys []string
	for k := range m {
		if (start == nil || k >= string(start)) && (end == nil || k < string(end)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + string(m[k])
	}
	return out
}

func collect(s Store, start, end []byte, limit int) []string {
	var out []string
	s.Iterate(start, end, func(k, v []byte) bool {
		out = append(out, string(k)+"="+string(v))
		return len(out) < limit
	})
	return out
}

// TestStoreModel checks MemStore and two stacked Overlays (as block and transaction) against
// a reference model under random writes at every layer, flushes, discards and iteration with
// early stop.
func TestStoreModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		keyGen := rapid.StringMatching(`[a-d]{0,3}`)
		base := NewMemStore()
		block := NewOverlay(base)
		tx := NewOverlay(block)
		layers := []Store{base, block, tx}
		// The model: the base contents and each overlay's buffered writes (nil = delete).
		mBase := modelStore{}
		buffered := []map[string][]byte{nil, {}, {}}
		view := func(l int) modelStore {
			m := cloneModel(mBase)
			for i := 1; i <= l; i++ {
				for k, v := range buffered[i] {
					if v == nil {
						delete(m, k)
					} else {
						m[k] = v
					}
				}
			}
			return m
		}
		for i := range rapid.IntRange(1, 60).Draw(t, "ops") {
			layer := rapid.IntRange(0, 2).Draw(t, "layer")
			switch rapid.IntRange(0, 5).Draw(t, "op") {
			case 0, 1:
				k, v := keyGen.Draw(t, "k"), []byte(fmt.Sprint(i))
				layers[layer].Set([]byte(k), v)
				if layer == 0 {
					mBase[k] = v
				} else {
					buffered[layer][k] = v
				}
			case 2:
				k := keyGen.Draw(t, "k")
				layers[layer].Delete([]byte(k))
				if layer == 0 {
					delete(mBase, k)
				} else {
					buffered[layer][k] = nil
				}
			case 3:
				tx.Flush()
				for k, v := range buffered[2] {
					buffered[1][k] = v
				}
				buffered[2] = map[string][]byte{}
			case 4:
				tx.Discard()
				buffered[2] = map[string][]byte{}
			case 5:
				block.Flush()
				for k, v := range buffered[1] {
					if v == nil {
						delete(mBase, k)
					} else {
						mBase[k] = v
					}
				}
				buffered[1] = map[string][]byte{}
			}
			start := []byte(keyGen.Draw(t, "start"))
			var end []byte
			if rapid.Bool().Draw(t, "bounded") {
				end = []byte(keyGen.Draw(t, "end"))
			}
			limit := rapid.IntRange(1, 100).Draw(t, "limit")
			for l, s := range layers {
				m := view(l)
				want := m.iterate(start, end)
				if len(want) > limit {
					want = want[:limit]
				}
				if got := collect(s, start, end, limit); !slices.Equal(got, want) {
					t.Fatalf("layer %d iterate [%q, %q) limit %d:\n got %v\nwant %v", l, start, end, limit, got, want)
				}
				k := keyGen.Draw(t, "get")
				v, ok := s.Get([]byte(k))
				wv, wok := m[k]
				if ok != wok || !bytes.Equal(v, wv) {
					t.Fatalf("layer %d get %q = %q %v, want %q %v", l, k, v, ok, wv, wok)
				}
			}
		}
		if base.Len() != len(mBase) {
			t.Fatalf("Len %d, want %d", base.Len(), len(mBase))
		}
	})
}

func cloneModel(m modelStore) modelStore {
	c := modelStore{}
	for k, v := range m {
		c[k] = v
	}
	return c
}

// TestQuorumValues checks quorumBelow and quorumAbove against their definitions: the lowest
// value that a quorum (more than 2/3 of the shards) voted at or below, and the highest value
// that n-f shards voted at or above.
func TestQuorumValues(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		k := rapid.IntRange(1, 8).Draw(t, "members")
		votes := make([]weightedVote, k)
		n := 0
		for i := range votes {
			votes[i] = weightedVote{value: rapid.Uint64Range(0, 20).Draw(t, "v"), weight: rapid.IntRange(1, 10).Draw(t, "w")}
			n += votes[i].weight
		}
		f := (n - 1) / 3
		weightAtMost := func(x uint64) (w int) {
			for _, v := range votes {
				if v.value <= x {
					w += v.weight
				}
			}
			return w
		}
		weightAtLeast := func(x uint64) (w int) {
			for _, v := range votes {
				if v.value >= x {
					w += v.weight
				}
			}
			return w
		}
		// Reference for quorum_below: the lowest value whose "at most" weight exceeds n-(f+1).
		var below uint64 = 21
		for x := uint64(0); x <= 20; x++ {
			if weightAtMost(x) > n-(f+1) {
				below = x
				break
			}
		}
		if got := quorumBelow(votes, n); got != below {
			t.Fatalf("quorumBelow(%v, %d) = %d, want %d", votes, n, got, below)
		}
		var above uint64
		for x := uint64(20); ; x-- {
			if weightAtLeast(x) >= n-f {
				above = x
				break
			}
			if x == 0 {
				break
			}
		}
		if got := quorumAbove(votes, n); got != above {
			t.Fatalf("quorumAbove(%v, %d) = %d, want %d", votes, n, got, above)
		}
	})
}

// TestRandomOperations drives the state machine with random transactions and block times and
// checks after every block that WAL is conserved (supply = balances + pools + reward slots +
// shared funds + burned), and at the end that a replay gives the same state.
func TestRandomOperations(t *testing.T) {
	steps := 25
	if testing.Short() || raceEnabled {
		steps = 8
	}
	succeeded := map[string]int{} // operation -> successful executions over all runs
	defer func() {
		var ops []string
		for op, n := range succeeded {
			ops = append(ops, fmt.Sprintf("%s=%d", op, n))
		}
		slices.Sort(ops)
		t.Logf("successful operations: %s", strings.Join(ops, " "))
	}()
	rapid.Check(t, func(rt *rapid.T) {
		var script []scriptCase
		add := func(cmd string, body ...string) { script = append(script, scriptCase{cmd: cmd, body: body}) }
		add("genesis shards=10 epoch=1h max-ahead=4 faucet=10WAL",
			"account alice 1000WAL", "account bob 100WAL", "account n1-op 1WAL", "account n2-op 1WAL",
			"account n3-op 1WAL", "account n4-op 1WAL",
			"node n1 stake=100WAL", "node n2 stake=50WAL", "node n3 stake=70WAL", "node n4 stake=30WAL")
		users := []string{"alice", "bob", "carol"}
		nodes := []string{"n1", "n2", "n3", "n4"}
		nObj := 0
		var storages, blobs, staked []string // objects, as "owner name"
		// pick returns an object created earlier and its owner, who acts on it.
		pick := func(l []string, label string) (owner, name string) {
			if len(l) == 0 {
				return "alice", "none"
			}
			owner, name, _ = strings.Cut(rapid.SampledFrom(l).Draw(rt, label), " ")
			return owner, name
		}
		for range rapid.IntRange(1, steps).Draw(rt, "blocks") {
			var txs []string
			for range rapid.IntRange(0, 4).Draw(rt, "txs") {
				u := rapid.SampledFrom(users).Draw(rt, "user")
				nObj++
				name := fmt.Sprintf("o%d", nObj)
				var line string
				switch rapid.IntRange(0, 15).Draw(rt, "op") {
				case 13, 14, 15:
					// A whole store: reserve, register, certify (most often succeeds).
					u := rapid.SampledFrom([]string{"alice", "bob"}).Draw(rt, "storer")
					dl := ""
					if rapid.Bool().Draw(rt, "deletable") {
						dl = " deletable"
					}
					txs = append(txs, fmt.Sprintf("%s reserve 1MiB %d as=%s-s", u, rapid.Uint32Range(1, 4).Draw(rt, "ep"), name),
						fmt.Sprintf("%s register %s-s blob%d 100%s as=%s", u, name, rapid.IntRange(0, 3).Draw(rt, "blob"), dl, name))
					line = fmt.Sprintf("%s certify %s", u, name)
					blobs = append(blobs, u+" "+name)
				case 0:
					line = fmt.Sprintf("%s transfer %s %d", u, rapid.SampledFrom(users).Draw(rt, "to"), rapid.Uint64Range(1, 5e9).Draw(rt, "amt"))
				case 1:
					line = fmt.Sprintf("%s faucet %d", u, rapid.Uint64Range(1, 1e10).Draw(rt, "amt"))
				case 2:
					line = fmt.Sprintf("%s reserve %d %d as=%s", u, rapid.SampledFrom([]uint64{1, 20000, 1 << 20, 4 << 20}).Draw(rt, "size"), rapid.Uint32Range(1, 4).Draw(rt, "ep"), name)
					storages = append(storages, u+" "+name)
				case 3:
					dl := ""
					if rapid.Bool().Draw(rt, "deletable") {
						dl = " deletable"
					}
					o, s := pick(storages, "s")
					line = fmt.Sprintf("%s register %s blob%d %d%s as=%s", o, s, rapid.IntRange(0, 3).Draw(rt, "blob"), rapid.Uint64Range(1, 1000).Draw(rt, "bsize"), dl, name)
					blobs = append(blobs, o+" "+name)
				case 4:
					o, b := pick(blobs, "b")
					line = fmt.Sprintf("%s certify %s", o, b)
				case 5:
					o, b := pick(blobs, "b")
					line = fmt.Sprintf("%s extend %s %d", o, b, rapid.Uint32Range(1, 3).Draw(rt, "ep"))
				case 6:
					o, b := pick(blobs, "b")
					line = fmt.Sprintf("%s delete %s", o, b)
				case 7:
					line = fmt.Sprintf("%s stake %s %d as=%s", u, rapid.SampledFrom(nodes).Draw(rt, "node"), rapid.Uint64Range(1, 50e9).Draw(rt, "amt"), name)
					staked = append(staked, u+" "+name)
				case 8:
					o, sw := pick(staked, "sw")
					line = fmt.Sprintf("%s request-withdraw %s", o, sw)
				case 9:
					o, sw := pick(staked, "sw")
					line = fmt.Sprintf("%s withdraw %s", o, sw)
				case 10:
					n := rapid.SampledFrom(nodes).Draw(rt, "node")
					line = fmt.Sprintf("%s-op collect %s", n, n)
				case 11:
					o, b := pick(blobs, "b")
					line = fmt.Sprintf("%s share %s %d", o, b, rapid.Uint64Range(0, 1e6).Draw(rt, "funds"))
				case 12:
					_, b := pick(blobs, "b")
					line = fmt.Sprintf("%s extend-shared %s 1", u, b)
				}
				if strings.Contains(line, "none") {
					continue
				}
				txs = append(txs, line)
			}
			add(fmt.Sprintf("block +%dm", rapid.IntRange(1, 40).Draw(rt, "minutes")), txs...)
			if rapid.IntRange(0, 3).Draw(rt, "sync") == 0 {
				add("sync-all")
			}
		}
		add("supply")
		out1, h1 := runScript(t, script)
		for _, o := range out1 {
			for _, l := range strings.Split(o, "\n") {
				if f := strings.Fields(l); len(f) >= 3 && f[2] == "ok" {
					succeeded[strings.TrimSuffix(f[1], ":")]++
				}
			}
		}
		out2, h2 := runScript(t, script)
		if h1 != h2 || !slices.Equal(out1, out2) {
			rt.Fatalf("replay differs")
		}
	})
}
