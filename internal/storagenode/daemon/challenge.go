package daemon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/committee"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/api"
)

// The challenge driver (docs/challenges.md) reads the chain's challenge state of the
// current epoch every Config.ChallengePoll, and at once when the event follower sees the
// state change (an epoch change, a fixed seed, a certificate), and acts on its phase:
//
//   - reveal: it first installs the pre-seed window (every blob of the challenge index is
//     refused), then reveals its BLS signature over chain.ChallengeRevealMessage;
//   - answer: it installs its own items (answered by POST /v1/challenges/answers) and the
//     window over the challenged blobs of every member without a certificate; it fetches
//     and verifies the answers of every other member without a certificate and signs an
//     attestation for those that verify (served by GET /v1/challenges/{epoch}/
//     attestations/{node}); and it collects attestations of itself from members holding
//     2f+1 shards and submits the aggregate certificate; for every other member it attested
//     that still has no certificate certGrace polls after this node could build one
//     (the member is down, or slow), it submits that member's certificate too;
//   - unchallenged or settled: it closes the window.
//
// An item whose blob, on the chain at verification time, is invalid or has no live
// certified registration (deleted during the epoch: the index changes only at epoch
// starts) is excused, in the verification of other members and in the node's own check
// alike (challenger.judge, challengeExcused): every node drops such data. The member's
// answer plays no part in it.
//
// Everything is retried at the next poll until the epoch ends: a peer that is down,
// slow, or restarted is asked again, with no deadline tighter than the epoch.

// challengeCounters are the challenge metrics.
type challengeCounters struct {
	verified, failed, excused, answerBytes, verifyNanos, passed, certificates, othersCertificates atomic.Int64
}

func registerChallengeMetrics(reg *prometheus.Registry, c *challengeCounters, node *sn.Node) {
	counter := func(name, help string, v *atomic.Int64, scale float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v.Load()) * scale })
	}
	reg.MustRegister(
		counter("walrus_node_challenge_verified_total", "Challenged members whose answers this node verified and attested.", &c.verified, 1),
		counter("walrus_node_challenge_failed_total", "Challenged members whose answers failed this node's verification (each counted once per epoch).", &c.failed, 1),
		counter("walrus_node_challenge_excused_total", "Challenged blobs excused in a verification pass (deleted or invalid on the chain since the epoch's index was fixed).", &c.excused, 1),
		counter("walrus_node_challenge_answer_bytes_total", "Bytes of challenge answers downloaded from other members.", &c.answerBytes, 1),
		counter("walrus_node_challenge_verify_seconds_total", "Time spent fetching and verifying other members' challenge answers.", &c.verifyNanos, 1e-9),
		counter("walrus_node_challenge_passed_total", "Epochs in which the chain recorded a certificate that this node passed its challenge.", &c.passed, 1),
		counter("walrus_node_challenge_certificates_total", "Challenge certificates this node submitted for itself.", &c.certificates, 1),
		counter("walrus_node_challenge_other_certificates_total", "Challenge certificates this node submitted for other members (which had none certGrace polls after this node could build it).", &c.othersCertificates, 1),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "walrus_node_challenge_items", Help: "This node's challenged items in the current epoch."},
			func() float64 { return float64(len(node.Challenge().Items)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "walrus_node_challenge_blocked_blobs", Help: "Blobs in the challenge window (served to no one) now."},
			func() float64 { return float64(len(node.Challenge().Blocked)) }),
	)
}

// challenger is the state of the challenge driver for the current epoch. It is used by
// the driver's goroutine only, except results (guarded by mu).
type challenger struct {
	d       *Daemon
	c       *challengeCounters
	chainID string

	epoch       uint32
	items       map[chain.ObjectID][]sn.ChallengeItem // items of members, fetched once per epoch
	verified    map[chain.ObjectID]bool               // members this node attested
	failed      map[chain.ObjectID]bool               // members whose answers failed once
	retryAt     map[chain.ObjectID]time.Time          // next verification attempt per member
	backoff     map[chain.ObjectID]time.Duration
	certs       map[chain.ObjectID]*certState // attestations collected, by attested member
	revealed    bool
	rebuilt     bool               // the test fault RebuildChallenged started in this epoch
	stopRebuild context.CancelFunc // ends it when the epoch ends

	mu      sync.Mutex // guards results
	results []sn.ChallengeResult
}

func newChallenger(d *Daemon, c *challengeCounters) *challenger {
	return &challenger{d: d, c: c}
}

// run polls the chain until ctx ends.
func (c *challenger) run(ctx context.Context) error {
	t := time.NewTicker(c.d.cfg.ChallengePoll)
	defer t.Stop()
	for {
		if err := c.step(ctx); err != nil && ctx.Err() == nil {
			if errors.Is(err, chain.ErrChallengesDisabled) {
				c.d.log.Info("storage challenges are disabled on this chain")
				return nil
			}
			c.d.log.Debug("challenge step failed; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-c.d.chalKick:
		}
	}
}

// step runs one poll of the challenge state.
func (c *challenger) step(ctx context.Context) error {
	d := c.d
	sys, err := d.chain.System(ctx)
	if err != nil {
		return err
	}
	cmt, err := d.view.committee(ctx, sys.Epoch)
	if err != nil {
		return err
	}
	var self *chain.ObjectID
	if cmt.self >= 0 {
		self = &cmt.info.Members[cmt.self].NodeID
	}
	st, err := d.chain.Challenge(ctx, sys.Epoch, self)
	if err != nil {
		return err
	}
	if st.Epoch != c.epoch {
		c.newEpoch(st.Epoch)
	}
	res := sn.ChallengeResult{Epoch: st.Epoch, Phase: st.Phase.String(), Items: len(st.Items)}
	if self != nil {
		if m, ok := st.Member(*self); ok {
			res.Revealed, res.Passed = m.Revealed, m.Passed
		}
	}
	defer func() {
		res.Verified, res.Failed = len(c.verified), len(c.failed)
		res.Blocked = len(d.node.Challenge().Blocked)
		if self != nil {
			if cs := c.certs[*self]; cs != nil {
				res.Attestations = len(cs.sigs)
				for i := range cs.sigs {
					res.AttestedShards += cmt.weight(i)
				}
			}
		}
		c.record(res)
	}()
	switch st.Phase {
	case chain.PhaseReveal:
		open, err := c.movedShards(ctx, cmt)
		if err := errors.Join(err, d.node.SetChallenge(sn.Challenge{Epoch: st.Epoch, BlockCertifiedBefore: st.Epoch, SyncOpen: open})); err != nil {
			return err
		}
		if self == nil || res.Revealed || c.revealed {
			return nil
		}
		return c.reveal(ctx, *self, st.Epoch)
	case chain.PhaseAnswer:
		return c.answerPhase(ctx, cmt, self, &st)
	default:
		return d.node.SetChallenge(sn.Challenge{})
	}
}

// movedShards returns the shards whose owner changed at the start of cmt's epoch: the
// window leaves them open to shard sync by their new owner (sn.Challenge.SyncOpen). If
// the previous committee cannot be read it returns none with the error (the step is
// retried), which only delays the new owner's sync.
func (c *challenger) movedShards(ctx context.Context, cmt *committeeView) ([]uint16, error) {
	if cmt.epoch == 0 {
		return nil, nil
	}
	prev, err := c.d.view.committee(ctx, cmt.epoch-1)
	if err != nil {
		return nil, fmt.Errorf("committee before epoch %d: %w", cmt.epoch, err)
	}
	return movedShards(prev, cmt), nil
}

// movedShards returns, in order, the shards whose owner (by node ID) in cur is not their
// owner in prev.
func movedShards(prev, cur *committeeView) []uint16 {
	var out []uint16
	for s, o := range cur.owner {
		if s >= len(prev.owner) || prev.info.Members[prev.owner[s]].NodeID != cur.info.Members[o].NodeID {
			out = append(out, uint16(s))
		}
	}
	return out
}

// newEpoch resets the per-epoch state.
func (c *challenger) newEpoch(epoch uint32) {
	c.epoch = epoch
	c.items = map[chain.ObjectID][]sn.ChallengeItem{}
	c.verified = map[chain.ObjectID]bool{}
	c.failed = map[chain.ObjectID]bool{}
	c.retryAt = map[chain.ObjectID]time.Time{}
	c.backoff = map[chain.ObjectID]time.Duration{}
	c.certs = map[chain.ObjectID]*certState{}
	c.revealed = false
	c.rebuilt = false
	if c.stopRebuild != nil {
		c.stopRebuild()
		c.stopRebuild = nil
	}
}

// record stores the result of the current epoch, keeping MaxChallengeResults epochs.
func (c *challenger) record(r sn.ChallengeResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.results); n > 0 && c.results[n-1].Epoch == r.Epoch {
		if r.Passed && !c.results[n-1].Passed {
			c.c.passed.Add(1)
		}
		c.results[n-1] = r
	} else {
		if r.Passed {
			c.c.passed.Add(1)
		}
		c.results = append(c.results, r)
		if len(c.results) > sn.MaxChallengeResults {
			c.results = c.results[1:]
		}
	}
	c.d.node.SetChallengeResults(c.results)
}

// reveal submits the node's reveal for epoch.
func (c *challenger) reveal(ctx context.Context, self chain.ObjectID, epoch uint32) error {
	if c.chainID == "" {
		id, err := c.d.chain.ChainID(ctx)
		if err != nil {
			return err
		}
		c.chainID = id
	}
	sig := c.d.key.Sign(chain.ChallengeRevealMessage(c.chainID, epoch)).Bytes()
	if _, err := c.d.chain.RevealChallenge(ctx, c.d.wallet, self, epoch, sig); err != nil && !errors.Is(err, chain.ErrAlreadyDone) {
		return fmt.Errorf("reveal for epoch %d: %w", epoch, err)
	}
	c.revealed = true
	c.d.log.Info("challenge seed share revealed", "epoch", epoch)
	return nil
}

// toItems converts the chain's items.
func toItems(in []chain.ChallengeItem) []sn.ChallengeItem {
	out := make([]sn.ChallengeItem, len(in))
	for i, it := range in {
		out[i] = sn.ChallengeItem{Blob: it.Blob, Shard: it.Shard, Axis: redstuff.Axis(it.Axis), Symbol: uint16(it.Symbol)}
	}
	return out
}

// answerPhase installs the window and the node's items, verifies the other members and
// collects the node's certificate.
func (c *challenger) answerPhase(ctx context.Context, cmt *committeeView, self *chain.ObjectID, st *chain.ChallengeState) error {
	d := c.d
	var own []sn.ChallengeItem
	if self != nil {
		own = toItems(st.Items)
		c.items[*self] = own
	}
	// The window: the challenged blobs of every member without a certificate.
	blocked := map[redstuff.BlobID]struct{}{}
	var errs []error
	for _, m := range st.Members {
		if m.Passed {
			continue
		}
		items, ok := c.items[m.Node]
		if !ok {
			s, err := d.chain.Challenge(ctx, st.Epoch, &m.Node)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			items = toItems(s.Items)
			c.items[m.Node] = items
		}
		for _, it := range items {
			blocked[it.Blob] = struct{}{}
		}
	}
	ids := make([]redstuff.BlobID, 0, len(blocked))
	for id := range blocked {
		ids = append(ids, id)
	}
	open, err := c.movedShards(ctx, cmt)
	if err != nil {
		errs = append(errs, err)
	}
	w := sn.Challenge{Epoch: st.Epoch, Items: own, Blocked: ids, SyncOpen: open}
	if len(errs) > 0 {
		// Until every member's items are known, keep the whole index closed.
		w.BlockCertifiedBefore = st.Epoch
	}
	if err := d.node.SetChallenge(w); err != nil {
		return err
	}
	for i, m := range st.Members {
		if i >= len(cmt.info.Members) || cmt.info.Members[i].NodeID != m.Node {
			return fmt.Errorf("challenge members of epoch %d do not match the committee", st.Epoch)
		}
		if m.Passed || c.verified[m.Node] || (self != nil && m.Node == *self) || time.Now().Before(c.retryAt[m.Node]) {
			continue
		}
		if err := c.verify(ctx, cmt, i, st.Epoch); err != nil {
			errs = append(errs, err)
		}
	}
	if self != nil && d.cfg.TestFaults.RebuildChallenged && d.cfg.TestFaults.LazyFraction > 0 && !c.rebuilt {
		c.rebuilt = true
		epoch := st.Epoch
		rctx, cancel := context.WithCancel(ctx)
		c.stopRebuild = cancel
		d.goRun(rctx, "rebuild attempt (test fault)", func(ctx context.Context) error {
			d.rebuildChallenged(ctx, epoch, own)
			return nil
		})
	}
	for i, m := range st.Members {
		if m.Passed {
			continue
		}
		mine := self != nil && m.Node == *self
		if mine && d.cfg.TestFaults.NoOwnCertificate {
			continue
		}
		// Another member's certificate: only a member does it, for members it attested.
		if !mine && (self == nil || !c.verified[m.Node]) {
			continue
		}
		if err := c.collect(ctx, cmt, i, mine, st.Epoch); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// verify fetches and checks the answers of member i; if all verify it signs and records
// the attestation.
func (c *challenger) verify(ctx context.Context, cmt *committeeView, i int, epoch uint32) (err error) {
	d := c.d
	m := cmt.info.Members[i]
	items, ok := c.items[m.NodeID]
	if !ok {
		return nil
	}
	start := time.Now()
	defer func() {
		c.c.verifyNanos.Add(int64(time.Since(start)))
		if err != nil {
			b := max(c.backoff[m.NodeID]*2, d.cfg.ChallengePoll)
			c.backoff[m.NodeID] = min(b, d.cfg.RetryMax)
			c.retryAt[m.NodeID] = time.Now().Add(c.backoff[m.NodeID])
		}
	}()
	client, err := d.view.client(peerOf(m))
	if err != nil {
		return err
	}
	page := uint32(api.DefaultMaxChallengeAnswers)
	status := map[redstuff.BlobID]bool{}
	for from := 0; from < len(items); {
		req := sn.SignChallengeAnswers(d.key, epoch, uint32(from), page)
		answers, err := client.ChallengeAnswers(ctx, req, int(page), redstuff.MaxSymbolSize)
		if err != nil {
			return fmt.Errorf("challenge answers of %s: %w", m.NodeID, err)
		}
		if len(answers) == 0 {
			return fmt.Errorf("challenge answers of %s: empty page at %d of %d", m.NodeID, from, len(items))
		}
		for j, a := range answers {
			if from+j >= len(items) {
				break
			}
			if a.Symbol != nil {
				c.c.answerBytes.Add(int64(len(a.Symbol.Data)))
			}
			err := c.judge(ctx, epoch, items[from+j], a, status)
			if errors.Is(err, sn.ErrChallengeFailed) {
				if !c.failed[m.NodeID] {
					c.failed[m.NodeID] = true
					c.c.failed.Add(1)
					d.log.Warn("a member's challenge answer failed verification", "member", m.NodeID, "epoch", epoch, "item", from+j, "err", err)
				}
				return err
			}
			if err != nil {
				return err // the metadata is not here yet: retry
			}
		}
		from += len(answers)
	}
	msg := chain.ChallengePassedMessage(epoch, m.NodeID)
	if err := d.node.SetAttestation(epoch, m.NodeID, sn.SignedMessage{Message: msg, Signature: d.key.Sign(msg)}); err != nil {
		return err
	}
	c.verified[m.NodeID] = true
	c.c.verified.Add(1)
	d.log.Debug("member's challenge answers verified", "member", m.NodeID, "epoch", epoch, "items", len(items))
	return nil
}

// certState is what a node collected towards the certificate of one member in an epoch.
type certState struct {
	sigs     map[int]bls.Signature // attestations, by member index
	quorumAt time.Time             // when sigs first held 2f+1 shards
	lastSent time.Time             // last submission
}

// certGrace is how many polls a node waits, after it could build the certificate of
// another member, for that member (or anyone) to submit it before submitting it itself.
// Any member may submit any certificate; waiting keeps the usual case at one transaction
// per member while a member that is down, slow or cut off still gets its certificate.
const certGrace = 8

// collect gathers attestations of member i (own: this node) from the other members and,
// once they hold 2f+1 shards, submits the certificate: at once for this node, certGrace
// polls later for another member that still has none.
func (c *challenger) collect(ctx context.Context, cmt *committeeView, target int, own bool, epoch uint32) error {
	d := c.d
	node := cmt.info.Members[target].NodeID
	cs := c.certs[node]
	if cs == nil {
		cs = &certState{sigs: map[int]bls.Signature{}}
		c.certs[node] = cs
	}
	msg := chain.ChallengePassedMessage(epoch, node)
	if own {
		if _, ok := cs.sigs[cmt.self]; !ok {
			// A node attests itself once it can answer every item from its own store.
			answers, err := d.node.ChallengeAnswers(epoch, 0, len(c.items[node]))
			if err == nil && c.allVerify(ctx, epoch, c.items[node], answers) {
				cs.sigs[cmt.self] = d.key.Sign(msg)
			}
		}
	} else if _, ok := cs.sigs[cmt.self]; !ok {
		cs.sigs[cmt.self] = d.key.Sign(msg) // the caller checked that it verified the member
	}
	var errs []error
	for i, m := range cmt.info.Members {
		if _, ok := cs.sigs[i]; ok || i == cmt.self {
			continue
		}
		client, err := d.view.client(peerOf(m))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		att, err := client.Attestation(ctx, epoch, sn.ObjectID(node))
		if err != nil {
			// A member that is down, or has not attested yet, is asked again at the next
			// poll; only this node's own collection reports it.
			if own && !errors.Is(err, sn.ErrNotAttested) {
				errs = append(errs, err)
			}
			continue
		}
		if string(att.Message) != string(msg) || att.Verify(cmt.keys[i]) != nil {
			d.badPeer("challenge_attestation", m.NodeID.String(), redstuff.BlobID{}, 1, errors.New("wrong message or signature"))
			continue
		}
		cs.sigs[i] = att.Signature
	}
	weight := 0
	for i := range cs.sigs {
		weight += cmt.weight(i)
	}
	if !committee.Quorum(weight, int(cmt.info.NShards)) {
		return errors.Join(errs...)
	}
	if cs.quorumAt.IsZero() {
		cs.quorumAt = time.Now()
	}
	if time.Since(cs.lastSent) < 4*d.cfg.ChallengePoll ||
		(!own && time.Since(cs.quorumAt) < certGrace*d.cfg.ChallengePoll) {
		return errors.Join(errs...)
	}
	signers := make([]byte, (len(cmt.info.Members)+7)/8)
	idx := make([]int, 0, len(cs.sigs))
	for i := range cs.sigs {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	sigs := make([]bls.Signature, 0, len(idx))
	for _, i := range idx {
		signers[i/8] |= 1 << (i % 8)
		sigs = append(sigs, cs.sigs[i])
	}
	agg, err := bls.AggregateSignatures(sigs)
	if err != nil {
		return err
	}
	cs.lastSent = time.Now()
	cert := &chain.ChallengeCertificate{Epoch: epoch, Node: node, Signers: signers, Signature: agg.Bytes()}
	if _, err := d.chain.SubmitChallengeCertificate(ctx, d.wallet, cert); err != nil && !errors.Is(err, chain.ErrAlreadyDone) {
		return fmt.Errorf("challenge certificate of %s for epoch %d: %w", node, epoch, err)
	}
	if own {
		c.c.certificates.Add(1)
		d.log.Info("challenge certificate submitted", "epoch", epoch, "signers", len(idx), "shards", weight)
	} else {
		c.c.othersCertificates.Add(1)
		d.log.Info("challenge certificate of another member submitted", "member", node, "epoch", epoch, "signers", len(idx), "shards", weight)
	}
	return errors.Join(errs...)
}

// allVerify reports whether every answer verifies against the node's metadata or is
// excused (judge).
func (c *challenger) allVerify(ctx context.Context, epoch uint32, items []sn.ChallengeItem, answers []sn.ChallengeAnswer) bool {
	if len(answers) != len(items) {
		return false
	}
	status := map[redstuff.BlobID]bool{}
	for i, it := range items {
		if c.judge(ctx, epoch, it, answers[i], status) != nil {
			return false
		}
	}
	return true
}

// judge decides one answer to an item of the challenge of epoch: nil if the answer
// verifies against the node's metadata, or if the item is excused because the chain says
// now that its blob has no live certified registration in epoch (challengeExcused); the
// error of the verification otherwise (wrapping sn.ErrChallengeFailed, or
// sn.ErrMissingMetadata if the answer could not be judged yet), or the error of the
// chain query (not judged: retried). The answer plays no part in the excuse: a missing
// answer is excused exactly when a wrong one would be. excused caches the chain's
// verdict by blob for one pass over a member's items.
//
// A missing answer asks the chain first (only the excuse can pass it, and its blob's
// metadata may already be gone here); any other answer asks the chain only if it does not
// verify, so answers of live blobs cost no chain query.
func (c *challenger) judge(ctx context.Context, epoch uint32, it sn.ChallengeItem, a sn.ChallengeAnswer, excused map[redstuff.BlobID]bool) error {
	isExcused := func() (bool, error) {
		if ex, ok := excused[it.Blob]; ok {
			return ex, nil
		}
		st, err := c.d.chain.BlobStatus(ctx, it.Blob)
		if err != nil {
			return false, fmt.Errorf("status of challenged blob %s: %w", it.Blob, err)
		}
		ex := challengeExcused(st, epoch)
		excused[it.Blob] = ex
		if ex {
			c.c.excused.Add(1)
		}
		return ex, nil
	}
	if a.Symbol == nil {
		if ex, err := isExcused(); err != nil || ex {
			return err
		}
	}
	err := c.d.node.VerifyChallengeAnswer(it, a)
	if err == nil || a.Symbol == nil || !errors.Is(err, sn.ErrChallengeFailed) && !errors.Is(err, sn.ErrMissingMetadata) {
		return err
	}
	if ex, xerr := isExcused(); xerr != nil || ex {
		return xerr
	}
	return err
}

// challengeExcused reports whether an item of the challenge of epoch on a blob whose
// chain status is st is excused: the blob ID is invalid, or no certified registration
// of it is live in epoch (every one that put the blob in the challenge index was deleted
// since). Nodes drop a blob's data only in such a state (when its last registration is
// deleted, or its ID is declared invalid), so an honest member may rightly lack it.
//
// A blob with a live certified registration is never excused, whatever else happened to
// it: deleting one of two registrations of a blob ID leaves the other, and the data must
// still be kept. The status's counts of certified registrations drop only on deletion and
// its end epochs never drop, so the test errs towards not excusing: a burned registration
// counts until its end epoch, and a deleted one's end epoch may keep an older live one
// counted past its own end; never the reverse.
func challengeExcused(st chain.BlobStatus, epoch uint32) bool {
	if st.Invalid {
		return true
	}
	permanent := st.PermanentCertified > 0 && st.PermanentCertifiedEnd > epoch
	deletable := st.DeletableCertified > 0 && st.DeletableCertifiedEnd > epoch
	return !permanent && !deletable
}

// ChallengeResults returns the node's challenge results by epoch, oldest first.
func (d *Daemon) ChallengeResults() []sn.ChallengeResult { return d.node.ChallengeResults() }

// IsMember implements api.CommitteeMembers with the chain's committees.
func (v *chainView) IsMember(ctx context.Context, epoch uint32, pk bls.PublicKey) (bool, error) {
	c, err := v.committee(ctx, epoch)
	if err != nil {
		return false, err
	}
	for _, k := range c.keys {
		if k.Equal(pk) {
			return true, nil
		}
	}
	return false, nil
}

// lazySync is blob sync on a lazy node (Config.TestFaults.LazyFraction): once a client's
// upload of the certified blob is over, it drops the fraction of its slivers and repairs
// nothing.
func (s *blobSyncer) lazySync(id redstuff.BlobID, e *syncEntry) (done bool, wait time.Duration) {
	if wait := s.ingestWait(id, e); wait > 0 {
		return false, wait
	}
	n, err := s.d.node.DropSlivers(id, s.d.cfg.TestFaults.LazyFraction)
	if err != nil {
		s.d.log.Warn("lazy node: dropping slivers failed", "blob", id, "err", err)
		return false, 0
	}
	if n > 0 {
		s.d.log.Info("lazy node (test fault): dropped slivers", "blob", id, "slivers", n)
	}
	return true, 0
}
