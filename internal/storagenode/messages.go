package storagenode

import (
	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// Intent types of Walrus protocol messages (the first byte of the 3-byte intent header).
const (
	IntentProofOfPossession = 0
	IntentBlobCertification = 1
	IntentInvalidBlobID     = 2
	IntentSyncShard         = 3
)

// intentVersion and appID complete the intent header: version 0, app "storage" (3).
const (
	intentVersion = 0
	appIDStorage  = 3
)

func protocolHeader(e *bcs.Encoder, intent uint8, epoch uint32) {
	e.U8(intent)
	e.U8(intentVersion)
	e.U8(appIDStorage)
	e.U32(epoch)
}

// ConfirmationMessage returns the BCS ProtocolMessage a node signs to confirm it stores a
// blob: intent (1, 0, 3) ‖ epoch u32 LE ‖ blob ID ‖ BlobPersistenceType, which is variant 0
// (permanent) or variant 1 followed by the 32-byte object ID (deletable). It is 40 or 72
// bytes long.
func ConfirmationMessage(epoch uint32, id redstuff.BlobID, p Persistence) []byte {
	e := bcs.NewEncoder(make([]byte, 0, 72))
	protocolHeader(e, IntentBlobCertification, epoch)
	e.Fixed(id[:])
	if p.Deletable {
		e.Variant(1)
		e.Fixed(p.ObjectID[:])
	} else {
		e.Variant(0)
	}
	return e.Out()
}

// InvalidBlobMessage returns the BCS ProtocolMessage a node signs to attest that a blob ID
// is invalid: intent (2, 0, 3) ‖ epoch u32 LE ‖ blob ID (39 bytes).
func InvalidBlobMessage(epoch uint32, id redstuff.BlobID) []byte {
	e := bcs.NewEncoder(make([]byte, 0, 39))
	protocolHeader(e, IntentInvalidBlobID, epoch)
	e.Fixed(id[:])
	return e.Out()
}
