package chain

import (
	"encoding/binary"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// Walrus protocol message intents (walrus-spec §3.3): a ProtocolMessage is the 3-byte intent
// (type, version 0, app ID 3) ‖ epoch u32 little-endian ‖ contents.
const (
	IntentBlobCertification = 1
	IntentInvalidBlobID     = 2
	IntentVersion           = 0
	IntentAppStorage        = 3
)

// Intents of storage challenges. Walrus uses intent types 0 to 6; these are ours, far from
// them so that a later Walrus intent does not collide.
const (
	// IntentChallengeReveal: a member's reveal for an epoch's challenge seed.
	IntentChallengeReveal = 64
	// IntentChallengePassed: an attestation that a node passed its challenge of an epoch.
	IntentChallengePassed = 65
)

// challengeRevealTag is the constant part of a reveal message.
const challengeRevealTag = "challenge"

// ChallengeRevealMessage returns the message a committee member signs to reveal its share of
// the challenge seed of epoch: intent (64, 0, 3) ‖ epoch u32 LE ‖ "challenge" ‖ chain ID.
// It depends on nothing a member can choose, so (BLS signatures being unique) each member
// has exactly one valid reveal per epoch and chain.
func ChallengeRevealMessage(chainID string, epoch uint32) []byte {
	m := protocolHeader(IntentChallengeReveal, epoch)
	m = append(m, challengeRevealTag...)
	return append(m, chainID...)
}

// ChallengePassedMessage returns the attestation a committee member signs once it has
// verified every challenged symbol of node for epoch: intent (65, 0, 3) ‖ epoch u32 LE ‖
// node ID. A [ChallengeCertificate] aggregates these signatures.
func ChallengePassedMessage(epoch uint32, node ObjectID) []byte {
	return append(protocolHeader(IntentChallengePassed, epoch), node[:]...)
}

// ConfirmationMessage returns the storage confirmation storage nodes sign and certificates
// carry: intent (1, 0, 3) ‖ epoch ‖ blob ID ‖ persistence, where persistence is 0 (permanent)
// or 1 followed by the 32-byte Blob object ID (deletable).
func ConfirmationMessage(epoch uint32, blobID redstuff.BlobID, deletable bool, object ObjectID) []byte {
	m := protocolHeader(IntentBlobCertification, epoch)
	m = append(m, blobID[:]...)
	if deletable {
		m = append(m, 1)
		m = append(m, object[:]...)
	} else {
		m = append(m, 0)
	}
	return m
}

// InvalidBlobMessage returns the message nodes sign to attest that a blob ID is invalid:
// intent (2, 0, 3) ‖ epoch ‖ blob ID.
func InvalidBlobMessage(epoch uint32, blobID redstuff.BlobID) []byte {
	return append(protocolHeader(IntentInvalidBlobID, epoch), blobID[:]...)
}

func protocolHeader(intent byte, epoch uint32) []byte {
	m := make([]byte, 7, 7+32+1+32)
	m[0], m[1], m[2] = intent, IntentVersion, IntentAppStorage
	binary.LittleEndian.PutUint32(m[3:], epoch)
	return m
}

// parseProtocolMessage checks the intent header and returns the epoch and contents.
func parseProtocolMessage(msg []byte, intent byte) (uint32, []byte, error) {
	if len(msg) < 7 || msg[0] != intent || msg[1] != IntentVersion || msg[2] != IntentAppStorage {
		return 0, nil, errorf(ErrBadCertificate, "message is not a protocol message of intent %d", intent)
	}
	return binary.LittleEndian.Uint32(msg[3:7]), msg[7:], nil
}

// parseConfirmation parses the contents of a confirmation. It is strict: nothing may follow
// the persistence type.
func parseConfirmation(contents []byte) (blobID redstuff.BlobID, deletable bool, object ObjectID, err error) {
	switch {
	case len(contents) == 33 && contents[32] == 0:
	case len(contents) == 65 && contents[32] == 1:
		deletable = true
		copy(object[:], contents[33:])
	default:
		return blobID, false, object, errorf(ErrBadCertificate, "malformed confirmation contents (%d bytes)", len(contents))
	}
	copy(blobID[:], contents[:32])
	return blobID, deletable, object, nil
}
