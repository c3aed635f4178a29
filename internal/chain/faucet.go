package chain

import "encoding/binary"

// The faucet mints WAL on test chains. It is bounded three ways, all fixed at genesis: one
// request mints at most Params.FaucetMax, one account receives at most
// Params.FaucetAccountMax over the chain's life, and the faucet mints at most
// Params.FaucetTotalMax in all. The amounts minted so far are kept under the keys "m/<address>"
// and "m" (keys.go).

func getU64(kv Store, k []byte) uint64 {
	b, ok := kv.Get(k)
	if !ok || len(b) != 8 {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

func putU64(kv Store, k []byte, v uint64) { kv.Set(k, binary.LittleEndian.AppendUint64(nil, v)) }

// FaucetMinted returns what the faucet minted to addr and what it minted in all.
func (v *View) FaucetMinted(addr Address) (account, total uint64) {
	return getU64(v.s, keyFaucet(addr)), getU64(v.s, []byte(keyFaucetTotal))
}

// checkFaucet returns nil if minting amount to addr would succeed on the state kv with
// system state sys, and otherwise the error execution would return. Admission (CheckTx,
// DeliverTx) and execution both use it, so a faucet request admitted because its mint pays
// the fee cannot then fail: a failing faucet request is either rejected before execution or
// paid for from the balance the sender already had, and its nonce advances.
func checkFaucet(p *Params, kv Store, sys *SystemState, addr Address, amount uint64) error {
	switch {
	case p.FaucetMax == 0 || amount > p.FaucetMax:
		return errorf(ErrFaucetDisabled, "amount %d, limit %d", amount, p.FaucetMax)
	case amount == 0:
		return errorf(ErrInvalidArgument, "zero amount")
	}
	mine, all := getU64(kv, keyFaucet(addr)), getU64(kv, []byte(keyFaucetTotal))
	if mine+amount < mine || mine+amount > p.FaucetAccountMax {
		return errorf(ErrFaucetDisabled, "account already received %d of its limit %d", mine, p.FaucetAccountMax)
	}
	if all+amount < all || all+amount > p.FaucetTotalMax {
		return errorf(ErrFaucetDisabled, "faucet already minted %d of its limit %d", all, p.FaucetTotalMax)
	}
	if _, err := add(sys.Supply, amount); err != nil {
		return err
	}
	if _, err := add(getAccount(kv, addr).Balance, amount); err != nil {
		return err
	}
	return nil
}

// recordFaucet counts a mint that checkFaucet allowed: the account's and the total amounts
// minted and the supply in sys. The caller credits the account and saves sys.
func recordFaucet(kv Store, sys *SystemState, addr Address, amount uint64) {
	putU64(kv, keyFaucet(addr), getU64(kv, keyFaucet(addr))+amount)
	putU64(kv, []byte(keyFaucetTotal), getU64(kv, []byte(keyFaucetTotal))+amount)
	sys.Supply += amount
}

func (c *ctx) execFaucet(p *Faucet) error {
	if err := checkFaucet(c.params, c.kv, &c.sys, c.sender, p.Amount); err != nil {
		return err
	}
	recordFaucet(c.kv, &c.sys, c.sender, p.Amount)
	c.credit(c.sender, p.Amount)
	return nil
}
