package daemon

import (
	"testing"

	"github.com/walrus-go/walrus/internal/chain"
)

// TestChallengeExcuse checks the rule that excuses a challenged item from the chain's
// status of its blob (challengeExcused) in the epoch-5 challenge, with statuses as the
// chain leaves them after each history. The attacks are a lazy node that wants its
// dropped data excused (it must never be, while any certified registration of the blob
// lives) and a writer that deletes its own blob to make honest nodes fail (they must be
// excused, since every node drops the data).
func TestChallengeExcuse(t *testing.T) {
	const epoch = 5
	cases := []struct {
		name string
		st   chain.BlobStatus
		want bool
	}{
		{"attack: lazy node on a live permanent blob",
			chain.BlobStatus{PermanentRegistered: 1, PermanentRegisteredEnd: 9, PermanentCertified: 1, PermanentCertifiedEnd: 9}, false},
		{"attack: lazy node on a live deletable blob",
			chain.BlobStatus{DeletableRegistered: 1, DeletableRegisteredEnd: 9, DeletableCertified: 1, DeletableCertifiedEnd: 9}, false},
		// Two deletable registrations, one deleted: the counts drop by one, the other
		// registration keeps the blob live and the data must be kept.
		{"attack: one of two deletable registrations deleted",
			chain.BlobStatus{DeletableRegistered: 1, DeletableRegisteredEnd: 12, DeletableCertified: 1, DeletableCertifiedEnd: 12}, false},
		// A permanent registration outlives the deleted deletable one.
		{"attack: deletable registration deleted, permanent one live",
			chain.BlobStatus{PermanentRegistered: 1, PermanentRegisteredEnd: 7, PermanentCertified: 1, PermanentCertifiedEnd: 7, DeletableCertifiedEnd: 12}, false},
		// Burning a Blob object does not touch the status: still live, still challenged.
		{"attack: the owner burned its Blob object",
			chain.BlobStatus{PermanentRegistered: 1, PermanentRegisteredEnd: 9, PermanentCertified: 1, PermanentCertifiedEnd: 9}, false},
		// A new registration of a deleted blob ID is not certified yet: no node has to
		// hold the data before its certificate, and nobody needs the deleted copy.
		{"deleted, registered again but not certified",
			chain.BlobStatus{DeletableRegistered: 1, DeletableRegisteredEnd: 12, DeletableCertifiedEnd: 12}, true},
		{"writer deleted its only registration",
			chain.BlobStatus{DeletableRegisteredEnd: 12, DeletableCertifiedEnd: 12}, true},
		{"writer deleted both registrations",
			chain.BlobStatus{DeletableRegisteredEnd: 12, DeletableCertifiedEnd: 12, HasInitialCertifiedEpoch: true, InitialCertifiedEpoch: 2}, true},
		{"declared invalid",
			chain.BlobStatus{PermanentRegistered: 1, PermanentRegisteredEnd: 9, PermanentCertified: 1, PermanentCertifiedEnd: 9, Invalid: true, InvalidatedEpoch: 5}, true},
		// Certified registrations that ended by the challenge epoch are not live (the
		// index holds none of them in that epoch anyway).
		{"certified registration ended at the epoch",
			chain.BlobStatus{PermanentRegistered: 1, PermanentRegisteredEnd: epoch, PermanentCertified: 1, PermanentCertifiedEnd: epoch}, true},
		{"unknown blob ID", chain.BlobStatus{}, true},
	}
	for _, c := range cases {
		if got := challengeExcused(c.st, epoch); got != c.want {
			t.Errorf("%s: excused = %v, want %v (status %+v)", c.name, got, c.want, c.st)
		}
	}
}
