package bls

import "encoding/binary"

// Intent header of a Walrus proof-of-possession message: intent type 0 (proof of possession),
// intent version 0, app id 3 (storage).
var popIntent = [3]byte{0, 0, 3}

// PopMessageSize is the length of a proof-of-possession message: intent (3), epoch (4),
// address (32) and public key (48).
const PopMessageSize = 3 + 4 + 32 + PublicKeySize

// PopMessage returns the message a node signs to prove possession of the secret key of pk
// when registering pk for the account address in epoch: the BCS encoding of
// (0u8, 0u8, 3u8, epoch u32 little-endian, address [32]byte) followed by the 48 compressed key
// bytes appended raw (no length prefix), as Walrus's ProofOfPossessionMessage::to_bcs builds it.
// The result is newly allocated and owned by the caller.
func PopMessage(epoch uint32, address [32]byte, pk PublicKey) []byte {
	msg := make([]byte, 0, PopMessageSize)
	msg = append(msg, popIntent[:]...)
	msg = binary.LittleEndian.AppendUint32(msg, epoch)
	msg = append(msg, address[:]...)
	msg = append(msg, pk.b[:]...)
	return msg
}

// ProvePossession signs [PopMessage](epoch, address, sk.PublicKey()) under [DST], which is
// what Walrus's proof of possession is (see the package documentation for why the IETF POP tag
// is not used).
func (sk *SecretKey) ProvePossession(epoch uint32, address [32]byte) Signature {
	return sk.Sign(PopMessage(epoch, address, sk.PublicKey()))
}

// VerifyPossession checks a proof of possession of pk made for address in epoch. It returns
// nil on success, [ErrInvalidPublicKey] or [ErrInvalidSignature] for zero values and an error
// [ErrVerify] if the proof does not match.
func VerifyPossession(pk PublicKey, epoch uint32, address [32]byte, proof Signature) error {
	return Verify(pk, PopMessage(epoch, address, pk), proof)
}
