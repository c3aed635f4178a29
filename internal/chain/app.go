package chain

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/walrus-go/walrus/internal/bcs"
	"golang.org/x/crypto/blake2b"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// BlockHeader is what the state machine needs from a block header.
type BlockHeader struct {
	Height uint64
	// Time is the block's BFT time in unix nanoseconds (CometBFT header time). Epochs follow
	// it; the state machine never reads a clock.
	Time int64
}

// TxResult is the outcome of one transaction.
type TxResult struct {
	// Code is CodeOK or the code of the error; Log is the error message ("" on success).
	Code Code
	Log  string
	// Fee is the fee charged (0 if the transaction was rejected before execution).
	Fee uint64
	// Digest is the transaction digest (zero if the transaction did not decode).
	Digest [32]byte
	// Events are the events the transaction emitted (none on failure).
	Events []Event
	// Created lists the objects the transaction created, in creation order (none on
	// failure): for example the Storage of a reservation, the Blob of a registration, the
	// node ID of a node registration.
	Created []ObjectID
}

// Data returns the BCS encoding of Created (a vector of 32-byte object IDs), which the ABCI
// adapter returns as the transaction's result data; [DecodeTxData] reverses it.
func (r *TxResult) Data() []byte {
	e := bcs.NewEncoder(nil)
	e.Len(len(r.Created))
	for _, id := range r.Created {
		e.Fixed(id[:])
	}
	return e.Out()
}

// DecodeTxData decodes the result data of a transaction: the IDs of the objects it created.
func DecodeTxData(b []byte) ([]ObjectID, error) {
	d := bcs.NewDecoder(b)
	n := d.Len(maxListLen)
	var ids []ObjectID
	for i := 0; i < n && d.Err() == nil; i++ {
		ids = append(ids, fixed32(d))
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: tx data: %w", ErrMalformed, err)
	}
	return ids, nil
}

// BlockResult is the outcome of a whole block.
type BlockResult struct {
	// Events are the events of block processing (epoch changes); transaction events are in
	// TxResults.
	Events    []Event
	TxResults []TxResult
	// Writes is the block's write set, sorted by key: what Commit applies and what the app
	// hash covers (see [WriteSet.Hash]).
	Writes WriteSet
}

// App is the Walrus system state machine. It reads and writes only the Store it was created
// with, and only at Commit; until then a block's writes are buffered.
//
// The driver calls, for each block, BeginBlock, DeliverTx for each transaction, EndBlock
// (which returns the block's sorted write set for the app hash) and Commit (which applies the
// write set to the store); or FinalizeBlock, which does the first three. InitChain is called
// once on an empty store and is followed by Commit. CheckTx and Query may be called between
// blocks. Given the same store contents and the same calls, every App produces the same
// results and writes.
//
// An App is not safe for concurrent use: the driver serializes calls.
type App struct {
	base  Store
	block *Overlay // writes since the last Commit (the current block, or the genesis)
	check *Overlay // CheckTx state over base; reset by Commit

	inBlock     bool
	header      BlockHeader
	blockEvents []Event

	params *Params                    // immutable once set
	codec  *redstuff.Config           // for params.NShards
	cache  map[uint32]*quorumVerifier // committee keys by epoch, derived from the state

	// pairings counts the aggregate-certificate verifications run (each a BLS pairing). It
	// is not state: tests read it to show what admission spares.
	pairings uint64
}

// ErrNotInitialized is returned by block calls on a store without genesis.
var ErrNotInitialized = errors.New("chain: state not initialized (no genesis)")

// ErrCallOrder is returned when the block lifecycle calls come out of order.
var ErrCallOrder = errors.New("chain: lifecycle call out of order")

// New returns an App over store. The store holds the committed state: empty before InitChain.
func New(store Store) (*App, error) {
	a := &App{base: store, cache: make(map[uint32]*quorumVerifier)}
	if b, ok := store.Get(keyParams()); ok {
		p, err := DecodeParams(b)
		if err != nil {
			return nil, fmt.Errorf("chain: stored params: %w", err)
		}
		if err := a.setParams(&p); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (a *App) setParams(p *Params) error {
	codec, err := redstuff.NewConfig(int(p.NShards))
	if err != nil {
		return fmt.Errorf("chain: params: %w", err)
	}
	a.params, a.codec = p, codec
	return nil
}

// Initialized reports whether the state has a genesis.
func (a *App) Initialized() bool { return a.params != nil }

// ChainID returns the chain ID, or "" before genesis.
func (a *App) ChainID() string {
	if a.params == nil {
		return ""
	}
	return a.params.ChainID
}

func (a *App) pending() *Overlay {
	if a.block == nil {
		a.block = NewOverlay(a.base)
	}
	return a.block
}

// BeginBlock starts a block: it records the header and runs the epoch state machine, which
// may select the next committee (mid-epoch) or start the next epoch (at its end). It returns
// the events this emitted.
func (a *App) BeginBlock(h BlockHeader) ([]Event, error) {
	if a.params == nil {
		return nil, ErrNotInitialized
	}
	if a.inBlock {
		return nil, fmt.Errorf("%w: BeginBlock inside a block", ErrCallOrder)
	}
	a.inBlock, a.header, a.blockEvents = true, h, nil
	c, err := a.newCtx(a.pending(), h, [32]byte{})
	if err != nil {
		return nil, err
	}
	c.sys.Height, c.sys.Time = h.Height, h.Time
	if err := c.advanceEpochs(); err != nil {
		return nil, err
	}
	c.saveSystem()
	a.blockEvents = c.events
	return c.events, nil
}

// DeliverTx executes a transaction in the current block.
//
// A transaction that does not decode, has a bad signature, a wrong nonce, a fee below the
// minimum for its payload ([Params.MinFeeFor]), or a sender who cannot pay the fee changes
// nothing; these checks come before any signature of the payload is verified. Otherwise the fee is charged
// and the nonce advanced whether or not the operation succeeds (the fee goes to the current
// epoch's reward pool); a failed operation changes nothing else and emits no events.
func (a *App) DeliverTx(raw []byte) TxResult {
	if !a.inBlock {
		return TxResult{Code: CodeOf(ErrCallOrder), Log: "chain: DeliverTx outside a block"}
	}
	return a.runTx(a.pending(), raw, true)
}

// CheckTx validates a transaction for the mempool against the committed state plus the
// transactions already accepted since the last Commit: it checks the encoding, signature,
// nonce, fee (at least [Params.MinFeeFor] the payload) and that the sender can pay the fee
// (from a faucet request's mint only if that mint will succeed), then advances the nonce and deducts the fee
// in its private check state, so that a sender can queue several transactions. It does not
// execute the operation.
func (a *App) CheckTx(raw []byte) TxResult {
	if a.params == nil {
		return TxResult{Code: CodeMalformed, Log: ErrNotInitialized.Error()}
	}
	if a.check == nil {
		a.check = NewOverlay(a.base)
	}
	return a.runTx(a.check, raw, false)
}

// EndBlock ends the block and returns its write set, sorted by key.
func (a *App) EndBlock() (WriteSet, error) {
	if !a.inBlock {
		return nil, fmt.Errorf("%w: EndBlock outside a block", ErrCallOrder)
	}
	a.inBlock = false
	return a.pending().Writes(), nil
}

// FinalizeBlock runs BeginBlock, DeliverTx for each transaction and EndBlock.
func (a *App) FinalizeBlock(h BlockHeader, txs [][]byte) (BlockResult, error) {
	evs, err := a.BeginBlock(h)
	if err != nil {
		return BlockResult{}, err
	}
	res := BlockResult{Events: evs, TxResults: make([]TxResult, len(txs))}
	for i, tx := range txs {
		res.TxResults[i] = a.DeliverTx(tx)
	}
	res.Writes, err = a.EndBlock()
	return res, err
}

// Commit applies the pending writes (of the last block or of InitChain) to the store, in key
// order, resets the CheckTx state and returns the writes applied.
func (a *App) Commit() (WriteSet, error) {
	if a.inBlock {
		return nil, fmt.Errorf("%w: Commit inside a block", ErrCallOrder)
	}
	var ws WriteSet
	if a.block != nil {
		ws = a.block.Writes()
		Apply(a.base, ws)
		a.block = nil
	}
	a.check = nil
	return ws, nil
}

// runTx runs a transaction on top of parent. With deliver false it stops after the
// admission checks (CheckTx).
func (a *App) runTx(parent *Overlay, raw []byte, deliver bool) TxResult {
	tx, err := DecodeTx(raw)
	if err != nil {
		return failed(err)
	}
	p := a.params
	msg := tx.SigningMessage(p.ChainID)
	res := TxResult{Digest: blake2b.Sum256(msg)}
	if !ed25519.Verify(tx.Sender[:], msg, tx.Signature[:]) {
		return failedTx(res, ErrBadSignature)
	}
	sender := tx.SenderAddress()
	acct := getAccount(parent, sender)
	if tx.Nonce != acct.Nonce {
		return failedTx(res, errorf(ErrNonce, "got %d, want %d", tx.Nonce, acct.Nonce))
	}
	if min := p.MinFeeFor(tx.Payload); tx.Fee < min {
		return failedTx(res, errorf(ErrFeeTooLow, "fee %d below minimum %d for %s", tx.Fee, min, PayloadName(tx.Payload)))
	}
	// A faucet request may pay its fee out of what it mints, but only if the mint will
	// succeed; otherwise the sender's own balance must pay, so that every admitted
	// transaction pays its fee and advances its nonce and the same bytes cannot be included
	// again.
	var mint uint64
	if f, ok := tx.Payload.(*Faucet); ok {
		sys := mustSystem(parent)
		err := checkFaucet(p, parent, &sys, sender, f.Amount)
		switch {
		case err == nil:
			mint = f.Amount
		case acct.Balance < tx.Fee:
			return failedTx(res, err)
		}
	}
	if acct.Balance+mint < tx.Fee || acct.Balance+mint < acct.Balance {
		return failedTx(res, errorf(ErrInsufficientFunds, "balance %d cannot pay fee %d", acct.Balance, tx.Fee))
	}
	if !deliver {
		if mint > 0 {
			sys := mustSystem(parent)
			recordFaucet(parent, &sys, sender, mint)
			parent.Set(keySystem(), encodeBCS(&sys))
		}
		acct.Balance += mint
		acct.Balance -= tx.Fee
		acct.Nonce++
		putAccount(parent, sender, acct)
		res.Fee = tx.Fee
		return res
	}

	txKV := NewOverlay(parent)
	c, err := a.newCtx(txKV, a.header, res.Digest)
	if err != nil {
		return failedTx(res, err)
	}
	c.sender = sender
	err = c.execute(tx)
	if err == nil {
		c.saveSystem()
		txKV.Flush()
		res.Fee, res.Events, res.Created = tx.Fee, c.events, c.created
		return res
	}
	// The operation failed: keep only the fee and nonce.
	txKV.Discard()
	acct = getAccount(parent, sender)
	if acct.Balance >= tx.Fee {
		a.chargeFee(parent, sender, acct, tx.Fee)
		res.Fee = tx.Fee
	}
	return failedTx(res, err)
}

// chargeFee takes fee from the sender, advances its nonce and adds the fee to the current
// epoch's reward slot.
func (a *App) chargeFee(kv Store, sender Address, acct Account, fee uint64) {
	acct.Balance -= fee
	acct.Nonce++
	putAccount(kv, sender, acct)
	if fee > 0 {
		sys := mustSystem(kv)
		f := getFuture(kv, sys.Epoch)
		f.Rewards += fee
		putFuture(kv, f)
	}
}

func failed(err error) TxResult { return TxResult{Code: CodeOf(err), Log: err.Error()} }

func failedTx(res TxResult, err error) TxResult {
	res.Code, res.Log, res.Events, res.Created = CodeOf(err), err.Error(), nil, nil
	return res
}

// execute charges the fee and runs the payload. For a faucet request the minting comes
// first, so a new account can pay its fee from it.
func (c *ctx) execute(tx *Tx) error {
	acct := getAccount(c.kv, c.sender) // runTx checked its nonce
	if f, ok := tx.Payload.(*Faucet); ok {
		if err := c.execFaucet(f); err != nil {
			return err
		}
		acct = getAccount(c.kv, c.sender)
	}
	if acct.Balance < tx.Fee {
		return errorf(ErrInsufficientFunds, "balance %d cannot pay fee %d", acct.Balance, tx.Fee)
	}
	acct.Balance -= tx.Fee
	acct.Nonce++
	putAccount(c.kv, c.sender, acct)
	if tx.Fee > 0 {
		f := getFuture(c.kv, c.sys.Epoch)
		f.Rewards += tx.Fee
		putFuture(c.kv, f)
	}
	if _, ok := tx.Payload.(*Faucet); ok {
		return nil
	}
	return c.dispatch(tx.Payload)
}

func (c *ctx) dispatch(p Payload) error {
	switch p := p.(type) {
	case *Transfer:
		return c.execTransfer(p)
	case *TransferWithMemo:
		return c.execTransferWithMemo(p)
	case *ReserveSpace:
		return c.execReserveSpace(p)
	case *SplitStorageBySize:
		return c.execSplitBySize(p)
	case *SplitStorageByEpoch:
		return c.execSplitByEpoch(p)
	case *FuseStorage:
		return c.execFuse(p)
	case *TransferObject:
		return c.execTransferObject(p)
	case *DestroyStorage:
		return c.execDestroyStorage(p)
	case *RegisterBlob:
		return c.execRegisterBlob(p)
	case *ReserveAndRegister:
		return c.execReserveAndRegister(p)
	case *CertifyBlob:
		return c.execCertifyBlob(p)
	case *ExtendBlob:
		return c.execExtendBlob(p)
	case *ExtendBlobWithStorage:
		return c.execExtendBlobWithStorage(p)
	case *DeleteBlob:
		return c.execDeleteBlob(p)
	case *BurnBlob:
		return c.execBurnBlob(p)
	case *SetBlobAttribute:
		return c.execSetAttribute(p)
	case *RemoveBlobAttribute:
		return c.execRemoveAttribute(p)
	case *InvalidateBlobID:
		return c.execInvalidate(p)
	case *ShareBlob:
		return c.execShareBlob(p)
	case *FundSharedBlob:
		return c.execFundSharedBlob(p)
	case *ExtendSharedBlob:
		return c.execExtendSharedBlob(p)
	case *RegisterNode:
		return c.execRegisterNode(p)
	case *SetNodeInfo:
		return c.execSetNodeInfo(p)
	case *SetNodeVotes:
		return c.execSetNodeVotes(p)
	case *SetCommissionRate:
		return c.execSetCommissionRate(p)
	case *Stake:
		return c.execStake(p)
	case *RequestWithdrawStake:
		return c.execRequestWithdraw(p)
	case *WithdrawStake:
		return c.execWithdraw(p)
	case *CollectCommission:
		return c.execCollectCommission(p)
	case *EpochSyncDone:
		return c.execEpochSyncDone(p)
	case *VoteToSlash:
		return c.execVoteToSlash(p)
	case *CreateBucket:
		return c.execCreateBucket(p)
	case *DeleteBucket:
		return c.execDeleteBucket(p)
	case *PutEntries:
		return c.execPutEntries(p)
	case *DeleteEntries:
		return c.execDeleteEntries(p)
	case *CreateUpload:
		return c.execCreateUpload(p)
	case *PutPart:
		return c.execPutPart(p)
	case *CompleteUpload:
		return c.execCompleteUpload(p)
	case *AbortUpload:
		return c.execAbortUpload(p)
	case *CreateSite:
		return c.execCreateSite(p)
	case *UpdateSite:
		return c.execUpdateSite(p)
	case *DestroySite:
		return c.execDestroySite(p)
	case *SetSiteName:
		return c.execSetSiteName(p)
	case *ChallengeReveal:
		return c.execChallengeReveal(p)
	case *ChallengeCertificate:
		return c.execChallengeCertificate(p)
	case *GovernancePropose:
		return c.execGovernancePropose(p)
	case *GovernanceVote:
		return c.execGovernanceVote(p)
	}
	return errorf(ErrMalformed, "unknown payload %T", p)
}
