package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/testnet"
)

// expiryDate matches an end epoch shown with its expected date.
var expiryDate = regexp.MustCompile(`\d+ \(expected \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)`)

// storeOne stores one file with --json and returns its result.
func (n *cliNet) storeOne(t *testing.T, args ...string) *client.StoreResult {
	t.Helper()
	out, errs, code := n.walrus(t, append([]string{"store", "--json"}, args...)...)
	var res []storeOutput
	if code != 0 || json.Unmarshal(out, &res) != nil || len(res) != 1 {
		t.Fatalf("store %v: code %d, stdout %q, stderr %q", args, code, out, errs)
	}
	return res[0].BlobStoreResult
}

// listBlobs returns the wallet's blob objects.
func (n *cliNet) listBlobs(t *testing.T) []client.BlobObject {
	t.Helper()
	out, errs, code := n.walrus(t, "list-blobs", "--json")
	var l []client.BlobObject
	if code != 0 || json.Unmarshal(out, &l) != nil {
		t.Fatalf("list-blobs: %d %q %q", code, out, errs)
	}
	return l
}

// wantFail runs the CLI and checks a failure: the exit code, an error line containing
// want, and nothing on stdout.
func wantFail(t *testing.T, code int, want string, args ...string) {
	t.Helper()
	out, errs, got := runCLI(t, "", args...)
	if got != code || !strings.Contains(errs, want) || !errLine.MatchString(errs) || len(out) != 0 {
		t.Fatalf("%v: code %d (want %d), stdout %q, stderr %q (want %q)", args, got, code, out, errs, want)
	}
}

// secondWallet writes a configuration for another funded wallet of the network.
func secondWallet(t *testing.T, n *cliNet, name string) string {
	t.Helper()
	dir := t.TempDir()
	s, err := n.FundedSigner(context.Background(), name, 1000*1_000_000_000)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveNew(filepath.Join(dir, "other.key")); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "other.yaml")
	if err := writeClientConfig(cfg, n.RPCURL(), "", "other.key"); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestCLIBlobObjectCommands runs the commands on blob objects against one network: the
// store traps (duration required, files checked first, reuse and extend, expiry dates),
// attributes, sharing, burning, delete's forms, health's selections and json mode, each
// with bad input.
func TestCLIBlobObjectCommands(t *testing.T) {
	n := newCLINet(t, testnet.Options{MaxEpochsAhead: 30})
	other := secondWallet(t, n, "other")
	dir := t.TempDir()
	cfg := []string{"--config", n.config}
	c := func(args ...string) []string { return append(append([]string{}, cfg...), args...) }
	unknownObj := "0x" + strings.Repeat("ab", 32)

	t.Run("store needs a duration", func(t *testing.T) {
		f, _ := writeRandom(t, dir, "nodur", 100)
		wantFail(t, 2, "give one of --epochs N|max, --earliest-expiry-time TIME and --end-epoch EPOCH", c("store", f)...)
		wantFail(t, 2, "give only one of", c("store", "--epochs", "2", "--earliest-expiry-time", "2099-01-01T00:00:00Z", f)...)
		wantFail(t, 2, "not a date and time", c("store", "--earliest-expiry-time", "tomorrow", f)...)
		wantFail(t, 2, "is in the past", c("store", "--earliest-expiry-time", "2001-01-01 00:00:00", f)...)
		wantFail(t, 2, "more than the maximum of 30 epochs ahead", c("store", "--earliest-expiry-time", time.Now().Add(24*time.Hour*365).UTC().Format(time.RFC3339), f)...)
	})
	t.Run("multi-file store checks every file first", func(t *testing.T) {
		a, _ := writeRandom(t, dir, "first", 200)
		b, _ := writeRandom(t, dir, "last", 300)
		wantFail(t, 1, "cannot read "+filepath.Join(dir, "missing"), c("store", "--epochs", "2", a, filepath.Join(dir, "missing"), b)...)
		wantFail(t, 1, dir+" is a directory", c("store", "--epochs", "2", a, dir)...)
		if l := n.listBlobs(t); len(l) != 0 {
			t.Fatalf("a failed multi-file store stored %d blobs", len(l))
		}
	})

	// A deletable blob stored for 2 epochs, then again for 5: the object is extended.
	f1, _ := writeRandom(t, dir, "extendme", 1000)
	first := n.storeOne(t, "--epochs", "2", f1).NewlyCreated
	if first == nil || first.ResourceOperation.RegisterFromScratch == nil {
		t.Fatalf("first store: %+v", first)
	}
	again := n.storeOne(t, "--epochs", "5", f1).NewlyCreated
	if again == nil || again.ResourceOperation.ReuseAndExtend == nil || again.ResourceOperation.ReuseAndExtend.EpochsExtended != 3 ||
		again.BlobObject.ID != first.BlobObject.ID || again.BlobObject.Storage.EndEpoch != first.BlobObject.Storage.EndEpoch+3 || again.Cost == 0 {
		t.Fatalf("store again with more epochs: %+v (first %+v)", again, first)
	}
	if l := n.listBlobs(t); len(l) != 1 {
		t.Fatalf("after reuse and extend the wallet owns %d blob objects, want 1", len(l))
	}
	obj := first.BlobObject.ID
	blobID := first.BlobObject.BlobID

	t.Run("expiry dates", func(t *testing.T) {
		f, _ := writeRandom(t, dir, "dated", 500)
		out, errs, code := n.walrus(t, "store", "--permanent", "--earliest-expiry-time", time.Now().Add(30*time.Hour).UTC().Format(time.RFC3339), f)
		if code != 0 || !regexp.MustCompile(`Expiry epoch \(exclusive\): `+expiryDate.String()).Match(out) {
			t.Fatalf("store output without an expiry date: %d %q %q", code, out, errs)
		}
		out, errs, code = n.walrus(t, "blob-status", "--file", f)
		if code != 0 || !expiryDate.Match(out) {
			t.Fatalf("blob-status without an expiry date: %d %q %q", code, out, errs)
		}
		out, _, code = n.walrus(t, "blob-status", "--json", "--file", f)
		if code != 0 || !strings.Contains(string(out), `"estimatedExpiryTimestamp"`) {
			t.Fatalf("blob-status --json: %q", out)
		}
		out, _, code = n.walrus(t, "blob-status", "--blob-id", blobID)
		if code != 0 || !strings.Contains(string(out), ": 1 deletable registration (1 certified)") {
			t.Fatalf("blob-status of a deletable blob: %q", out)
		}
		out, _, code = n.walrus(t, "list-blobs")
		if code != 0 || len(expiryDate.FindAll(out, -1)) != 2 {
			t.Fatalf("list-blobs without expiry dates: %q", out)
		}
		out, errs, code = n.walrus(t, "extend", "--blob-obj-id", obj, "--epochs-extended", "1")
		if code != 0 || !expiryDate.Match(out) || !strings.Contains(string(out), "extended by 1 epoch.") {
			t.Fatalf("extend: %d %q %q", code, out, errs)
		}
	})

	t.Run("attributes", func(t *testing.T) {
		out, errs, code := n.walrus(t, "set-blob-attribute", obj, "--attr", "color", "blue", "--attr", "size, in words", "rather big")
		if code != 0 || !strings.Contains(string(out), "Successfully set 2 attributes") {
			t.Fatalf("set-blob-attribute: %d %q %q", code, out, errs)
		}
		out, _, code = n.walrus(t, "get-blob-attribute", "--json", obj)
		var got getBlobAttributeOutput
		if code != 0 || json.Unmarshal(out, &got) != nil || got.Attribute == nil || len(got.Attribute.Metadata.Contents) != 2 ||
			got.Attribute.Metadata.Contents[0] != (attributeEntry{"color", "blue"}) || got.Attribute.Metadata.Contents[1] != (attributeEntry{"size, in words", "rather big"}) {
			t.Fatalf("get-blob-attribute: %d %s", code, out)
		}
		if out, _, _ := n.walrus(t, "get-blob-attribute", obj); !strings.Contains(string(out), "color: blue") {
			t.Fatalf("get-blob-attribute human: %q", out)
		}
		if _, errs, code := n.walrus(t, "remove-blob-attribute-fields", obj, "--keys", "color"); code != 0 {
			t.Fatalf("remove-blob-attribute-fields: %d %q", code, errs)
		}
		out, _, _ = n.walrus(t, "get-blob-attribute", "--json", obj)
		if !strings.Contains(string(out), "rather big") || strings.Contains(string(out), "blue") {
			t.Fatalf("after removing color: %s", out)
		}
		if _, errs, code := n.walrus(t, "remove-blob-attribute", obj); code != 0 {
			t.Fatalf("remove-blob-attribute: %d %q", code, errs)
		}
		out, _, _ = n.walrus(t, "get-blob-attribute", "--json", obj)
		if strings.TrimSpace(string(out)) != "{\n  \"attribute\": null\n}" {
			t.Fatalf("after removing everything: %s", out)
		}
		wantFail(t, 2, "must not be empty", c("set-blob-attribute", obj, "--attr", "", "v")...)
		wantFail(t, 2, "has no value", c("set-blob-attribute", obj, "--attr", "lonely")...)
		wantFail(t, 2, "key of 300 bytes, the maximum is 256", c("set-blob-attribute", obj, "--attr", strings.Repeat("k", 300), "v")...)
		wantFail(t, 2, "give at least one --attr", c("set-blob-attribute", obj)...)
		wantFail(t, 2, "invalid object ID", c("set-blob-attribute", "nope", "--attr", "k", "v")...)
		wantFail(t, 1, "no blob object "+unknownObj, c("set-blob-attribute", unknownObj, "--attr", "k", "v")...)
		wantFail(t, 1, "no blob object", c("get-blob-attribute", unknownObj)...)
		wantFail(t, 1, `has no attribute "color"`, c("remove-blob-attribute-fields", obj, "--keys", "color")...)
		wantFail(t, 1, "is not owned by the wallet", "--config", other, "set-blob-attribute", obj, "--attr", "k", "v")
		wantFail(t, 1, "is not owned by the wallet", "--config", other, "remove-blob-attribute", obj)
	})

	t.Run("share, fund and extend a shared blob", func(t *testing.T) {
		f, _ := writeRandom(t, dir, "shareme", 700)
		sharedObj := n.storeOne(t, "--epochs", "2", f).NewlyCreated.BlobObject
		wantFail(t, 1, "is not owned by the wallet", "--config", other, "share", "--blob-obj-id", sharedObj.ID)
		wantFail(t, 1, "no blob object", c("share", "--blob-obj-id", unknownObj)...)
		wantFail(t, 2, "invalid object ID", c("share", "--blob-obj-id", "12")...)
		wantFail(t, 1, "is not shared", c("fund-shared-blob", "--shared-blob-obj-id", sharedObj.ID, "--amount", "5")...)
		wantFail(t, 1, "is not shared", c("extend", "--shared", "--blob-obj-id", sharedObj.ID, "--epochs-extended", "1")...)
		out, errs, code := n.walrus(t, "share", "--json", "--blob-obj-id", sharedObj.ID, "--amount", "1000000000")
		var sh shareOutput
		if code != 0 || json.Unmarshal(out, &sh) != nil || sh.SharedBlobObjectID != sharedObj.ID || sh.Amount == nil || *sh.Amount != 1_000_000_000 {
			t.Fatalf("share: %d %q %q", code, out, errs)
		}
		wantFail(t, 1, "is shared", c("extend", "--blob-obj-id", sharedObj.ID, "--epochs-extended", "1")...)
		wantFail(t, 1, "is shared", c("set-blob-attribute", sharedObj.ID, "--attr", "k", "v")...)
		wantFail(t, 2, "more than 0 FROST", c("fund-shared-blob", "--shared-blob-obj-id", sharedObj.ID, "--amount", "0")...)
		// Anyone may fund and extend a shared blob.
		out, errs, code = runCLI(t, "", "--config", other, "fund-shared-blob", "--json", "--shared-blob-obj-id", sharedObj.ID, "--amount", "500")
		var fo fundSharedOutput
		if code != 0 || json.Unmarshal(out, &fo) != nil || fo.Amount != 500 || fo.Funds != 1_000_000_500 {
			t.Fatalf("fund-shared-blob: %d %q %q", code, out, errs)
		}
		out, errs, code = runCLI(t, "", "--config", other, "extend", "--json", "--shared", "--blob-obj-id", sharedObj.ID, "--epochs-extended", "2")
		var eo extendOutput
		if code != 0 || json.Unmarshal(out, &eo) != nil || eo.EpochsExtended != 2 || eo.BlobObject.Storage.EndEpoch != sharedObj.Storage.EndEpoch+2 {
			t.Fatalf("extend --shared: %d %q %q", code, out, errs)
		}
	})

	t.Run("burn", func(t *testing.T) {
		f, _ := writeRandom(t, dir, "burnme", 800)
		b := n.storeOne(t, "--epochs", "2", f).NewlyCreated.BlobObject
		wantFail(t, 2, "exactly one of --object-ids, --all and --all-expired", c("burn-blobs", "--yes")...)
		wantFail(t, 2, "exactly one of", c("burn-blobs", "--all", "--object-ids", b.ID, "--yes")...)
		wantFail(t, 1, "without confirmation", c("burn-blobs", "--object-ids", b.ID)...)
		wantFail(t, 1, "no blob object", c("burn-blobs", "--object-ids", unknownObj, "--yes")...)
		wantFail(t, 1, "is not owned by the wallet", "--config", other, "burn-blobs", "--object-id", b.ID, "--yes")
		out, errs, code := n.walrus(t, "burn-blobs", "--json", "--object-ids", b.ID, "--yes")
		var bo burnOutput
		if code != 0 || json.Unmarshal(out, &bo) != nil || len(bo.ObjectIDs) != 1 || bo.ObjectIDs[0] != b.ID {
			t.Fatalf("burn-blobs: %d %q %q", code, out, errs)
		}
		for _, l := range n.listBlobs(t) {
			if l.ID == b.ID {
				t.Fatal("a burned blob object is still listed")
			}
		}
		out, _, code = n.walrus(t, "burn-blobs", "--all-expired", "--yes")
		if code != 0 || !strings.Contains(string(out), "owns no expired blob objects") {
			t.Fatalf("burn-blobs --all-expired: %d %q", code, out)
		}
	})

	t.Run("delete forms", func(t *testing.T) {
		fa, _ := writeRandom(t, dir, "del-a", 900)
		fb, _ := writeRandom(t, dir, "del-b", 901)
		a := n.storeOne(t, "--epochs", "2", fa).NewlyCreated.BlobObject
		b := n.storeOne(t, "--epochs", "2", fb).NewlyCreated.BlobObject
		p := n.storeOne(t, "--epochs", "2", "--permanent", fb).NewlyCreated.BlobObject
		wantFail(t, 2, "give what to delete", c("delete", "--yes")...)
		wantFail(t, 2, "invalid object ID", c("delete", "--object-ids", "zz", "--yes")...)
		wantFail(t, 2, "invalid blob ID", c("delete", "--blob-ids", "zz", "--yes")...)
		wantFail(t, 1, "cannot read", c("delete", "--files", filepath.Join(dir, "missing"), "--yes")...)
		wantFail(t, 1, "the wallet owns no deletable blob object of blob", c("delete", "--blob-ids", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "--yes")...)
		wantFail(t, 1, "is not owned by the wallet", "--config", other, "delete", "--object-id", a.ID, "--yes")
		wantFail(t, 1, "is permanent", c("delete", "--object-ids", p.ID, "--yes")...)
		out, errs, code := n.walrus(t, "delete", "--json", "--yes", "--file", fa, "--object-ids", b.ID)
		var outs []deleteOutput
		if code != 0 || json.Unmarshal(out, &outs) != nil || len(outs) != 2 ||
			outs[0].BlobIdentity.File != fa || len(outs[0].DeletedBlobs) != 1 || outs[0].DeletedBlobs[0].ID != a.ID ||
			outs[1].BlobIdentity.ObjectID != b.ID || len(outs[1].DeletedBlobs) != 1 {
			t.Fatalf("delete --file --object-ids: %d %s %q", code, out, errs)
		}
		// Several targets, one failing: the others are deleted, the command fails.
		fc, _ := writeRandom(t, dir, "del-c", 902)
		cobj := n.storeOne(t, "--epochs", "2", fc).NewlyCreated.BlobObject
		out, errs, code = n.walrus(t, "delete", "--yes", "--blob-ids", cobj.BlobID, "--object-ids", unknownObj)
		if code != 1 || !strings.Contains(errs, "1 of 2 deletions failed") || !strings.Contains(string(out), "Deleted blob object "+cobj.ID) {
			t.Fatalf("delete with one bad target: %d %q %q", code, out, errs)
		}
	})

	t.Run("health", func(t *testing.T) {
		out, errs, code := n.walrus(t, "health", "--json", "--sort-by", "name", "--desc")
		var all healthOutput
		if code != 0 || json.Unmarshal(out, &all) != nil || len(all.HealthInfo) != 4 || all.HealthInfo[0].NodeName < all.HealthInfo[3].NodeName {
			t.Fatalf("health --sort-by name --desc: %d %s %q", code, out, errs)
		}
		node := all.HealthInfo[1]
		out, errs, code = n.walrus(t, "health", "--detail", "--node-ids", node.NodeID)
		for _, want := range []string{"Node ID: " + node.NodeID, "Uptime: ", "Current epoch: ", "Owned shard status", "Ready: ", "Owned shard details", "Shard ", "1 node: "} {
			if code != 0 || !strings.Contains(string(out), want) {
				t.Fatalf("health --detail lacks %q: %d %s %q", want, code, out, errs)
			}
		}
		out, errs, code = n.walrus(t, "health", "--json", "--node-urls", node.NodeURL)
		var one healthOutput
		if code != 0 || json.Unmarshal(out, &one) != nil || len(one.HealthInfo) != 1 || one.HealthInfo[0].NodeID != node.NodeID || one.HealthInfo[0].HealthInfo.Ok == nil {
			t.Fatalf("health --node-urls: %d %s %q", code, out, errs)
		}
		out, _, code = n.walrus(t, "health", "--active-set")
		if code != 0 || !strings.Contains(string(out), "4 nodes: ") {
			t.Fatalf("health --active-set: %d %q", code, out)
		}
		wantFail(t, 1, "no storage node with node ID", c("health", "--node-ids", unknownObj)...)
		wantFail(t, 1, "no storage node at https://127.0.0.1:1", c("health", "--node-urls", "https://127.0.0.1:1")...)
		wantFail(t, 2, "--sort-by \"size\"", c("health", "--sort-by", "size")...)
		wantFail(t, 2, "give only one of", c("health", "--committee", "--node-ids", node.NodeID)...)
	})

	t.Run("json mode", func(t *testing.T) {
		in := fmt.Sprintf(`{"config": %q, "command": {"blobStatus": {"blobId": %q}}}`, n.config, blobID)
		out, errs, code := runCLI(t, in, "json")
		var st blobStatusOutput
		if code != 0 || json.Unmarshal(out, &st) != nil || st.BlobID != blobID {
			t.Fatalf("json blobStatus: %d %q %q", code, out, errs)
		}
		f, _ := writeRandom(t, dir, "viajson", 1234)
		in = fmt.Sprintf(`{"config": %q, "command": {"store": {"files": [%q], "epochs": 2, "permanent": true, "dryRun": false}}}`, n.config, f)
		out, errs, code = runCLI(t, in, "json")
		var res []storeOutput
		if code != 0 || json.Unmarshal(out, &res) != nil || len(res) != 1 || res[0].BlobStoreResult.NewlyCreated == nil || res[0].BlobStoreResult.NewlyCreated.BlobObject.Deletable {
			t.Fatalf("json store: %d %q %q", code, out, errs)
		}
		o := res[0].BlobStoreResult.NewlyCreated.BlobObject.ID
		in = fmt.Sprintf(`{"config": %q, "command": {"setBlobAttribute": {"blobObjId": %q, "attributes": ["a", "1", "b", "2"]}}}`, n.config, o)
		if out, errs, code = runCLI(t, in, "json"); code != 0 || !strings.Contains(string(out), `"key": "b"`) {
			t.Fatalf("json setBlobAttribute: %d %q %q", code, out, errs)
		}
		in = fmt.Sprintf(`{"command": {"removeBlobAttributeFields": {"blobObjId": %q, "keys": ["a", "b"]}}}`, o)
		if out, errs, code = runCLI(t, "", "--config", n.config, "json", in); code != 0 || !strings.Contains(string(out), `"attribute": null`) {
			t.Fatalf("json removeBlobAttributeFields from the argument: %d %q %q", code, out, errs)
		}
		for _, bad := range []struct{ in, want string }{
			{`not json`, "not a JSON object"},
			{`{"config": "x"}`, `no "command" field`},
			{`{"command": {"store": {}, "read": {}}}`, "exactly one command"},
			{`{"command": {"fly": {}}}`, `unknown command "fly"`},
			{`{"command": {"store": {"wings": 2}}}`, `command "store" has no option "wings"`},
			{`{"colour": 1, "command": {"store": {}}}`, `unknown global option "colour"`},
			{`{"command": {"json": {}}}`, "cannot run the json command"},
			{`{"command": {"setBlobAttribute": {"blobObjId": "x", "attributes": ["odd"]}}}`, "[KEY, VALUE"},
		} {
			out, errs, code := runCLI(t, bad.in, "json")
			if code != 2 || !strings.Contains(errs, bad.want) || len(out) != 0 {
				t.Errorf("json %s: %d %q %q (want %q)", bad.in, code, out, errs, bad.want)
			}
		}
	})
}
