package chain

// Golden-script tests: testdata/*.txt hold whole interactions with the state machine and the
// expected output of each command. Run with -update to rewrite the expected output.
//
// File format: a command is one line, optionally followed by body lines, then a line "----";
// its expected output follows, up to a blank line. Lines starting with '#' between commands
// are comments.
//
// Commands (amounts are FROST or take a WAL suffix; sizes take KiB/MiB/GiB; durations are Go
// durations):
//
//	genesis [shards=N] [epoch=DUR] [sync-timeout=DUR] [max-ahead=N] [committee-size=N] [min-fee=N] [burn=BP]
//	        [faucet=AMT] [faucet-account=AMT] [faucet-total=AMT] [sig-fee=AMT] [node-fee=AMT] [index-fee=AMT]
//	  account NAME AMOUNT
//	  node NAME stake=AMT [operator=NAME] [commission=BP] [storage-price=N] [write-price=N] [capacity=SIZE] [shards=0-2,5]
//	block [+DUR]                one block; each body line is a transaction "SENDER OP ARGS..."
//	tx SENDER OP ARGS...        a block with one transaction, 1s after the previous block
//	advance DUR [step=DUR]      empty blocks every step (default: one block) until DUR has passed
//	sync-all                    a block in which every current committee node sends EpochSyncDone
//	state | accounts NAME... | blob OBJ... | storage OBJ... | status BLOB... | committee [epoch=N]
//	pools | staked OBJ... | owned NAME KIND | events [cursor=N] [limit=N] | supply | hash
//	bucket OWNER NAME | buckets OWNER [after=NAME] [limit=N] | entry OWNER BUCKET KEY
//	list OWNER BUCKET [prefix=P] [delim=D] [after=KEY] [limit=N]   every page, until the end
//	uploads OWNER BUCKET [prefix=P] [limit=N] | parts OWNER BUCKET UPLOAD [after=N] [limit=N]
//
// Challenge and governance commands and options are listed in script_challenge_test.go.
//
// Transaction operations are listed in (*scriptEnv).payload. Every transaction accepts
// nonce=N, fee=AMT (default: the minimum for the payload), bad-sig and chain=ID modifiers.

import (
	"bufio"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/redstuff"
	"golang.org/x/crypto/blake2b"
)

var update = flag.Bool("update", false, "rewrite the expected output of golden scripts")

type scriptCase struct {
	line   int
	cmd    string
	body   []string
	output string
}

func parseScript(t testing.TB, data string) []scriptCase {
	var cases []scriptCase
	sc := bufio.NewScanner(strings.NewReader(data))
	lineNo := 0
	var cur *scriptCase
	inOutput := false
	var out []string
	flush := func() {
		if cur != nil {
			cur.output = strings.Join(out, "\n")
			cases = append(cases, *cur)
		}
		cur, inOutput, out = nil, false, nil
	}
	for sc.Scan() {
		lineNo++
		l := sc.Text()
		switch {
		case inOutput:
			if l == "" {
				flush()
				continue
			}
			out = append(out, l)
		case cur == nil:
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			cur = &scriptCase{line: lineNo, cmd: l}
		case l == "----":
			inOutput = true
		default:
			cur.body = append(cur.body, l)
		}
	}
	if cur != nil {
		if !inOutput {
			t.Fatalf("line %d: command without ---- separator", cur.line)
		}
		flush()
	}
	return cases
}

// rewriteScript replaces the expected outputs in data with got, keeping comments.
func rewriteScript(data string, got []string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(data))
	i := 0
	state := 0 // 0 between cases, 1 in command, 2 in output
	for sc.Scan() {
		l := sc.Text()
		switch state {
		case 0:
			b.WriteString(l + "\n")
			if l != "" && !strings.HasPrefix(l, "#") {
				state = 1
			}
		case 1:
			b.WriteString(l + "\n")
			if l == "----" {
				if got[i] != "" {
					b.WriteString(got[i] + "\n")
				}
				i++
				state = 2
			}
		case 2:
			if l == "" {
				b.WriteString("\n")
				state = 0
			}
		}
	}
	return b.String()
}

func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no scripts")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			cases := parseScript(t, string(raw))
			got1, hash1 := runScript(t, cases)
			if *update {
				if err := os.WriteFile(f, []byte(rewriteScript(string(raw), got1)), 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				for i, c := range cases {
					if got1[i] != c.output {
						t.Errorf("%s:%d: %s\n--- got\n%s\n--- want\n%s", f, c.line, c.cmd, got1[i], c.output)
					}
				}
			}
			// Determinism: a second run gives the same outputs and state.
			got2, hash2 := runScript(t, cases)
			if hash1 != hash2 || !slices.Equal(got1, got2) {
				t.Errorf("second run differs: state hash %x vs %x", hash1, hash2)
			}
		})
	}
}

func runScript(t testing.TB, cases []scriptCase) ([]string, [32]byte) {
	env := newScriptEnv(t)
	out := make([]string, len(cases))
	for i, c := range cases {
		var b strings.Builder
		env.out = &b
		env.run(c)
		out[i] = strings.TrimRight(b.String(), "\n")
		if err := env.invariants(); err != nil {
			t.Fatalf("line %d: %s: invariant broken: %v", c.line, c.cmd, err)
		}
	}
	return out, StateHash(env.store)
}

type testNode struct {
	name     string
	sk       *bls.SecretKey
	operator string
	id       ObjectID
}

type testBlobSpec struct {
	root [32]byte
	id   redstuff.BlobID
	size uint64
}

type scriptEnv struct {
	t       testing.TB
	out     *strings.Builder
	line    int
	store   *MemStore
	app     *App
	height  uint64
	now     int64
	appHash [32]byte
	names   map[[32]byte]string
	objects map[string]ObjectID
	nodes   map[string]*testNode
	blobs   map[string]testBlobSpec
}

func newScriptEnv(t testing.TB) *scriptEnv {
	st := NewMemStore()
	app, err := New(st)
	if err != nil {
		t.Fatal(err)
	}
	return &scriptEnv{
		t: t, store: st, app: app, now: genesisTime,
		names:   map[[32]byte]string{},
		objects: map[string]ObjectID{},
		nodes:   map[string]*testNode{},
		blobs:   map[string]testBlobSpec{},
	}
}

// genesisTime is 2026-01-01T00:00:00Z.
const genesisTime = int64(1767225600) * int64(time.Second)

func (e *scriptEnv) fatalf(format string, args ...any) {
	e.t.Helper()
	e.t.Fatalf("line %d: "+format, append([]any{e.line}, args...)...)
}

func (e *scriptEnv) printf(format string, args ...any) { fmt.Fprintf(e.out, format, args...) }

func (e *scriptEnv) nameOf(x [32]byte) string { return e.names[x] }

// nameIDs replaces the IDs in a log message (0x-hex or, for blob IDs, base64) by their names.
func (e *scriptEnv) nameIDs(s string) string {
	for id, name := range e.names { // replacements commute: the IDs are distinct
		s = strings.ReplaceAll(s, "0x"+hex.EncodeToString(id[:]), name)
		s = strings.ReplaceAll(s, redstuff.BlobID(id).String(), name)
	}
	return s
}

func (e *scriptEnv) name32(x [32]byte) string {
	if n := e.names[x]; n != "" {
		return n
	}
	return "0x" + hex.EncodeToString(x[:4]) + "…"
}

func (e *scriptEnv) account(name string) Address {
	a := testAddress(name)
	e.names[a] = name
	return a
}

func (e *scriptEnv) object(name string) ObjectID {
	if id, ok := e.objects[name]; ok {
		return id
	}
	if n, ok := e.nodes[name]; ok && n.id != (ObjectID{}) {
		return n.id
	}
	// An unknown name stands for an object that does not exist.
	id := ObjectID(blake2b.Sum256([]byte("test-missing:" + name)))
	e.names[id] = name
	return id
}

func (e *scriptEnv) nameObject(name string, id ObjectID) {
	e.objects[name] = id
	e.names[id] = name
}

func (e *scriptEnv) blob(name string, size uint64) testBlobSpec {
	if b, ok := e.blobs[name]; ok && (size == 0 || b.size == size) {
		return b
	}
	if size == 0 {
		e.fatalf("unknown blob %q", name)
	}
	root, id := testBlob(name, size)
	spec := testBlobSpec{root: root, id: id, size: size}
	e.blobs[name] = spec
	e.names[id] = name
	return spec
}

func (e *scriptEnv) node(name string) *testNode {
	if n, ok := e.nodes[name]; ok {
		return n
	}
	n := &testNode{name: name, sk: testBLSKey(e.t, name)}
	e.nodes[name] = n
	return n
}

// args splits "k=v" options from positional arguments.
type args struct {
	pos  []string
	opts map[string]string
	used map[string]bool
}

func parseArgs(fields []string) *args {
	a := &args{opts: map[string]string{}, used: map[string]bool{}}
	for _, f := range fields {
		if k, v, ok := strings.Cut(f, "="); ok {
			a.opts[k] = v
		} else {
			a.pos = append(a.pos, f)
		}
	}
	return a
}

func (a *args) opt(k string) (string, bool) {
	v, ok := a.opts[k]
	a.used[k] = true
	return v, ok
}

func (a *args) flag(k string) bool {
	for i, p := range a.pos {
		if p == k {
			a.pos = slices.Delete(a.pos, i, i+1)
			return true
		}
	}
	return false
}

func (e *scriptEnv) arg(a *args, i int) string {
	if i >= len(a.pos) {
		e.fatalf("missing argument %d", i+1)
	}
	return a.pos[i]
}

func (e *scriptEnv) amount(s string) uint64 {
	mult := uint64(1)
	switch {
	case strings.HasSuffix(s, "WAL"):
		s, mult = strings.TrimSuffix(s, "WAL"), FrostPerWAL
	case strings.HasSuffix(s, "FROST"):
		s = strings.TrimSuffix(s, "FROST")
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		e.fatalf("bad amount %q", s)
	}
	return v * mult
}

func (e *scriptEnv) size(s string) uint64 {
	mult := uint64(1)
	for _, u := range []struct {
		suffix string
		m      uint64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.m
			break
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		e.fatalf("bad size %q", s)
	}
	return v * mult
}

func (e *scriptEnv) u32(s string) uint32 {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		e.fatalf("bad number %q", s)
	}
	return uint32(v)
}

// shards parses shard ranges "0-2,5".
func (e *scriptEnv) shards(s string) []uint16 {
	var out []uint16
	for _, r := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		if !isRange {
			hi = lo
		}
		for i := e.u32(lo); i <= e.u32(hi); i++ {
			out = append(out, uint16(i))
		}
	}
	return out
}

func (e *scriptEnv) duration(s string) int64 {
	d, err := time.ParseDuration(s)
	if err != nil {
		e.fatalf("bad duration %q", s)
	}
	return int64(d)
}

func (e *scriptEnv) optAmount(a *args, k string, def uint64) uint64 {
	if v, ok := a.opt(k); ok {
		return e.amount(v)
	}
	return def
}

func (e *scriptEnv) run(c scriptCase) {
	e.line = c.line
	fields := strings.Fields(c.cmd)
	a := parseArgs(fields[1:])
	switch fields[0] {
	case "genesis":
		e.genesis(a, c.body)
	case "block":
		d := int64(time.Second)
		if len(a.pos) > 0 {
			d = e.duration(strings.TrimPrefix(a.pos[0], "+"))
		}
		e.block(d, c.body)
	case "tx":
		e.block(int64(time.Second), []string{strings.Join(fields[1:], " ")})
	case "advance":
		total := e.duration(e.arg(a, 0))
		step := total
		if s, ok := a.opt("step"); ok {
			step = e.duration(s)
		}
		for done := int64(0); done < total; done += step {
			e.block(min(step, total-done), nil)
		}
		if e.out.Len() == 0 {
			e.printf("(no events)\n")
		}
	case "sync-all":
		sys := e.system()
		cmt, _ := getCommittee(e.store, sys.Epoch)
		var body []string
		for _, m := range cmt.Members {
			n := e.nodes[e.names[m.NodeID]]
			body = append(body, fmt.Sprintf("%s sync-done %s", n.operator, n.name))
		}
		e.block(int64(time.Second), body)
	case "state":
		s := e.system()
		e.printf("epoch=%d state=%s sync-weight=%d epoch-start=+%s capacity=%d next-capacity=%d storage-price=%d write-price=%d\n",
			s.Epoch, s.EpochState, s.SyncWeight, time.Duration(s.EpochStart-genesisTime), s.TotalCapacity, s.NextCapacity, s.StoragePrice, s.WritePrice)
		e.printf("supply=%d burned=%d next-event=%d height=%d\n", s.Supply, s.Burned, s.NextEventSeq, s.Height)
		if s.EpochState == StateEpochChangeSync && s.SyncDeadline != genesisTime {
			e.printf("sync-deadline=+%s\n", time.Duration(s.SyncDeadline-genesisTime))
		}
	case "accounts":
		for _, n := range a.pos {
			acct := e.app.View().Account(e.account(n))
			e.printf("%s: balance=%d nonce=%d\n", n, acct.Balance, acct.Nonce)
		}
	case "blob", "storage", "staked":
		for _, n := range a.pos {
			o, err := e.app.View().Object(e.object(n))
			if err != nil {
				e.printf("%s: %v\n", n, err)
				continue
			}
			e.printf("%s: %s\n", n, e.formatObject(o))
		}
	case "status":
		for _, n := range a.pos {
			st := e.app.View().BlobStatus(e.blob(n, 0).id)
			kind, end, cert := st.Summary(e.system().Epoch)
			e.printf("%s: %s end=%d certified=%v | permanent %d/%d end %d/%d, deletable %d/%d end %d/%d, initial-certified=%s, invalid=%s\n",
				n, kind, end, cert, st.PermanentRegistered, st.PermanentCertified, st.PermanentRegisteredEnd, st.PermanentCertifiedEnd,
				st.DeletableRegistered, st.DeletableCertified, st.DeletableRegisteredEnd, st.DeletableCertifiedEnd,
				optEpoch(st.HasInitialCertifiedEpoch, st.InitialCertifiedEpoch), optEpoch(st.Invalid, st.InvalidatedEpoch))
		}
	case "committee":
		epoch := e.system().Epoch
		if v, ok := a.opt("epoch"); ok {
			epoch = e.u32(v)
		}
		out, err := e.app.Query(QueryCommittee, be32le(epoch))
		if err != nil {
			e.printf("error: %v\n", err)
			return
		}
		info, err := DecodeCommitteeInfo(out)
		if err != nil {
			e.fatalf("%v", err)
		}
		e.printf("epoch %d, %d shards, %d members\n", info.Epoch, info.NShards, len(info.Members))
		for _, m := range info.Members {
			e.printf("  %s %s shards=%s\n", e.name32(m.NodeID), m.NetworkAddress, shardRanges(m.Shards))
		}
	case "pools":
		for _, p := range allPools(e.app.base) {
			e.printf("%s: wal=%d shares=%d pending-stake=%s pending-withdraw=%s reserve=%d commission=%d rate=%d votes=%d/%d/%d sync=%d",
				e.name32(p.NodeID), p.Wal, p.Shares, scheduled(p.PendingStake), scheduled(p.PendingWithdraw),
				p.WithdrawReserve, p.Commission, p.CommissionRate, p.StoragePriceVote, p.WritePriceVote, p.CapacityVote, p.LastSyncDone)
			// Printed only when they say something, to keep the outputs short.
			if len(p.PreActiveWithdraw) > 0 {
				e.printf(" pre-active-withdraw=%s", scheduled(p.PreActiveWithdraw))
			}
			if p.LastSyncOnTime != p.LastSyncDone {
				e.printf(" sync-on-time=%d", p.LastSyncOnTime)
			}
			e.printf("\n")
		}
	case "owned":
		kinds := map[string]ObjectKind{"storage": KindStorage, "blob": KindBlob, "staked": KindStakedWal, "bucket": KindBucket}
		kind, ok := kinds[e.arg(a, 1)]
		if !ok {
			e.fatalf("bad kind %q", e.arg(a, 1))
		}
		out, err := e.app.Query(QueryOwned, OwnedRequest{Owner: e.account(e.arg(a, 0)), Kind: kind}.Encode())
		if err != nil {
			e.fatalf("%v", err)
		}
		page, err := DecodeObjectPage(out)
		if err != nil {
			e.fatalf("%v", err)
		}
		var names []string
		for _, o := range page.Objects {
			names = append(names, e.name32(o.ObjectID()))
		}
		slices.Sort(names)
		e.printf("%s\n", strings.Join(names, " "))
	case "events":
		var cursor uint64
		limit := uint32(0)
		if v, ok := a.opt("cursor"); ok {
			cursor = uint64(e.u32(v))
		}
		if v, ok := a.opt("limit"); ok {
			limit = e.u32(v)
		}
		out, err := e.app.Query(QueryEvents, EventsRequest{Cursor: cursor, Limit: limit}.Encode())
		if err != nil {
			e.fatalf("%v", err)
		}
		page, err := DecodeEventPage(out)
		if err != nil {
			e.fatalf("%v", err)
		}
		for _, ev := range page.Events {
			e.printf("%s\n", ev.text(e.nameOf))
		}
		e.printf("next=%d\n", page.Next)
	case "supply":
		summary, err := checkSupply(e.store)
		if err != nil {
			e.fatalf("%v", err)
		}
		e.printf("%s\n", summary)
	case "hash":
		e.printf("state=%x\napp=%x\n", StateHash(e.store), e.appHash)
	case "bucket", "buckets", "entry", "list", "uploads", "parts":
		e.bucketQuery(fields[0], a)
	case "site", "resource", "resources", "sitenames", "whois":
		e.siteQuery(fields[0], a)
	default:
		if !e.challengeCommand(fields[0], a) {
			e.fatalf("unknown command %q", fields[0])
		}
	}
}

func optEpoch(ok bool, e uint32) string {
	if !ok {
		return "none"
	}
	return strconv.Itoa(int(e))
}

func be32le(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

func scheduled(l []EpochAmount) string {
	var s []string
	for _, x := range l {
		s = append(s, fmt.Sprintf("%d@%d", x.Amount, x.Epoch))
	}
	return "[" + strings.Join(s, " ") + "]"
}

// shardRanges formats ascending shards as "0-3,7".
func shardRanges(s []uint16) string {
	var parts []string
	for i := 0; i < len(s); {
		j := i
		for j+1 < len(s) && s[j+1] == s[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, strconv.Itoa(int(s[i])))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", s[i], s[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

func (e *scriptEnv) formatObject(o Object) string {
	switch o := o.(type) {
	case *Storage:
		return fmt.Sprintf("storage owner=%s epochs=[%d,%d) size=%d", e.name32(o.Owner), o.StartEpoch, o.EndEpoch, o.Size)
	case *Blob:
		owner := e.name32(o.Owner)
		if o.Shared {
			owner = fmt.Sprintf("shared funds=%d", o.Funds)
		}
		var attrs []string
		for _, at := range o.Attributes {
			attrs = append(attrs, at.Key+"="+strconv.Quote(at.Value))
		}
		return fmt.Sprintf("blob %s owner=%s size=%d registered=%d certified=%s deletable=%v storage=%s[%d,%d) size=%d attrs={%s}",
			e.name32(o.BlobID), owner, o.Size, o.RegisteredEpoch, optEpoch(o.Certified, o.CertifiedEpoch), o.Deletable,
			e.name32(o.Storage.ID), o.Storage.StartEpoch, o.Storage.EndEpoch, o.Storage.Size, strings.Join(attrs, ","))
	case *StakedWal:
		st := "staked"
		if o.Withdrawing {
			st = fmt.Sprintf("withdrawing epoch=%d shares=%d", o.WithdrawEpoch, o.Shares)
		}
		return fmt.Sprintf("staked-wal owner=%s node=%s principal=%d activation=%d %s",
			e.name32(o.Owner), e.name32(o.NodeID), o.Principal, o.ActivationEpoch, st)
	}
	return fmt.Sprint(o)
}

func (e *scriptEnv) system() SystemState {
	s, err := e.app.View().System()
	if err != nil {
		e.fatalf("%v", err)
	}
	return s
}

func (e *scriptEnv) invariants() error {
	if !e.app.Initialized() {
		return nil
	}
	if _, err := checkSupply(e.store); err != nil {
		return err
	}
	if err := checkChallengeIndex(e.store); err != nil {
		return err
	}
	return checkCommitteeStake(e.store)
}

// checkCommitteeStake checks that no selected committee holds a pool without stake: every
// member of the current committee has active stake, and every member of an already selected
// next committee has stake for that epoch that can no longer leave before it. The genesis
// committee of epoch 0 is not selected but fixed by the genesis, which may give shards to
// nodes without stake.
func checkCommitteeStake(kv Store) error {
	sys := mustSystem(kv)
	var epochs []uint32
	if sys.Epoch > 0 {
		epochs = append(epochs, sys.Epoch)
	}
	if sys.EpochState == StateNextParamsSelected {
		epochs = append(epochs, sys.Epoch+1)
	}
	for _, epoch := range epochs {
		cmt, ok := getCommittee(kv, epoch)
		if !ok {
			return fmt.Errorf("no committee for epoch %d", epoch)
		}
		for _, m := range cmt.Members {
			p, ok := getPool(kv, m.NodeID)
			if !ok {
				return fmt.Errorf("committee %d: member %s has no pool", epoch, m.NodeID)
			}
			stake := p.Wal
			if epoch > sys.Epoch {
				stake = p.stakeAt(epoch)
			}
			if stake == 0 {
				return fmt.Errorf("committee %d: member %s holds %d shards with no stake", epoch, m.NodeID, len(m.Shards))
			}
		}
	}
	return nil
}

func (e *scriptEnv) genesis(a *args, body []string) {
	p := Params{
		ChainID:          "walrus-test",
		NShards:          10,
		EpochDuration:    int64(time.Hour),
		GenesisTime:      genesisTime,
		MaxEpochsAhead:   5,
		MaxCommitteeSize: 10,
		MinFee:           1000,
		BurnBasisPoints:  300,
	}
	if v, ok := a.opt("shards"); ok {
		p.NShards = uint16(e.u32(v))
	}
	if v, ok := a.opt("epoch"); ok {
		p.EpochDuration = e.duration(v)
	}
	if v, ok := a.opt("sync-timeout"); ok {
		p.EpochSyncTimeout = e.duration(v)
	}
	if v, ok := a.opt("max-ahead"); ok {
		p.MaxEpochsAhead = e.u32(v)
	}
	if v, ok := a.opt("committee-size"); ok {
		p.MaxCommitteeSize = e.u32(v)
	}
	p.MinFee = e.optAmount(a, "min-fee", p.MinFee)
	if v, ok := a.opt("burn"); ok {
		p.BurnBasisPoints = uint16(e.u32(v))
	}
	p.FaucetMax = e.optAmount(a, "faucet", 0)
	p.FaucetAccountMax = e.optAmount(a, "faucet-account", 100*p.FaucetMax)
	p.FaucetTotalMax = e.optAmount(a, "faucet-total", 100*p.FaucetAccountMax)
	p.SignatureFee = e.optAmount(a, "sig-fee", 0)
	p.NodeRegistrationFee = e.optAmount(a, "node-fee", 0)
	p.IndexByteFee = e.optAmount(a, "index-fee", 0)
	e.challengeGenesis(a, &p)
	g := &Genesis{Params: p}
	var order []*testNode
	for _, l := range body {
		f := strings.Fields(l)
		la := parseArgs(f[1:])
		switch f[0] {
		case "account":
			g.Accounts = append(g.Accounts, GenesisAccount{Address: e.account(e.arg(la, 0)), Balance: e.amount(e.arg(la, 1))})
		case "node":
			n := e.node(e.arg(la, 0))
			n.operator = n.name + "-op"
			if v, ok := la.opt("operator"); ok {
				n.operator = v
			}
			op := e.account(n.operator)
			gn := GenesisNode{
				Name: n.name, NetworkAddress: n.name + ".walrus.test:9185", Operator: op,
				PublicKey: n.sk.PublicKey().Bytes(), NetworkPublicKey: testNetKey(n.name),
				ProofOfPossession: n.sk.ProvePossession(0, op).Bytes(),
				CommissionRate:    uint16(e.optAmount(la, "commission", 1000)),
				StoragePrice:      e.optAmount(la, "storage-price", 1000),
				WritePrice:        e.optAmount(la, "write-price", 2000),
				Capacity:          1 << 30,
				Stake:             e.optAmount(la, "stake", 0),
			}
			if v, ok := la.opt("capacity"); ok {
				gn.Capacity = e.size(v)
			}
			if v, ok := la.opt("shards"); ok {
				gn.Shards = e.shards(v)
			}
			g.Nodes = append(g.Nodes, gn)
			order = append(order, n)
		default:
			e.fatalf("bad genesis line %q", l)
		}
	}
	_, evs, err := e.app.InitChain(g)
	if err != nil {
		e.printf("error: %v\n", err)
		return
	}
	// Name the genesis objects: node i is object 2i, its StakedWal 2i+1.
	digest := g.Digest()
	for i, n := range order {
		n.id = DeriveObjectID(digest, uint64(2*i))
		e.names[n.id] = n.name
		e.nameObject(n.name+"-stake", DeriveObjectID(digest, uint64(2*i+1)))
	}
	e.commit()
	for _, ev := range evs {
		e.printf("%s\n", ev.text(e.nameOf))
	}
}

func (e *scriptEnv) commit() {
	ws, err := e.app.Commit()
	if err != nil {
		e.fatalf("commit: %v", err)
	}
	e.appHash = ws.Hash(e.appHash)
}

// block runs one block d after the previous one with the given transactions.
func (e *scriptEnv) block(d int64, txs []string) {
	e.height++
	e.now += d
	evs, err := e.app.BeginBlock(BlockHeader{Height: e.height, Time: e.now})
	if err != nil {
		e.fatalf("BeginBlock: %v", err)
	}
	for _, ev := range evs {
		e.printf("%s\n", ev.text(e.nameOf))
	}
	for _, l := range txs {
		fields := strings.Fields(l)
		raw, names := e.buildTx(fields)
		res := e.app.DeliverTx(raw)
		e.printf("%s %s: ", fields[0], fields[1])
		if res.Code != CodeOK {
			e.printf("error %s (%d): %s\n", CodeName(res.Code), res.Code, e.nameIDs(res.Log))
			continue
		}
		e.printf("ok fee=%d", res.Fee)
		if fields[1] == "propose" && len(names) > 0 && names[0] != "" {
			e.nameObject(names[0], res.Digest) // a proposal's ID is its digest
		}
		for i, id := range res.Created {
			if i < len(names) && names[i] != "" {
				e.nameObject(names[i], id)
				if n, ok := e.nodes[names[i]]; ok {
					n.id = id
				}
			}
			e.printf(" created=%s", e.name32(id))
		}
		e.printf("\n")
		for _, ev := range res.Events {
			e.printf("  %s\n", ev.text(e.nameOf))
		}
	}
	if _, err := e.app.EndBlock(); err != nil {
		e.fatalf("EndBlock: %v", err)
	}
	e.commit()
}

// buildTx builds and signs a transaction "SENDER OP ARGS..." and returns it with the names
// to give the objects it creates.
func (e *scriptEnv) buildTx(fields []string) ([]byte, []string) {
	if len(fields) < 2 {
		e.fatalf("transaction needs a sender and an operation")
	}
	sender := fields[0]
	a := parseArgs(fields[2:])
	if fields[1] == "raw" {
		b, err := hex.DecodeString(e.arg(a, 0))
		if err != nil {
			e.fatalf("bad hex")
		}
		return b, nil
	}
	addr := e.account(sender)
	p, names := e.payload(sender, fields[1], a)
	tx := &Tx{Payload: p, Fee: e.app.params.MinFeeFor(p), Nonce: getAccount(e.app.pending(), addr).Nonce}
	if v, ok := a.opt("nonce"); ok {
		tx.Nonce = uint64(e.u32(v))
	}
	tx.Fee = e.optAmount(a, "fee", tx.Fee)
	chainID := e.app.params.ChainID
	if v, ok := a.opt("chain"); ok {
		chainID = v
	}
	tx.Sign(chainID, testAccountKey(sender))
	if a.flag("bad-sig") {
		tx.Signature[0] ^= 1
	}
	return tx.Encode(), names
}

func (e *scriptEnv) as(a *args, def string) []string {
	if v, ok := a.opt("as"); ok {
		return []string{v}
	}
	return []string{def}
}

// certificate builds a certificate over msg signed by the named members of the committee of
// the current epoch. Options: signers=a,b (default: all members), impostor=NODE (that
// member's signature is made with a key outside the committee), bitmap=HEX (override).
func (e *scriptEnv) certificate(a *args, msg []byte) Certificate {
	sys := mustSystem(e.app.pending())
	cmt, _ := getCommittee(e.app.pending(), sys.Epoch)
	var signers []string
	if v, ok := a.opt("signers"); ok {
		signers = strings.Split(v, ",")
	} else {
		for _, m := range cmt.Members {
			signers = append(signers, e.names[m.NodeID])
		}
	}
	impostor, _ := a.opt("impostor")
	bitmap := make([]byte, (len(cmt.Members)+7)/8)
	var sigs []bls.Signature
	for _, s := range signers {
		n := e.node(s)
		idx := cmt.index(n.id)
		if idx >= 0 {
			bitmap[idx/8] |= 1 << (idx % 8)
		}
		sk := n.sk
		if s == impostor {
			sk = testBLSKey(e.t, "impostor-"+s)
		}
		sigs = append(sigs, sk.Sign(msg))
	}
	if v, ok := a.opt("bitmap"); ok {
		var err error
		if bitmap, err = hex.DecodeString(v); err != nil {
			e.fatalf("bad bitmap")
		}
	}
	agg, err := bls.AggregateSignatures(sigs)
	if err != nil {
		e.fatalf("aggregate: %v", err)
	}
	return Certificate{Signers: bitmap, Message: msg, Signature: agg.Bytes()}
}

func (e *scriptEnv) optEpochOr(a *args, def uint32) uint32 {
	if v, ok := a.opt("epoch"); ok {
		return e.u32(v)
	}
	return def
}

// payload builds the payload of an operation. Operations:
//
//	transfer TO AMT | faucet AMT | reserve SIZE EPOCHS [as=N] | split-size S SIZE [as=N]
//	split-epoch S EPOCH [as=N] | fuse S1 S2 | give OBJ TO | destroy S
//	register S BLOB SIZE [deletable] [as=N] [wrong-id] [encoding=N]
//	certify OBJ [signers=..] [impostor=..] [bitmap=..] [epoch=N] [blob=B] [permanent]
//	extend OBJ EPOCHS | extend-with OBJ S | delete OBJ | burn OBJ
//	attr OBJ KEY VALUE | rm-attr OBJ KEY | invalidate BLOB [signers=..] [epoch=N]
//	share OBJ FUNDS | fund OBJ AMT | extend-shared OBJ EPOCHS
//	register-node NAME [commission=BP] [storage-price=N] [write-price=N] [capacity=SIZE] [bad-pop] [small-order-netkey]
//	set-votes NODE STORAGE WRITE CAPACITY | set-commission NODE BP | set-info NODE NAME ADDR
//	stake NODE AMT [as=N] | request-withdraw SW | withdraw SW | collect NODE
//	sync-done NODE [epoch=N] | slash VOTER CANDIDATE | transfer-memo TO AMT MEMO
//	mkbucket NAME [as=N] | rmbucket NAME | put BUCKET KEY... [blob=B] [obj=OBJ] [size=N] [etag=E] [type=T] [meta=K:V,...] [manifest]
//	    [keylen=N (one more key of N bytes)] [count=N (N more keys n0000...)]
//	del BUCKET KEY... [keylen=N] [count=N] | mkupload BUCKET KEY UPLOAD-ID [type=T] [meta=K:V,...]
//	part BUCKET UPLOAD NUMBER [blob=B] [obj=OBJ] [size=N] [etag=E]
//	complete BUCKET UPLOAD [blob=B] [size=N] [etag=E] [manifest] | abort BUCKET UPLOAD
func (e *scriptEnv) payload(sender, op string, a *args) (Payload, []string) {
	if p, names, ok := e.bucketPayload(op, a); ok {
		return p, names
	}
	if p, names, ok := e.sitePayload(op, a); ok {
		return p, names
	}
	if p, names, ok := e.challengePayload(op, a); ok {
		return p, names
	}
	sys := mustSystem(e.app.pending()) // the state of the block being built
	switch op {
	case "transfer":
		return &Transfer{To: e.account(e.arg(a, 0)), Amount: e.amount(e.arg(a, 1))}, nil
	case "transfer-memo":
		return &TransferWithMemo{To: e.account(e.arg(a, 0)), Amount: e.amount(e.arg(a, 1)), Memo: []byte(e.arg(a, 2))}, nil
	case "faucet":
		return &Faucet{Amount: e.amount(e.arg(a, 0))}, nil
	case "reserve":
		return &ReserveSpace{Size: e.size(e.arg(a, 0)), EpochsAhead: e.u32(e.arg(a, 1))}, e.as(a, "")
	case "split-size":
		return &SplitStorageBySize{Storage: e.object(e.arg(a, 0)), Size: e.size(e.arg(a, 1))}, e.as(a, "")
	case "split-epoch":
		return &SplitStorageByEpoch{Storage: e.object(e.arg(a, 0)), Epoch: e.u32(e.arg(a, 1))}, e.as(a, "")
	case "fuse":
		return &FuseStorage{First: e.object(e.arg(a, 0)), Second: e.object(e.arg(a, 1))}, nil
	case "give":
		return &TransferObject{Object: e.object(e.arg(a, 0)), To: e.account(e.arg(a, 1))}, nil
	case "destroy":
		return &DestroyStorage{Storage: e.object(e.arg(a, 0))}, nil
	case "register":
		deletable := a.flag("deletable")
		wrongID := a.flag("wrong-id")
		spec := e.blob(e.arg(a, 1), e.size(e.arg(a, 2)))
		p := &RegisterBlob{Storage: e.object(e.arg(a, 0)), BlobID: spec.id, RootHash: spec.root, Size: spec.size,
			EncodingType: uint8(e.optAmount(a, "encoding", redstuff.EncodingRS2)), Deletable: deletable}
		if wrongID {
			p.RootHash[0] ^= 1
		}
		return p, e.as(a, e.arg(a, 1))
	case "reserve-register":
		// reserve-register SIZE EPOCHS BLOB BLOBSIZE [deletable] [wrong-id] [as=NAME]: the
		// Storage is named NAME-storage.
		spec := e.blob(e.arg(a, 2), e.size(e.arg(a, 3)))
		p := &ReserveAndRegister{StorageSize: e.size(e.arg(a, 0)), EpochsAhead: e.u32(e.arg(a, 1)), BlobID: spec.id,
			RootHash: spec.root, Size: spec.size, EncodingType: uint8(e.optAmount(a, "encoding", redstuff.EncodingRS2)),
			Deletable: a.flag("deletable")}
		if a.flag("wrong-id") {
			p.RootHash[0] ^= 1
		}
		name := e.as(a, e.arg(a, 2))[0]
		return p, []string{name + "-storage", name}
	case "certify":
		obj := e.object(e.arg(a, 0))
		b, err := NewView(e.app.pending()).Blob(obj)
		var blobID redstuff.BlobID
		deletable := false
		if err == nil {
			blobID, deletable = b.BlobID, b.Deletable
		}
		if v, ok := a.opt("blob"); ok {
			blobID = e.blob(v, 0).id
		}
		if a.flag("permanent") {
			deletable = false
		}
		msg := ConfirmationMessage(e.optEpochOr(a, sys.Epoch), blobID, deletable, obj)
		return &CertifyBlob{Blob: obj, Certificate: e.certificate(a, msg)}, nil
	case "extend":
		return &ExtendBlob{Blob: e.object(e.arg(a, 0)), Epochs: e.u32(e.arg(a, 1))}, nil
	case "extend-with":
		return &ExtendBlobWithStorage{Blob: e.object(e.arg(a, 0)), Storage: e.object(e.arg(a, 1))}, nil
	case "delete":
		return &DeleteBlob{Blob: e.object(e.arg(a, 0))}, nil
	case "burn":
		return &BurnBlob{Blob: e.object(e.arg(a, 0))}, nil
	case "attr":
		return &SetBlobAttribute{Blob: e.object(e.arg(a, 0)), Key: e.arg(a, 1), Value: e.arg(a, 2)}, nil
	case "rm-attr":
		return &RemoveBlobAttribute{Blob: e.object(e.arg(a, 0)), Key: e.arg(a, 1)}, nil
	case "invalidate":
		msg := InvalidBlobMessage(e.optEpochOr(a, sys.Epoch), e.blob(e.arg(a, 0), 0).id)
		return &InvalidateBlobID{Certificate: e.certificate(a, msg)}, nil
	case "share":
		return &ShareBlob{Blob: e.object(e.arg(a, 0)), Funds: e.amount(e.arg(a, 1))}, nil
	case "fund":
		return &FundSharedBlob{Blob: e.object(e.arg(a, 0)), Amount: e.amount(e.arg(a, 1))}, nil
	case "extend-shared":
		return &ExtendSharedBlob{Blob: e.object(e.arg(a, 0)), Epochs: e.u32(e.arg(a, 1))}, nil
	case "register-node":
		n := e.node(e.arg(a, 0))
		n.operator = sender
		addr := e.account(sender)
		pop := n.sk.ProvePossession(sys.Epoch, addr)
		if a.flag("bad-pop") {
			pop = n.sk.ProvePossession(sys.Epoch+1, addr)
		}
		capacity := uint64(1 << 30)
		if v, ok := a.opt("capacity"); ok {
			capacity = e.size(v)
		}
		netKey := testNetKey(n.name)
		if a.flag("small-order-netkey") {
			netKey = [NetworkKeySize]byte{1} // the identity point
		}
		return &RegisterNode{
			Name: n.name, NetworkAddress: n.name + ".walrus.test:9185", PublicKey: n.sk.PublicKey().Bytes(),
			NetworkPublicKey:  netKey,
			ProofOfPossession: pop.Bytes(), CommissionRate: uint16(e.optAmount(a, "commission", 1000)),
			StoragePrice: e.optAmount(a, "storage-price", 1000), WritePrice: e.optAmount(a, "write-price", 2000),
			Capacity: capacity,
		}, []string{n.name}
	case "set-votes":
		return &SetNodeVotes{Node: e.object(e.arg(a, 0)), StoragePrice: e.amount(e.arg(a, 1)),
			WritePrice: e.amount(e.arg(a, 2)), Capacity: e.size(e.arg(a, 3))}, nil
	case "set-commission":
		return &SetCommissionRate{Node: e.object(e.arg(a, 0)), Rate: uint16(e.u32(e.arg(a, 1)))}, nil
	case "set-info":
		p := &SetNodeInfo{Node: e.object(e.arg(a, 0)), Name: e.arg(a, 1), NetworkAddress: e.arg(a, 2)}
		if v, ok := a.opt("netkey"); ok {
			p.NetworkPublicKey = testNetKey(v)
			if v == "small-order" {
				p.NetworkPublicKey = [NetworkKeySize]byte{1} // the identity point
			}
		}
		return p, nil
	case "stake":
		return &Stake{Node: e.object(e.arg(a, 0)), Amount: e.amount(e.arg(a, 1))}, e.as(a, "")
	case "request-withdraw":
		return &RequestWithdrawStake{StakedWal: e.object(e.arg(a, 0))}, nil
	case "withdraw":
		return &WithdrawStake{StakedWal: e.object(e.arg(a, 0))}, nil
	case "collect":
		return &CollectCommission{Node: e.object(e.arg(a, 0))}, nil
	case "sync-done":
		return &EpochSyncDone{Node: e.object(e.arg(a, 0)), Epoch: e.optEpochOr(a, sys.Epoch)}, nil
	case "slash":
		return &VoteToSlash{Voter: e.object(e.arg(a, 0)), Candidate: e.object(e.arg(a, 1))}, nil
	}
	e.fatalf("unknown operation %q", op)
	return nil, nil
}
