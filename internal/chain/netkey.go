package chain

import (
	"math/big"
)

// NetworkKeySize is the size of a node's network public key: an ed25519 public key, the key
// of the TLS certificate the node serves its API with. Clients and peers pin it (they accept
// the node's certificate only if its key is this one), as Walrus's network_public_key.
const NetworkKeySize = 32

// Edwards25519 constants for checking network keys: the field prime p = 2^255 - 19, the
// curve constant d = -121665/121666 and the y-coordinates of the points of order 8.
var (
	edP  = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	edD  = edConst("52036cee2b6ffe738cc740797779e89800700a4d4141d8ab75eb4dca135978a3")
	edY8 = edLE("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
)

func edConst(hexBE string) *big.Int {
	v, ok := new(big.Int).SetString(hexBE, 16)
	if !ok {
		panic("chain: bad curve constant")
	}
	return v
}

// edLE decodes a little-endian point encoding's y-coordinate (sign bit cleared).
func edLE(hexLE string) *big.Int {
	be := make([]byte, 32)
	for i := range 32 {
		v := edConst(hexLE[2*i : 2*i+2])
		be[31-i] = byte(v.Int64())
	}
	be[0] &= 0x7f
	return new(big.Int).SetBytes(be)
}

// checkNetworkKey validates a network public key: the canonical encoding of a point of the
// ed25519 curve that is not of small order (the identity and the points of order 2, 4 and
// 8 are refused: a certificate over them proves nothing). It is deterministic.
func checkNetworkKey(k [NetworkKeySize]byte) error {
	bad := func(why string) error { return errorf(ErrInvalidArgument, "network public key %x: %s", k[:4], why) }
	be := make([]byte, 32)
	for i := range 32 {
		be[31-i] = k[i]
	}
	sign := be[0] >> 7
	be[0] &= 0x7f
	y := new(big.Int).SetBytes(be)
	if y.Cmp(edP) >= 0 {
		return bad("not canonical")
	}
	pMinus := func(v *big.Int) *big.Int { return new(big.Int).Sub(edP, v) }
	one := big.NewInt(1)
	for _, small := range []*big.Int{big.NewInt(0), one, pMinus(one), edY8, pMinus(edY8)} {
		if y.Cmp(small) == 0 {
			return bad("small order")
		}
	}
	// x² = (y² - 1) / (d·y² + 1) must have a square root, and x = 0 only with sign 0.
	y2 := new(big.Int).Mul(y, y)
	y2.Mod(y2, edP)
	u := new(big.Int).Sub(y2, one)
	u.Mod(u, edP)
	v := new(big.Int).Mul(edD, y2)
	v.Add(v, one)
	v.Mod(v, edP)
	vInv := new(big.Int).ModInverse(v, edP)
	if vInv == nil {
		return bad("not on the curve")
	}
	x2 := u.Mul(u, vInv)
	x2.Mod(x2, edP)
	if x2.Sign() == 0 {
		if sign == 1 {
			return bad("not canonical")
		}
		return nil
	}
	if big.Jacobi(x2, edP) != 1 {
		return bad("not on the curve")
	}
	return nil
}
