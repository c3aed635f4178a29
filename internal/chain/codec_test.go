package chain

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// samplePayloads returns one payload of every variant, in variant order.
func samplePayloads() []Payload {
	id := func(b byte) ObjectID { return ObjectID{b, 1, 2, 3} }
	cert := Certificate{Signers: []byte{0x0f}, Message: ConfirmationMessage(3, redstuff.BlobID{9}, true, id(4)), Signature: [96]byte{7}}
	return []Payload{
		&Transfer{To: Address{1}, Amount: 5},
		&Faucet{Amount: 7},
		&ReserveSpace{Size: 1 << 20, EpochsAhead: 3},
		&SplitStorageBySize{Storage: id(1), Size: 10},
		&SplitStorageByEpoch{Storage: id(1), Epoch: 2},
		&FuseStorage{First: id(1), Second: id(2)},
		&TransferObject{Object: id(3), To: Address{4}},
		&DestroyStorage{Storage: id(5)},
		&RegisterBlob{Storage: id(1), BlobID: redstuff.BlobID{2}, RootHash: [32]byte{3}, Size: 100, EncodingType: 1, Deletable: true},
		&CertifyBlob{Blob: id(6), Certificate: cert},
		&ExtendBlob{Blob: id(6), Epochs: 2},
		&ExtendBlobWithStorage{Blob: id(6), Storage: id(7)},
		&DeleteBlob{Blob: id(6)},
		&BurnBlob{Blob: id(6)},
		&SetBlobAttribute{Blob: id(6), Key: "content-type", Value: "text/plain; charset=utf-8 ✓"},
		&RemoveBlobAttribute{Blob: id(6), Key: "k"},
		&InvalidateBlobID{Certificate: Certificate{Signers: []byte{1}, Message: InvalidBlobMessage(1, redstuff.BlobID{8})}},
		&ShareBlob{Blob: id(6), Funds: 9},
		&FundSharedBlob{Blob: id(6), Amount: 9},
		&ExtendSharedBlob{Blob: id(6), Epochs: 1},
		&RegisterNode{Name: "node", NetworkAddress: "node:9185", PublicKey: [48]byte{1}, NetworkPublicKey: [32]byte{3}, ProofOfPossession: [96]byte{2},
			CommissionRate: 100, StoragePrice: 1, WritePrice: 2, Capacity: 3},
		&SetNodeInfo{Node: id(8), Name: "n", NetworkAddress: "a:1", NetworkPublicKey: [32]byte{4}},
		&SetNodeVotes{Node: id(8), StoragePrice: 1, WritePrice: 2, Capacity: 3},
		&SetCommissionRate{Node: id(8), Rate: 500},
		&Stake{Node: id(8), Amount: 1000},
		&RequestWithdrawStake{StakedWal: id(9)},
		&WithdrawStake{StakedWal: id(9)},
		&CollectCommission{Node: id(8)},
		&EpochSyncDone{Node: id(8), Epoch: 4},
		&VoteToSlash{Voter: id(8), Candidate: id(10)},
		&TransferWithMemo{To: Address{5}, Amount: 7, Memo: []byte("memo")},
		&CreateBucket{Name: "backups"},
		&DeleteBucket{Name: "backups"},
		&PutEntries{Bucket: "backups", Entries: []EntryData{
			{Key: "a/b.txt", Ref: BlobRef{BlobID: redstuff.BlobID{2}, Object: id(6)}, Size: 10, ETag: "0123456789abcdef0123456789abcdef",
				ContentType: "text/plain", Metadata: []Attribute{{"color", "blue"}, {"mtime", "1700000000"}}},
			{Key: "big ✓", Ref: BlobRef{BlobID: redstuff.BlobID{3}, Manifest: true}, Size: 1 << 40, ETag: "abc-3"},
		}},
		&DeleteEntries{Bucket: "backups", Keys: []string{"a/b.txt", "c"}},
		&CreateUpload{Bucket: "backups", ID: "0123abcd", Key: "k", ContentType: "application/octet-stream", Metadata: []Attribute{{"x", "y"}}},
		&PutPart{Bucket: "backups", Upload: "0123abcd", Number: 3, Ref: BlobRef{BlobID: redstuff.BlobID{4}, Object: id(12)}, Size: 5 << 20, ETag: "e"},
		&CompleteUpload{Bucket: "backups", Upload: "0123abcd", Ref: BlobRef{BlobID: redstuff.BlobID{5}, Manifest: true}, Size: 15 << 20, ETag: "f-3"},
		&AbortUpload{Bucket: "backups", Upload: "0123abcd"},
		&CreateSite{Name: "my site ✓", Routes: []Route{{"/app/*", "/index.html"}, {"/old", "/new.html"}},
			Metadata: []Attribute{{"description", "d"}}, Resources: []Resource{
				{Path: "/index.html", BlobID: redstuff.BlobID{6}, PatchID: []byte{1, 2, 3}, Hash: [32]byte{7}, Size: 10,
					Headers: []Attribute{{"cache-control", "no-cache"}, {"content-type", "text/html"}}},
				{Path: "/big.bin", BlobID: redstuff.BlobID{8}, Hash: [32]byte{9}, Size: 5, HasRange: true, Start: 10, End: 15},
			}},
		&UpdateSite{Site: id(13), SetInfo: true, Name: "n", Put: []Resource{{Path: "/a", Size: 1}}, Remove: []string{"/b"}},
		&DestroySite{Site: id(13)},
		&SetSiteName{Name: "blog", Site: id(13)},
		nil, nil, // 43 and 44: reserved
		&ChallengeReveal{Node: id(8), Epoch: 3, Signature: [96]byte{5}},
		&ChallengeCertificate{Epoch: 3, Node: id(8), Signers: []byte{0x07}, Signature: [96]byte{6}},
		&GovernancePropose{Node: id(8), Changes: []ParamChange{{"challenge-samples", 300}, {"epoch-duration", 3600e9}}},
		&GovernanceVote{Node: id(8), Proposal: [32]byte{9}, Approve: true},
		&ReserveAndRegister{StorageSize: 1 << 20, EpochsAhead: 3, BlobID: redstuff.BlobID{2}, RootHash: [32]byte{3}, Size: 100,
			EncodingType: 1, Deletable: true},
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	ps := samplePayloads()
	if len(ps) != len(payloadNames) {
		t.Fatalf("%d sample payloads for %d variants", len(ps), len(payloadNames))
	}
	key := testAccountKey("alice")
	for i, p := range ps {
		if p == nil {
			// A reserved variant does not decode.
			tx := &Tx{Payload: &Faucet{Amount: 1}}
			tx.Sign("chain", key)
			raw := tx.Encode()
			raw[48] = byte(i)
			if _, err := DecodeTx(raw); err == nil {
				t.Errorf("reserved payload variant %d decodes", i)
			}
			continue
		}
		if p.variant() != uint32(i) {
			t.Fatalf("%T has variant %d, want %d", p, p.variant(), i)
		}
		tx := &Tx{Nonce: uint64(i), Fee: 1000, Payload: p}
		tx.Sign("chain", key)
		raw := tx.Encode()
		got, err := DecodeTx(raw)
		if err != nil {
			t.Fatalf("%s: %v", PayloadName(p), err)
		}
		if diff := cmp.Diff(tx, got); diff != "" {
			t.Errorf("%s: round trip (-want +got):\n%s", PayloadName(p), diff)
		}
		if !got.Verify("chain") || got.Verify("other-chain") {
			t.Errorf("%s: signature does not bind the chain ID", PayloadName(p))
		}
	}
}

// TestTxVector pins the encoding and signing message of one transaction, so that a change to
// the wire format is deliberate.
func TestTxVector(t *testing.T) {
	tx := &Tx{Nonce: 1, Fee: 2, Payload: &Transfer{To: Address{0xaa}, Amount: 3}}
	tx.Sign("walrus-test", testAccountKey("alice"))
	want := "" +
		// sender public key (32 bytes) is covered by the signature check below
		"0100000000000000" + // nonce
		"0200000000000000" + // fee
		"00" + // variant Transfer
		"aa00000000000000000000000000000000000000000000000000000000000000" + // to
		"0300000000000000" // amount
	raw := tx.Encode()
	if got := hex.EncodeToString(raw[32 : len(raw)-64]); got != want {
		t.Errorf("encoding\n got %s\nwant %s", got, want)
	}
	msg := tx.SigningMessage("walrus-test")
	wantPrefix := "0f" + hex.EncodeToString([]byte(TxDomain)) + "0b" + hex.EncodeToString([]byte("walrus-test"))
	if !strings.HasPrefix(hex.EncodeToString(msg), wantPrefix) {
		t.Errorf("signing message does not start with the domain and chain ID: %x", msg)
	}
	if a := AddressOf(tx.Sender[:]); a != testAddress("alice") {
		t.Errorf("address mismatch")
	}
}

func TestWalrusMessages(t *testing.T) {
	id := redstuff.BlobID{1}
	obj := ObjectID{2}
	perm := ConfirmationMessage(7, id, false, obj)
	if len(perm) != 40 || !bytes.Equal(perm[:7], []byte{1, 0, 3, 7, 0, 0, 0}) || perm[39] != 0 {
		t.Errorf("permanent confirmation %x", perm)
	}
	del := ConfirmationMessage(7, id, true, obj)
	if len(del) != 72 || del[39] != 1 || !bytes.Equal(del[40:], obj[:]) {
		t.Errorf("deletable confirmation %x", del)
	}
	inv := InvalidBlobMessage(7, id)
	if len(inv) != 39 || inv[0] != 2 {
		t.Errorf("invalid-blob message %x", inv)
	}
}

func TestEventRoundTrip(t *testing.T) {
	bodies := []EventBody{
		&BlobRegistered{Epoch: 1, BlobID: redstuff.BlobID{1}, Size: 2, EncodingType: 1, EndEpoch: 3, Deletable: true, ObjectID: ObjectID{4}},
		&BlobCertified{Epoch: 1, BlobID: redstuff.BlobID{1}, EndEpoch: 3, ObjectID: ObjectID{4}, IsExtension: true},
		&BlobDeleted{Epoch: 1, BlobID: redstuff.BlobID{1}, EndEpoch: 3, ObjectID: ObjectID{4}, WasCertified: true},
		&InvalidBlobID{Epoch: 1, BlobID: redstuff.BlobID{1}},
		&EpochChangeStart{Epoch: 1},
		&EpochChangeDone{Epoch: 1},
		&EpochParametersSelected{NextEpoch: 2},
		&ShardsReceived{Epoch: 1, NodeID: ObjectID{5}, Shards: []uint16{1, 2, 900}},
		&PricesUpdated{Epoch: 1, StoragePrice: 2, WritePrice: 3},
		&NodeRegistered{NodeID: ObjectID{5}, Operator: Address{6}, Name: "n"},
		&StakeDeposited{NodeID: ObjectID{5}, StakedWal: ObjectID{7}, Owner: Address{6}, Amount: 8, ActivationEpoch: 2},
		&StakeWithdrawRequested{NodeID: ObjectID{5}, StakedWal: ObjectID{7}, WithdrawEpoch: 3},
		&StakeWithdrawn{NodeID: ObjectID{5}, StakedWal: ObjectID{7}, Amount: 9},
		&RewardsDistributed{Epoch: 1, Total: 10, Burned: 1, Distributed: 9},
		&CommissionCollected{NodeID: ObjectID{5}, Amount: 3},
		&NodeSlashed{Epoch: 1, NodeID: ObjectID{5}, Burned: 3},
		&TransferredWithMemo{From: Address{1}, To: Address{2}, Amount: 3, Memo: []byte{4}},
		&BucketCreated{Bucket: ObjectID{1}, Owner: Address{2}, Name: "b-1"},
		&BucketDeleted{Bucket: ObjectID{1}, Owner: Address{2}, Name: "b-1"},
		&EntryRemoved{Bucket: ObjectID{1}, Entry: Entry{EntryData: EntryData{Key: "k", Ref: BlobRef{BlobID: redstuff.BlobID{3}, Object: ObjectID{4}, Manifest: true},
			Size: 5, ETag: "e", ContentType: "t", Metadata: []Attribute{{"a", "b"}}}, Modified: 9}, Overwritten: true},
		&PartRemoved{Bucket: ObjectID{1}, Upload: "u1", Part: Part{Number: 3, Ref: BlobRef{BlobID: redstuff.BlobID{3}}, Size: 4, ETag: "e", Modified: 5}},
		&UploadEnded{Bucket: ObjectID{1}, Upload: "u1", Key: "k", Parts: 3, Completed: true},
		&SiteCreated{Site: ObjectID{1}, Owner: Address{2}, Resources: 3},
		&SiteUpdated{Site: ObjectID{1}, Version: 2, Put: 3, Removed: 4},
		&SiteDestroyed{Site: ObjectID{1}, Owner: Address{2}, Resources: 3},
		&SiteNameSet{Name: "blog", Owner: Address{2}, Site: ObjectID{1}},
		&ChallengeSeedFixed{Epoch: 2, Seed: [32]byte{1}, Blobs: 1000, Revealed: 4, SampleSize: 263},
		&ChallengePassed{Epoch: 2, Node: ObjectID{5}},
		&ChallengeFailed{Epoch: 2, Node: ObjectID{5}, Reason: FailNoReveal, Forfeited: 7, Consecutive: 2},
		&StakeSlashed{Epoch: 2, Node: ObjectID{5}, Burned: 100, BasisPoints: 1000},
		&StakeShiftPenalized{Node: ObjectID{5}, StakedWal: ObjectID{7}, ActiveEpochs: 1, Penalty: 10, Burned: 5, ToStakers: 5},
		&ProposalCreated{Proposal: [32]byte{8}, Epoch: 2, Proposer: ObjectID{5}, Changes: []ParamChange{{"protocol-version", 2}}},
		&ProposalAccepted{Proposal: [32]byte{8}, ApplyEpoch: 3},
		&ProposalRejected{Proposal: [32]byte{8}, Epoch: 2},
		&ParametersChanged{Proposal: [32]byte{8}, Epoch: 3, Changes: []ParamChange{{"protocol-version", 2}}},
	}
	if len(bodies) != len(eventTypes) {
		t.Fatalf("%d sample events for %d variants", len(bodies), len(eventTypes))
	}
	for i, b := range bodies {
		if b == nil {
			ev := Event{Body: &EpochChangeStart{Epoch: 1}}
			raw := ev.Encode()
			raw[48] = byte(i) // seq 8, height 8, digest 32, then the variant
			if _, err := DecodeEvent(raw); err == nil {
				t.Errorf("reserved event variant %d decodes", i)
			}
			continue
		}
		if b.eventVariant() != uint32(i) {
			t.Fatalf("%T has variant %d, want %d", b, b.eventVariant(), i)
		}
		ev := Event{Seq: uint64(i), Height: 4, TxDigest: [32]byte{3}, Body: b}
		got, err := DecodeEvent(ev.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ev, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", ev.Type(), diff)
		}
	}
}

func TestObjectRoundTrip(t *testing.T) {
	objs := []Object{
		&Storage{ID: ObjectID{1}, Owner: Address{2}, StartEpoch: 1, EndEpoch: 5, Size: 100},
		&Blob{ID: ObjectID{3}, Owner: Address{2}, RegisteredEpoch: 1, BlobID: redstuff.BlobID{4}, Size: 5, EncodingType: 1,
			Certified: true, CertifiedEpoch: 2, Storage: Storage{ID: ObjectID{1}, StartEpoch: 1, EndEpoch: 5, Size: 100},
			Deletable: true, Attributes: []Attribute{{"a", "1"}, {"b", ""}}},
		&Blob{ID: ObjectID{3}, Shared: true, Funds: 7},
		&StakedWal{ID: ObjectID{5}, Owner: Address{2}, NodeID: ObjectID{6}, Principal: 7, ActivationEpoch: 1,
			Withdrawing: true, WithdrawEpoch: 3, Shares: 6},
		&Bucket{ID: ObjectID{7}, Owner: Address{2}, Name: "photos", Created: 5, Entries: 3, Uploads: 1},
	}
	for _, o := range objs {
		got, err := DecodeObject(EncodeObject(o))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(o, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", o.Kind(), diff)
		}
	}
	// Attributes must be sorted and unique.
	bad := &Blob{Attributes: []Attribute{{"b", ""}, {"a", ""}}}
	if _, err := DecodeObject(EncodeObject(bad)); err == nil {
		t.Error("unsorted attributes decoded")
	}
}

// TestStateRoundTrip round-trips the state records with every field set, the sync deadline
// and pre-active withdrawal fields included.
func TestStateRoundTrip(t *testing.T) {
	params := Params{ChainID: "c", NShards: 10, EpochDuration: 3600, GenesisTime: 5, MaxEpochsAhead: 53,
		MaxCommitteeSize: 111, MinFee: 1000, BurnBasisPoints: 300, FaucetMax: 9, EpochSyncTimeout: 600}
	if got, err := DecodeParams(params.Encode()); err != nil || !cmp.Equal(got, params) {
		t.Errorf("params: %v\n%s", err, cmp.Diff(params, got))
	}
	// The index byte fee is a trailing field, encoded only when non-zero (in a genesis,
	// after the nodes): a chain without it keeps its encoding and genesis digest.
	withFee := params
	withFee.IndexByteFee = 7
	if got, err := DecodeParams(withFee.Encode()); err != nil || !cmp.Equal(got, withFee) {
		t.Errorf("params with index fee: %v\n%s", err, cmp.Diff(withFee, got))
	}
	if len(withFee.Encode()) != len(params.Encode())+8 {
		t.Error("a zero index byte fee is not omitted")
	}
	if _, err := DecodeParams(append(params.Encode(), make([]byte, 8)...)); err == nil {
		t.Error("an explicit zero index byte fee decoded")
	}
	g := &Genesis{Params: withFee, Accounts: []GenesisAccount{{Address: Address{1}, Balance: 2}}}
	if got, err := DecodeGenesis(g.Encode()); err != nil || !cmp.Equal(got, g) {
		t.Errorf("genesis with index fee: %v\n%s", err, cmp.Diff(g, got))
	}
	sys := SystemState{Epoch: 3, EpochState: StateEpochChangeSync, SyncWeight: 4, EpochStart: 5, TotalCapacity: 6,
		NextCapacity: 7, StoragePrice: 8, WritePrice: 9, Supply: 10, Burned: 11, NextEventSeq: 12, Height: 13, Time: 14,
		SyncDeadline: 15}
	if got, err := DecodeSystemState(sys.Encode()); err != nil || !cmp.Equal(got, sys) {
		t.Errorf("system state: %v\n%s", err, cmp.Diff(sys, got))
	}
	pool := Pool{NodeID: ObjectID{1}, Operator: Address{2}, Name: "n", NetworkAddress: "n:1", PublicKey: [48]byte{3},
		CommissionRate: 100, HasNextCommission: true, NextCommissionRate: 200, NextCommissionEpoch: 4,
		StoragePriceVote: 5, WritePriceVote: 6, CapacityVote: 7, Wal: 8, Shares: 9,
		PendingStake: []EpochAmount{{1, 10}}, PendingWithdraw: []EpochAmount{{2, 11}}, PreActiveWithdraw: []EpochAmount{{1, 3}},
		WithdrawReserve: 12, Commission: 13, LastSyncDone: 14, LastSyncOnTime: 13, RegisteredEpoch: 1}
	if got, err := DecodePool(pool.Encode()); err != nil || !cmp.Equal(got, pool) {
		t.Errorf("pool: %v\n%s", err, cmp.Diff(pool, got))
	}
	// A zero EpochSyncTimeout means half an epoch.
	if got := (&Params{EpochDuration: 3600}).SyncTimeout(); got != 1800 {
		t.Errorf("default sync timeout %d, want 1800", got)
	}
	if got := params.SyncTimeout(); got != 600 {
		t.Errorf("sync timeout %d, want 600", got)
	}
}

func TestAppHashVector(t *testing.T) {
	ws := WriteSet{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("b"), Deleted: true}}
	h1 := ws.Hash([32]byte{})
	h2 := ws.Hash(h1)
	if h1 == h2 || h1 == (WriteSet{}).Hash([32]byte{}) {
		t.Fatal("app hash does not depend on its inputs")
	}
	// Pinned: the app hash is consensus-critical.
	if got, want := hex.EncodeToString(h1[:]), "d6337e84e2a3519d9dd7454828896fec76ebc13d409490e3338545e6347bc2a6"; got != want {
		t.Errorf("app hash %s, want %s", got, want)
	}
}

// FuzzDecodeTx: decoding never panics, and whatever decodes re-encodes to the same bytes.
func FuzzDecodeTx(f *testing.F) {
	key := testAccountKey("fuzz")
	for i, p := range samplePayloads() {
		if p == nil {
			continue // reserved variant
		}
		tx := &Tx{Nonce: uint64(i), Fee: 1000, Payload: p}
		tx.Sign("walrus-test", key)
		f.Add(tx.Encode())
	}
	f.Add([]byte{})
	f.Add(make([]byte, 200))
	f.Fuzz(func(t *testing.T, b []byte) {
		tx, err := DecodeTx(b)
		if err != nil {
			if CodeOf(err) != CodeMalformed {
				t.Fatalf("decode error with code %d: %v", CodeOf(err), err)
			}
			return
		}
		if re := tx.Encode(); !bytes.Equal(re, b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, re)
		}
		_ = tx.Digest("walrus-test")
		_ = tx.Verify("walrus-test")
	})
}

// FuzzDeliverTx: DeliverTx of arbitrary bytes never panics, and a failed transaction changes
// nothing (or, once admitted, only the sender's fee and nonce).
func FuzzDeliverTx(f *testing.F) {
	env := rejectionFixture(f)
	h := BlockHeader{Height: env.height + 1, Time: env.now + int64(time.Second)}
	empty, _ := runBlock(f, env.store, h, nil)
	for _, line := range []string{
		"alice transfer bob 1", "alice reserve 1MiB 2", "alice register sFree x 100",
		"alice reserve-register 1MiB 2 y 100", "alice reserve-register 1000 2 y 100",
		"alice certify bPerm", "alice delete bDel", "alice extend bCert 1", "n1-op sync-done n1",
	} {
		raw, _ := env.buildTx(strings.Fields(line))
		f.Add(raw)
	}
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ws, res := runBlock(t, env.store, h, [][]byte{b})
		r := res[0]
		if r.Code == CodeOK {
			return
		}
		if r.Fee == 0 {
			if !writeSetsEqual(ws, empty) {
				t.Fatalf("rejected transaction (%s) changed the state", r.Log)
			}
			return
		}
		checkOnlyFeeCharged(t, env, empty, ws, b, r.Fee)
	})
}

func TestTxData(t *testing.T) {
	r := TxResult{Created: []ObjectID{{1}, {2}}}
	ids, err := DecodeTxData(r.Data())
	if err != nil || !cmp.Equal(ids, r.Created) {
		t.Fatalf("%v %v", ids, err)
	}
	if ids, err := DecodeTxData((&TxResult{}).Data()); err != nil || len(ids) != 0 {
		t.Fatalf("empty: %v %v", ids, err)
	}
}
