package sdkcompat

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/base58"
	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/internal/uploadrelay"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testnet.RemoveBinary()
	os.Exit(code)
}

// The shapes of the script's results (js/sdkcompat.mjs).
type (
	helloResult struct {
		Node, Walrus, WalrusWasm string
	}
	encodeResult struct {
		BlobID          string
		RootHash        []byte
		UnencodedLength uint64
		EncodingType    string
		Metadata        []byte
	}
	// blobStatus is a node's blob status as the SDK parses it.
	blobStatus struct {
		Type                  string
		IsCertified           bool
		EndEpoch              uint32
		InitialCertifiedEpoch *uint32
		StatusEvent           struct{ TxDigest, EventSeq string }
		DeletableCounts       struct {
			CountDeletableTotal     int `json:"count_deletable_total"`
			CountDeletableCertified int `json:"count_deletable_certified"`
		}
	}
	writeResult []struct {
		Name     string
		Metadata struct{ Success struct{ Code int } }
		Slivers  []struct {
			Pair       int
			SliverType string
			Res        struct{ Success struct{ Code int } }
		}
	}
	sdkCertificate struct {
		Signers           []int
		SerializedMessage []byte
		Signature         []byte
	}
	confirmResult struct {
		ExpectedMessage []byte
		Confirmations   []struct {
			Index             int
			Name              string
			SerializedMessage []byte
			Signature         []byte
			MessageMatches    bool
			Verified          bool
		}
		Certificate       sdkCertificate
		AggregateVerified bool
	}
	readResult struct {
		Nodes []struct {
			Name                  string
			MetadataBlobID        string
			UnencodedLength       uint64
			EncodingType          string
			Hashes                int
			Metadata              []byte
			MetadataStatus        string
			MetadataEqualsEncoded *bool
			Slivers               []struct {
				Pair          int
				SliverType    string
				Index         int
				Status        string
				EqualsEncoded *bool
			}
		}
		Decodings []struct {
			Pairs           []int
			Data            []byte
			BlobIDOfDecoded string
		}
	}
	relayResult struct {
		TipConfig      any
		BlobID         string
		Certificate    sdkCertificate
		MessageMatches bool
		Verified       bool
	}
	errorResult struct {
		Class   *string
		Message string
		Status  int
		Body    *struct {
			Error struct {
				Code    int
				Status  string
				Details []struct{ Reason string }
			}
		}
	}
)

// TestTypeScriptSDK drives a network of walrus processes with Mysten's TypeScript SDK and
// WASM encoder: a blob encoded by walrus-wasm is written to our nodes by the SDK's
// StorageNodeClient, confirmed, certified on our chain with the aggregate walrus-wasm made
// of the confirmations, and read back and decoded by walrus-wasm; a blob stored by our Go
// client is read and decoded by the SDK too; the SDK parses our errors.
func TestTypeScriptSDK(t *testing.T) {
	nodeBin, npm := requireTool(t, "node"), requireTool(t, "npm")
	installed := installHarness(t, npm)

	bin := testnet.Binary(t)
	net := testnet.NewCluster(t, testnet.Options{RPC: true, ValidatorBinary: bin})
	for _, nd := range net.Nodes {
		net.StartProcess(nd, bin)
	}
	t.Cleanup(func() { dumpLogs(t, net) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmt, err := net.Chain.Committee(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitShards(t, ctx, net, cmt)

	js := startSDK(t, nodeBin, installed())
	var hello helloResult
	js.must("hello", nil, &hello)
	t.Logf("node %s, @mysten/walrus %s, @mysten/walrus-wasm %s", hello.Node, hello.Walrus, hello.WalrusWasm)

	type memberArg struct {
		Name       string   `json:"name"`
		URL        string   `json:"url"`
		NetworkKey []byte   `json:"networkKey"`
		BLSKey     []byte   `json:"blsKey"`
		Shards     []uint16 `json:"shards"`
	}
	var members []memberArg
	for _, m := range cmt.Members {
		members = append(members, memberArg{
			Name: m.Name, URL: "https://" + m.NetworkAddress, NetworkKey: m.NetworkPublicKey[:], BLSKey: m.PublicKey[:], Shards: m.Shards,
		})
	}
	js.must("committee", map[string]any{"nShards": cmt.NShards, "epoch": cmt.Epoch, "members": members}, nil)

	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 0))

	// The TLS pin of the script's fetch: the right key connects, any other is refused.
	t.Run("PinnedTLS", func(t *testing.T) {
		js := js.with(t)
		m := cmt.Members[0]
		wrong := m.NetworkPublicKey
		wrong[0] ^= 1
		anyID := redstuff.BlobID{1}.String()
		for _, tc := range []struct {
			key     []byte
			refused bool
		}{{m.NetworkPublicKey[:], false}, {wrong[:], true}, {cmt.Members[1].NetworkPublicKey[:], true}} {
			var er errorResult
			js.must("probeKey", map[string]any{"url": "https://" + m.NetworkAddress, "networkKey": tc.key, "blobId": anyID}, &er)
			if refused := er.Class != nil; refused != tc.refused || (refused && !strings.Contains(er.Message, "not over its registered network key")) {
				t.Errorf("key %x: refused %v (%+v), want %v", tc.key[:4], refused, er, tc.refused)
			}
		}
	})

	t.Run("SDKWritesAndReads", func(t *testing.T) {
		data := randomBytes(rnd, 10_000+rnd.IntN(20_000))
		js := js.with(t)

		// walrus-wasm encodes; our encoder must agree on every byte of the metadata.
		var enc encodeResult
		js.must("encode", map[string]any{"data": data}, &enc)
		ours, err := net.Enc.Encode(data)
		if err != nil {
			t.Fatal(err)
		}
		id := ours.Metadata.BlobID
		if enc.BlobID != id.String() || enc.UnencodedLength != uint64(len(data)) || enc.EncodingType != "RS2" {
			t.Fatalf("walrus-wasm: blob %s, %d bytes, %s; ours: blob %s, %d bytes", enc.BlobID, enc.UnencodedLength, enc.EncodingType, id, len(data))
		}
		if root := ours.Metadata.Root(); !bytes.Equal(enc.RootHash, root[:]) {
			t.Fatalf("root hash: walrus-wasm %x, ours %x", enc.RootHash, root)
		}
		if !bytes.Equal(enc.Metadata, sn.MetadataBody(ours.Metadata)) {
			t.Fatal("walrus-wasm's BCS metadata differs from ours")
		}

		// Our chain registers what walrus-wasm computed.
		obj := register(t, ctx, net, enc, false)
		var statuses []blobStatus
		js.must("waitRegistered", map[string]any{"blobId": enc.BlobID}, &statuses)
		for i, st := range statuses {
			if st.Type != "permanent" || st.IsCertified {
				t.Errorf("%s: status before certification %+v, want permanent, not certified", cmt.Members[i].Name, st)
			}
		}

		// The SDK writes the metadata and both slivers of every shard to each node.
		var wr writeResult
		js.must("write", map[string]any{"blobId": enc.BlobID}, &wr)
		slivers := 0
		for _, w := range wr {
			if w.Metadata.Success.Code != 201 {
				t.Errorf("%s: metadata write answered code %d, want 201", w.Name, w.Metadata.Success.Code)
			}
			for _, s := range w.Slivers {
				slivers++
				if s.Res.Success.Code != 201 {
					t.Errorf("%s: %s sliver %d answered code %d, want 201", w.Name, s.SliverType, s.Pair, s.Res.Success.Code)
				}
			}
		}
		if slivers != 2*int(cmt.NShards) {
			t.Errorf("%d slivers written, want %d", slivers, 2*cmt.NShards)
		}

		// Confirmations, verified by walrus-wasm against the keys on our chain, aggregated by
		// walrus-wasm; our chain certifies the blob with that aggregate.
		cert := confirm(t, js, cmt, enc.BlobID, false, chain.ObjectID{}, id, obj)
		certified, err := net.Chain.Submit(ctx, net.Wallet, &chain.CertifyBlob{Blob: obj, Certificate: cert})
		if err != nil {
			t.Fatalf("certify with the SDK's certificate: %v", err)
		}
		b, err := net.Chain.Blob(ctx, obj)
		if err != nil || !b.Certified {
			t.Fatalf("blob object after certification: %+v, %v", b, err)
		}
		testnet.WaitFor(t, 2*time.Minute, "every node to report the blob certified to the SDK", func() (bool, error) {
			var sts []blobStatus
			if err := js.call("status", map[string]any{"blobId": enc.BlobID}, &sts); err != nil {
				return false, err
			}
			for _, st := range sts {
				if st.Type != "permanent" || !st.IsCertified || st.InitialCertifiedEpoch == nil || *st.InitialCertifiedEpoch != cmt.Epoch || st.EndEpoch != b.EndEpoch() {
					return false, nil
				}
			}
			// The status event is the certification's, its digest in Base58 as Sui writes it.
			for i, st := range sts {
				if st.StatusEvent.TxDigest != base58.Encode(certified.Digest[:]) {
					return false, fmt.Errorf("%s: status event %+v, want the certification's transaction %s", cmt.Members[i].Name, st.StatusEvent, base58.Encode(certified.Digest[:]))
				}
				if _, err := strconv.ParseUint(st.StatusEvent.EventSeq, 10, 64); err != nil {
					return false, fmt.Errorf("%s: status event sequence %q", cmt.Members[i].Name, st.StatusEvent.EventSeq)
				}
			}
			return true, nil
		})

		// The SDK reads it all back; walrus-wasm decodes it.
		var rd readResult
		js.must("read", map[string]any{"blobId": enc.BlobID}, &rd)
		checkRead(t, rd, enc.BlobID, data, sn.MetadataBody(ours.Metadata), true)

		// What a browser running the SDK on another origin needs.
		var cors map[string]struct {
			Status                                  int
			AllowOrigin, AllowMethods, AllowHeaders *string
		}
		js.must("browserCORS", map[string]any{"blobId": enc.BlobID, "pair": id.ShardPair(int(cmt.Members[0].Shards[0]), int(cmt.NShards)),
			"missingBlobId": redstuff.BlobID{9}.String()}, &cors)
		for name, want := range map[string]int{"preflightMetadata": 204, "preflightSliver": 204, "status": 200, "metadata": 200, "notFound": 404} {
			c, ok := cors[name]
			switch {
			case !ok:
				t.Errorf("CORS %s: no answer", name)
			case c.Status != want || c.AllowOrigin == nil || *c.AllowOrigin != "*":
				t.Errorf("CORS %s: status %d (want %d), Access-Control-Allow-Origin %v", name, c.Status, want, str(c.AllowOrigin))
			case strings.HasPrefix(name, "preflight") && (c.AllowMethods == nil || !strings.Contains(*c.AllowMethods, "PUT") ||
				c.AllowHeaders == nil || (*c.AllowHeaders != "*" && !strings.Contains(strings.ToLower(*c.AllowHeaders), "content-type"))):
				t.Errorf("CORS %s: allows methods %v, headers %v; the SDK's PUT needs PUT and Content-Type", name, str(c.AllowMethods), str(c.AllowHeaders))
			}
		}
	})

	t.Run("SDKReadsGoClientBlob", func(t *testing.T) {
		js := js.with(t)
		c, err := client.New(client.Config{Chain: net.Chain, Signer: net.Wallet, RequestTimeout: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		data := randomBytes(rnd, 5_000+rnd.IntN(20_000))
		res, err := c.Store(ctx, data, client.StoreOptions{Epochs: 2})
		if err != nil {
			t.Fatal(err)
		}
		if res.NewlyCreated == nil || !res.NewlyCreated.BlobObject.Deletable {
			t.Fatalf("store: %+v, want a newly created deletable blob", res)
		}
		obj, err := chain.ParseObjectID(res.NewlyCreated.BlobObject.ID)
		if err != nil {
			t.Fatal(err)
		}
		eb, err := net.Enc.Encode(data)
		if err != nil {
			t.Fatal(err)
		}
		var rd readResult
		js.must("read", map[string]any{"blobId": res.BlobID()}, &rd)
		checkRead(t, rd, res.BlobID(), data, sn.MetadataBody(eb.Metadata), false)

		// The deletable confirmation path, checked by the SDK's message and walrus-wasm's BLS.
		confirm(t, js, cmt, res.BlobID(), true, obj, eb.Metadata.BlobID, obj)
		var sts []blobStatus
		js.must("status", map[string]any{"blobId": res.BlobID()}, &sts)
		for i, st := range sts {
			if st.Type != "deletable" || st.DeletableCounts.CountDeletableCertified != 1 || st.InitialCertifiedEpoch == nil {
				t.Errorf("%s: status %+v, want deletable with one certified", cmt.Members[i].Name, st)
			}
		}
	})

	// Our upload relay, through the SDK's UploadRelayClient: the certificate it returns
	// certifies the blob on our chain. One relay asks no tip; another asks a constant tip,
	// which the Go side pays on our chain with the memo the SDK computes.
	t.Run("UploadRelay", func(t *testing.T) {
		js := js.with(t)
		payee := chain.Address{0x7e, 0x1a, 0x7}
		const tip = 1234
		freeRelay := startRelay(t, bin, net)
		tippedRelay := startRelay(t, bin, net, "--tip-const", strconv.Itoa(tip), "--tip-address", payee.String())

		for _, tc := range []struct {
			name      string
			url       string
			deletable bool
			tip       bool
		}{
			{"permanent", freeRelay, false, false},
			{"deletable", freeRelay, true, false},
			{"tipped", tippedRelay, false, true},
		} {
			data := randomBytes(rnd, 5_000+rnd.IntN(20_000))
			var enc encodeResult
			js.must("encode", map[string]any{"data": data}, &enc)
			obj := register(t, ctx, net, enc, tc.deletable)
			args := map[string]any{"url": tc.url, "blobId": enc.BlobID, "deletable": tc.deletable}
			if tc.deletable {
				args["objectId"] = obj.String()
			}
			if tc.tip {
				var tm struct {
					TipConfig struct {
						Address string
						Kind    struct{ Const json.Number }
					}
					Nonce, Memo []byte
				}
				js.must("tipMemo", map[string]any{"url": tc.url, "blobId": enc.BlobID}, &tm)
				if tm.TipConfig.Address != payee.String() || tm.TipConfig.Kind.Const != json.Number(strconv.Itoa(tip)) {
					t.Fatalf("%s: the SDK reads the tip configuration as %+v, want a constant %d to %s", tc.name, tm.TipConfig, tip, payee)
				}
				sum := sha256.Sum256(data)
				nonceSum := sha256.Sum256(tm.Nonce)
				want := uploadrelay.AuthPackage{BlobDigest: sum, NonceDigest: nonceSum, UnencodedLength: uint64(len(data))}
				if !bytes.Equal(tm.Memo, want.Encode()) {
					t.Fatalf("%s: the SDK's tip memo %x, ours %x", tc.name, tm.Memo, want.Encode())
				}
				res, err := net.Chain.Submit(ctx, net.Wallet, &chain.TransferWithMemo{To: payee, Amount: tip, Memo: tm.Memo})
				if err != nil {
					t.Fatalf("%s: paying the tip: %v", tc.name, err)
				}
				args["nonce"], args["txDigest"] = tm.Nonce, base58.Encode(res.Digest[:])
			}
			var rr relayResult
			js.must("relay", args, &rr)
			if tip := rr.TipConfig != nil; tip != tc.tip || rr.BlobID != enc.BlobID || !rr.MessageMatches || !rr.Verified {
				t.Fatalf("%s: tip config %v, blob %s (want %s), message as the SDK expects %v, walrus-wasm verifies the aggregate %v",
					tc.name, rr.TipConfig, rr.BlobID, enc.BlobID, rr.MessageMatches, rr.Verified)
			}
			cert := certificate(t, cmt, rr.Certificate)
			if _, err := net.Chain.Submit(ctx, net.Wallet, &chain.CertifyBlob{Blob: obj, Certificate: cert}); err != nil {
				t.Fatalf("%s: certify with the relay's certificate: %v", tc.name, err)
			}
			if b, err := net.Chain.Blob(ctx, obj); err != nil || !b.Certified {
				t.Fatalf("%s: blob object after certification: %+v, %v", tc.name, b, err)
			}
			var rd readResult
			js.must("read", map[string]any{"blobId": enc.BlobID}, &rd)
			checkRead(t, rd, enc.BlobID, data, enc.Metadata, true)
		}
	})

	t.Run("SDKParsesErrors", func(t *testing.T) {
		js := js.with(t)
		// A blob walrus-wasm encoded and nobody registered.
		var enc encodeResult
		js.must("encode", map[string]any{"data": randomBytes(rnd, 1000)}, &enc)
		id, err := redstuff.ParseBlobID(enc.BlobID)
		if err != nil {
			t.Fatal(err)
		}
		owned := map[int]bool{}
		for _, s := range cmt.Members[0].Shards {
			owned[id.ShardPair(int(s), int(cmt.NShards))] = true
		}
		ownedPair, otherPair := -1, -1
		for p := range int(cmt.NShards) {
			if owned[p] && ownedPair < 0 {
				ownedPair = p
			}
			if !owned[p] && otherPair < 0 {
				otherPair = p
			}
		}
		// The SDK's classes for the answers of Walrus's nodes to the same requests.
		for _, tc := range []struct {
			what   string
			pair   int
			class  string
			status int
			reason string
		}{
			{"metadataWrite", 0, "BlobNotRegisteredError", 400, "NOT_REGISTERED"},
			{"metadata", 0, "NotFoundError", 404, "METADATA_NOT_FOUND"},
			{"sliver", ownedPair, "NotFoundError", 404, "SLIVER_NOT_FOUND"},
			{"sliver", otherPair, "BadRequestError", 400, "SHARD_NOT_ASSIGNED"},
			{"confirmation", 0, "BlobNotRegisteredError", 400, "NOT_REGISTERED"},
		} {
			var er errorResult
			js.must("expectError", map[string]any{"what": tc.what, "blobId": enc.BlobID, "pair": tc.pair}, &er)
			switch {
			case er.Class == nil:
				t.Errorf("%s of an unregistered blob: no error", tc.what)
			case *er.Class != tc.class || er.Status != tc.status:
				t.Errorf("%s of an unregistered blob: SDK error %s %d, want %s %d (body %+v)", tc.what, *er.Class, er.Status, tc.class, tc.status, er.Body)
			case er.Body == nil || er.Body.Error.Code != tc.status || len(er.Body.Error.Details) == 0:
				t.Errorf("%s: SDK parsed error body %+v, want Walrus's error envelope", tc.what, er.Body)
			case er.Body.Error.Details[0].Reason != tc.reason:
				t.Errorf("%s: reason %q, want %q", tc.what, er.Body.Error.Details[0].Reason, tc.reason)
			}
		}
	})
}

// with returns the script's driver reporting to t (a subtest).
func (s *sdk) with(t *testing.T) *sdk {
	return &sdk{t: t, proc: s.proc}
}

func str(s *string) string {
	if s == nil {
		return "(none)"
	}
	return *s
}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// register reserves storage for and registers the blob walrus-wasm encoded.
func register(t *testing.T, ctx context.Context, net *testnet.Cluster, enc encodeResult, deletable bool) chain.ObjectID {
	t.Helper()
	id, err := redstuff.ParseBlobID(enc.BlobID)
	if err != nil {
		t.Fatal(err)
	}
	size, err := net.Enc.EncodedLength(enc.UnencodedLength)
	if err != nil {
		t.Fatal(err)
	}
	res, err := net.Chain.Submit(ctx, net.Wallet, &chain.ReserveSpace{Size: size, EpochsAhead: 3})
	if err != nil {
		t.Fatalf("reserve: %v", err)
	}
	res, err = net.Chain.Submit(ctx, net.Wallet, &chain.RegisterBlob{
		Storage: res.Created[0], BlobID: id, RootHash: [32]byte(enc.RootHash), Size: enc.UnencodedLength,
		EncodingType: redstuff.EncodingRS2, Deletable: deletable,
	})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	return res.Created[0]
}

// confirm asks every node for its confirmation through the SDK and checks what the script
// saw: the message is the one the SDK expects and the one our chain expects, and every
// signature and the aggregate verify with walrus-wasm. It returns the SDK's aggregate as
// our chain's certificate.
func confirm(t *testing.T, js *sdk, cmt chain.CommitteeInfo, blobID string, deletable bool, object chain.ObjectID, id redstuff.BlobID, obj chain.ObjectID) chain.Certificate {
	t.Helper()
	args := map[string]any{"blobId": blobID, "deletable": deletable}
	if deletable {
		args["objectId"] = object.String()
	}
	var cr confirmResult
	js.must("confirm", args, &cr)
	msg := chain.ConfirmationMessage(cmt.Epoch, id, deletable, obj)
	if !bytes.Equal(cr.ExpectedMessage, msg) {
		t.Fatalf("the SDK's confirmation message %x, our chain's %x", cr.ExpectedMessage, msg)
	}
	if len(cr.Confirmations) != len(cmt.Members) {
		t.Fatalf("%d confirmations, %d members", len(cr.Confirmations), len(cmt.Members))
	}
	for i, c := range cr.Confirmations {
		if !c.MessageMatches || !c.Verified {
			t.Errorf("%s: confirmation message matches %v, walrus-wasm BLS verifies %v", c.Name, c.MessageMatches, c.Verified)
		}
		// And our BLS agrees with walrus-wasm's.
		pk, err := bls.PublicKeyFromBytes(cmt.Members[i].PublicKey[:])
		if err == nil {
			var sig bls.Signature
			if sig, err = bls.SignatureFromBytes(c.Signature); err == nil {
				err = bls.Verify(pk, c.SerializedMessage, sig)
			}
		}
		if err != nil {
			t.Errorf("%s: our BLS: %v", c.Name, err)
		}
	}
	if !cr.AggregateVerified {
		t.Error("walrus-wasm does not verify its own aggregate of the confirmations")
	}
	if t.Failed() {
		t.FailNow()
	}
	return certificate(t, cmt, cr.Certificate)
}

// certificate turns the SDK's form of a certificate (signer indices) into our chain's
// (a signer bitmap).
func certificate(t *testing.T, cmt chain.CommitteeInfo, c sdkCertificate) chain.Certificate {
	t.Helper()
	cert := chain.Certificate{Signers: make([]byte, (len(cmt.Members)+7)/8), Message: c.SerializedMessage}
	for _, s := range c.Signers {
		if s < 0 || s >= len(cmt.Members) {
			t.Fatalf("signer %d of %d members", s, len(cmt.Members))
		}
		cert.Signers[s/8] |= 1 << (s % 8)
	}
	if len(c.Signature) != len(cert.Signature) {
		t.Fatalf("aggregate signature of %d bytes", len(c.Signature))
	}
	copy(cert.Signature[:], c.Signature)
	return cert
}

// checkRead checks what the SDK read from every node: metadata with our blob ID equal to
// metadata (the BCS BlobMetadata), statuses stored, slivers equal to what walrus-wasm
// encoded (if sdkEncoded), and walrus-wasm's decodings equal to data.
func checkRead(t *testing.T, rd readResult, blobID string, data, metadata []byte, sdkEncoded bool) {
	t.Helper()
	slivers := 0
	for _, n := range rd.Nodes {
		if n.MetadataBlobID != blobID || n.UnencodedLength != uint64(len(data)) || n.EncodingType != "RS2" {
			t.Errorf("%s: metadata of blob %s, %d bytes, %s", n.Name, n.MetadataBlobID, n.UnencodedLength, n.EncodingType)
		}
		if !bytes.Equal(n.Metadata, metadata) {
			t.Errorf("%s: the SDK's parse of the node's metadata, serialized again, differs from ours", n.Name)
		}
		if n.MetadataStatus != string(sn.StatusStored) {
			t.Errorf("%s: metadata status %q", n.Name, n.MetadataStatus)
		}
		if sdkEncoded && (n.MetadataEqualsEncoded == nil || !*n.MetadataEqualsEncoded) {
			t.Errorf("%s: metadata differs from walrus-wasm's", n.Name)
		}
		for _, s := range n.Slivers {
			slivers++
			wantIndex := s.Pair
			if s.SliverType == "secondary" {
				wantIndex = hashesCount(rd) - 1 - s.Pair // Walrus's secondary sliver index
			}
			if s.Index != wantIndex || s.Status != string(sn.StatusStored) {
				t.Errorf("%s: %s sliver of pair %d: index %d (want %d), status %q", n.Name, s.SliverType, s.Pair, s.Index, wantIndex, s.Status)
			}
			if sdkEncoded && (s.EqualsEncoded == nil || !*s.EqualsEncoded) {
				t.Errorf("%s: %s sliver of pair %d differs from what walrus-wasm encoded", n.Name, s.SliverType, s.Pair)
			}
		}
	}
	if want := 2 * hashesCount(rd); slivers != want {
		t.Errorf("the SDK read %d slivers, want %d", slivers, want)
	}
	if len(rd.Decodings) == 0 {
		t.Fatal("no decodings")
	}
	for _, d := range rd.Decodings {
		if !bytes.Equal(d.Data, data) {
			t.Errorf("walrus-wasm decoded %d bytes from primary slivers %v, not the %d stored", len(d.Data), d.Pairs, len(data))
		}
		if d.BlobIDOfDecoded != blobID {
			t.Errorf("walrus-wasm computes blob ID %s for its decoding, want %s", d.BlobIDOfDecoded, blobID)
		}
	}
}

// hashesCount is the number of sliver pairs (shards) of the blob read.
func hashesCount(rd readResult) int {
	if len(rd.Nodes) == 0 {
		return 0
	}
	return rd.Nodes[0].Hashes
}

// startRelay runs `walrus upload-relay` (with the extra arguments) as a process against
// the network's chain and returns its URL once it answers; it is stopped at the end of the
// test.
func startRelay(t *testing.T, bin string, net *testnet.Cluster, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "client.yaml")
	if err := os.WriteFile(cfg, []byte("rpc_url: http://"+net.RPCAddr+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(dir, "relay.log"))
	if err != nil {
		t.Fatal(err)
	}
	addr := testnet.FreeAddr(t)
	cmd := exec.Command(bin, append([]string{"--config", cfg, "upload-relay", "--server-address", addr}, args...)...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait() //nolint:errcheck // a stopped process reports its signal
		close(done)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may have exited
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill() //nolint:errcheck // it may have exited
			<-done
		}
		log.Close()
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("upload relay %v: log:\n%s", args, b)
		}
	})
	url := "http://" + addr
	hc := &http.Client{Timeout: 5 * time.Second}
	testnet.WaitFor(t, 2*time.Minute, "the upload relay to answer", func() (bool, error) {
		select {
		case <-done:
			b, _ := os.ReadFile(log.Name())
			return false, fmt.Errorf("the upload relay exited: %s", b)
		default:
		}
		resp, err := hc.Get(url + "/v1/tip-config")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	return url
}

// waitShards waits until every committee member answers and holds its shards: a node
// answers before its event follower has given it its shards.
func waitShards(t *testing.T, ctx context.Context, net *testnet.Cluster, cmt chain.CommitteeInfo) {
	t.Helper()
	for _, m := range cmt.Members {
		testnet.WaitFor(t, 2*time.Minute, m.Name+" to hold its shards", func() (bool, error) {
			h, err := net.Client(m.NetworkAddress).Health(ctx, false)
			return err == nil && h.ShardSummary.Owned == len(m.Shards), nil
		})
	}
}

// dumpLogs prints the end of every node's log when the test failed.
func dumpLogs(t *testing.T, net *testnet.Cluster) {
	if !t.Failed() {
		return
	}
	for _, nd := range net.Nodes {
		b, err := os.ReadFile(filepath.Join(nd.Dir, "node.log"))
		if err != nil {
			continue
		}
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		t.Logf("%s: end of node.log:\n%s", nd.Name, b)
	}
}
