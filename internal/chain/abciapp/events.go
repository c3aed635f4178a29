package abciapp

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/walrus-go/walrus/internal/chain"
)

// ABCI result conventions. A transaction's ExecTxResult carries:
//
//   - Code: the chain.Code (0 on success), Codespace "walrus" when non-zero, Log: the error
//     message, Info: the code's name (chain.CodeName);
//   - Data: chain.TxResult.Data, the BCS vector of created object IDs (chain.DecodeTxData);
//   - Events: first one event of type EventTypeTx with the attributes AttrDigest (the chain
//     transaction digest, hex) and AttrFee (the fee charged, decimal), then one event per
//     chain event, of type EventTypePrefix + the event type ("walrus.BlobCertified"), with
//     the attributes AttrSeq (the sequence number, decimal) and AttrBCS (the BCS encoding of
//     the whole chain.Event, standard base64).
//
// FinalizeBlock's block-level events (epoch changes) use the same chain event form.
// CheckTx responses carry Code, Codespace, Log and Info only. Events are not indexed (the
// node runs without a transaction indexer); clients follow the chain's own event log.
const (
	Codespace       = "walrus"
	EventTypeTx     = "walrus.tx"
	EventTypePrefix = "walrus."
	AttrDigest      = "digest"
	AttrFee         = "fee"
	AttrSeq         = "seq"
	AttrBCS         = "bcs"
)

// TxMeta is what a transaction's EventTypeTx event says.
type TxMeta struct {
	Digest [32]byte
	Fee    uint64
}

func chainEvent(ev chain.Event) abci.Event {
	return abci.Event{
		Type: EventTypePrefix + ev.Type(),
		Attributes: []abci.EventAttribute{
			{Key: AttrSeq, Value: strconv.FormatUint(ev.Seq, 10)},
			{Key: AttrBCS, Value: base64.StdEncoding.EncodeToString(ev.Encode())},
		},
	}
}

func chainEvents(evs []chain.Event) []abci.Event {
	if len(evs) == 0 {
		return nil
	}
	out := make([]abci.Event, len(evs))
	for i, ev := range evs {
		out[i] = chainEvent(ev)
	}
	return out
}

func execTxResult(r *chain.TxResult) *abci.ExecTxResult {
	out := &abci.ExecTxResult{Code: uint32(r.Code), Log: r.Log, Info: chain.CodeName(r.Code), Data: r.Data()}
	if r.Code != chain.CodeOK {
		out.Codespace = Codespace
	}
	out.Events = make([]abci.Event, 0, 1+len(r.Events))
	out.Events = append(out.Events, abci.Event{
		Type: EventTypeTx,
		Attributes: []abci.EventAttribute{
			{Key: AttrDigest, Value: hex.EncodeToString(r.Digest[:])},
			{Key: AttrFee, Value: strconv.FormatUint(r.Fee, 10)},
		},
	})
	out.Events = append(out.Events, chainEvents(r.Events)...)
	return out
}

// DecodeEvents decodes the events of an ExecTxResult or of FinalizeBlock written by this
// package: the transaction metadata (zero if there is no EventTypeTx event) and the chain
// events in order. Events of other types are ignored.
func DecodeEvents(evs []abci.Event) (TxMeta, []chain.Event, error) {
	var meta TxMeta
	var out []chain.Event
	for _, e := range evs {
		switch {
		case e.Type == EventTypeTx:
			for _, a := range e.Attributes {
				switch a.Key {
				case AttrDigest:
					if err := decodeHex(a.Value, meta.Digest[:]); err != nil {
						return meta, nil, fmt.Errorf("abciapp: event %s: %s: %w", e.Type, a.Key, err)
					}
				case AttrFee:
					fee, err := strconv.ParseUint(a.Value, 10, 64)
					if err != nil {
						return meta, nil, fmt.Errorf("abciapp: event %s: %s: %w", e.Type, a.Key, err)
					}
					meta.Fee = fee
				}
			}
		case strings.HasPrefix(e.Type, EventTypePrefix):
			ev, err := decodeChainEvent(e)
			if err != nil {
				return meta, nil, err
			}
			out = append(out, ev)
		}
	}
	return meta, out, nil
}

func decodeChainEvent(e abci.Event) (chain.Event, error) {
	for _, a := range e.Attributes {
		if a.Key != AttrBCS {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(a.Value)
		if err != nil {
			return chain.Event{}, fmt.Errorf("abciapp: event %s: %w", e.Type, err)
		}
		ev, err := chain.DecodeEvent(raw)
		if err != nil {
			return chain.Event{}, fmt.Errorf("abciapp: event %s: %w", e.Type, err)
		}
		if EventTypePrefix+ev.Type() != e.Type {
			return chain.Event{}, fmt.Errorf("abciapp: event %s holds a %s", e.Type, ev.Type())
		}
		return ev, nil
	}
	return chain.Event{}, fmt.Errorf("abciapp: event %s has no %s attribute", e.Type, AttrBCS)
}
