package testbed

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/netns"
	"github.com/walrus-go/walrus/internal/testvec"
)

// TestTestbed runs the testbed: CI-sized by default (4 validators, 7 storage nodes over
// 100 shards, 2 clients, 1 KiB and 1 MiB blobs), full-sized with WALRUS_TESTBED=full (make
// testbed). WALRUS_TESTBED_MATRIX names a latency matrix file; WALRUS_TESTBED_COUNT and
// WALRUS_TESTBED_SIZES (comma-separated) override the operations per size and the sizes,
// WALRUS_TESTBED_EPOCH the epoch duration; WALRUS_TESTBED_PROFILE=DIR writes CPU profiles
// of the first client's write path there (Config.ProfileDir). It runs in namespaces where
// the machine allows, else on loopback (WALRUS_TESTBED_MODE=loopback forces it), and logs
// which. Interrupted (SIGINT, SIGTERM), it
// still tears the network down.
func TestTestbed(t *testing.T) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	dir := t.TempDir()
	bin := filepath.Join(dir, "walrus")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/walrus-go/walrus/cmd/walrus").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg := Config{Binary: bin, Dir: filepath.Join(dir, "run"), Log: testvec.Logger(), Mode: os.Getenv("WALRUS_TESTBED_MODE")}
	timeout := 10 * time.Minute
	if os.Getenv("WALRUS_TESTBED") == "full" {
		timeout = 2 * time.Hour
	} else {
		cfg.Nodes, cfg.Shards, cfg.Sizes, cfg.Count, cfg.EpochDuration = 7, 100, []string{"1KiB", "1MiB"}, 3, 90*time.Second
	}
	// A reduced run, where the machine cannot carry the full one.
	if v, err := strconv.Atoi(os.Getenv("WALRUS_TESTBED_COUNT")); err == nil && v > 0 {
		cfg.Count = v
	}
	if v, err := time.ParseDuration(os.Getenv("WALRUS_TESTBED_EPOCH")); err == nil && v > 0 {
		cfg.EpochDuration = v
	}
	if v := os.Getenv("WALRUS_TESTBED_SIZES"); v != "" {
		cfg.Sizes = strings.Split(v, ",")
	}
	if dir := os.Getenv("WALRUS_TESTBED_PROFILE"); dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			t.Fatal(err)
		}
		cfg.ProfileDir = abs
	}
	if path := os.Getenv("WALRUS_TESTBED_MATRIX"); path != "" {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Matrix, err = netns.ParseMatrix(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("testbed mode: %s, emulator %q, delay %v", rep.Mode, rep.Emulator, rep.Delay)
	var b bytes.Buffer
	rep.Print(&b)
	t.Logf("ran in %v\n%s", time.Since(start).Round(time.Second), b.String())
	if rep.Mode != ModeNetns && rep.Mode != ModeLoopback {
		t.Fatalf("mode %q", rep.Mode)
	}
	if len(rep.Bench) != 2 {
		t.Fatalf("benchmarks of %d clients, want 2", len(rep.Bench))
	}
	for client, rows := range rep.Bench {
		if len(rows) != 2*len(rep.Sizes) || len(rep.Sizes) == 0 {
			t.Errorf("client %s: %d rows, want a store and a read per size", client, len(rows))
		}
	}
	if len(rep.Budgets) != len(rep.Bench)*len(rep.Sizes) {
		t.Errorf("%d write budgets, want one per client and size", len(rep.Budgets))
	}
	for _, b := range rep.Budgets {
		if b.Wall <= 0 || b.ClientCPU <= 0 || b.NodeCPU <= 0 || b.Machine < b.ClientCPU/2 {
			t.Errorf("write budget %+v", b)
		}
	}
	if cfg.ProfileDir != "" {
		if len(rep.Profiles) != 4 {
			t.Errorf("%d profiles, want the client, a validator and two storage nodes", len(rep.Profiles))
		}
		for _, p := range rep.Profiles {
			if p.Samples <= 0 || len(p.Classes) == 0 {
				t.Errorf("profile of %s: %s", p.Process, p.Err)
			}
		}
	} else if len(rep.Profiles) != 0 {
		t.Errorf("profiles without WALRUS_TESTBED_PROFILE")
	}
	if rep.Recovery.RecoveredSlivers < int64(2*rep.Recovery.Shards*rep.Recovery.MissedBlobs) || rep.Recovery.DownloadedBytes == 0 {
		t.Errorf("recovery %+v", rep.Recovery)
	}
	if rep.EpochChange.Epoch < 1 || rep.EpochChange.Stores < 2 {
		t.Errorf("epoch change %+v", rep.EpochChange)
	}
	if len(rep.AfterKill) == 0 || rep.AfterKill[0].Count != cfg.Count {
		t.Errorf("with validator %s killed: %+v", rep.KilledValidator, rep.AfterKill)
	}
	if rep.Mode == ModeNetns {
		if list, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(list), netns.NewPrefix(1)) {
			t.Errorf("namespaces left after the run:\n%s", list)
		}
	}
}
