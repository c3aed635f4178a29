package chain

import (
	"fmt"

	"github.com/walrus-go/walrus/internal/bcs"
)

// ChallengeParams configure storage challenges and the stake-shift penalty (see
// docs/challenges.md). They are set at genesis (Params.Challenge) and changed afterwards
// by governance ([Settings]). The zero value disables challenges: the chain then pays
// rewards as before (to every member that synced in time) and accepts no challenge
// transaction, and the stake-shift penalty is off unless governance turns it on.
type ChallengeParams struct {
	// SampleSize is s, the number of items (blob, shard, axis, symbol) challenged per
	// committee member per epoch, 1 to MaxChallengeSampleSize; 0 disables challenges (only
	// at genesis: governance cannot turn them on or off). Default 263: a member holding 90%
	// of its slivers passes with probability 0.9^263 ≈ 9.3e-13 < 1e-12.
	SampleSize uint32
	// FailureLimit is K: a member that fails its challenge in K consecutive epochs has
	// SlashBasisPoints of its pool's active stake burned (and its count starts again).
	// 1 to 1000; default 2.
	FailureLimit uint32
	// SlashBasisPoints is x, the share of the pool's active stake (delegators' included)
	// burned at the K-th consecutive failure, 0 to 10000; default 1000 (10%).
	SlashBasisPoints uint16
	// StakeMinEpochs is m: withdrawn stake that was active for fewer than m epochs pays
	// StakePenaltyBasisPoints of its value; 0 turns the penalty off. Default 2.
	StakeMinEpochs uint32
	// StakePenaltyBasisPoints is the stake-shift penalty (0 to 10000; default 100, 1%).
	StakePenaltyBasisPoints uint16
	// StakePenaltyBurnBasisPoints is the part of a penalty burned (0 to 10000; default
	// 5000); the rest goes to the pool's remaining stakers (all of it is burned if there
	// are none).
	StakePenaltyBurnBasisPoints uint16
}

// MaxChallengeSampleSize bounds ChallengeParams.SampleSize, and with it the work of one
// challenge query and the attestation work of every member.
const MaxChallengeSampleSize = 4096

// DefaultChallengeParams returns the default challenge parameters, with challenges
// enabled.
func DefaultChallengeParams() ChallengeParams {
	return ChallengeParams{
		SampleSize:                  263,
		FailureLimit:                2,
		SlashBasisPoints:            1000,
		StakeMinEpochs:              2,
		StakePenaltyBasisPoints:     100,
		StakePenaltyBurnBasisPoints: 5000,
	}
}

// Enabled reports whether challenges are on (SampleSize > 0).
func (c ChallengeParams) Enabled() bool { return c.SampleSize > 0 }

// validate checks the ranges; enabled says whether SampleSize must be positive.
func (c ChallengeParams) validate(enabled bool) (field string, err error) {
	switch {
	case enabled && (c.SampleSize < 1 || c.SampleSize > MaxChallengeSampleSize):
		return "SampleSize", fmt.Errorf("%d, want 1 to %d", c.SampleSize, MaxChallengeSampleSize)
	case !enabled && c.SampleSize != 0:
		return "SampleSize", fmt.Errorf("challenges cannot be turned on after genesis")
	case enabled && (c.FailureLimit < 1 || c.FailureLimit > 1000):
		return "FailureLimit", fmt.Errorf("%d, want 1 to 1000", c.FailureLimit)
	case c.SlashBasisPoints > 10_000:
		return "SlashBasisPoints", fmt.Errorf("%d above 10000", c.SlashBasisPoints)
	case c.StakeMinEpochs > 1000:
		return "StakeMinEpochs", fmt.Errorf("%d above 1000", c.StakeMinEpochs)
	case c.StakePenaltyBasisPoints > 10_000:
		return "StakePenaltyBasisPoints", fmt.Errorf("%d above 10000", c.StakePenaltyBasisPoints)
	case c.StakePenaltyBurnBasisPoints > 10_000:
		return "StakePenaltyBurnBasisPoints", fmt.Errorf("%d above 10000", c.StakePenaltyBurnBasisPoints)
	}
	return "", nil
}

func (c *ChallengeParams) encode(e *bcs.Encoder) {
	e.U32(c.SampleSize)
	e.U32(c.FailureLimit)
	e.U16(c.SlashBasisPoints)
	e.U32(c.StakeMinEpochs)
	e.U16(c.StakePenaltyBasisPoints)
	e.U16(c.StakePenaltyBurnBasisPoints)
}

func (c *ChallengeParams) decode(d *bcs.Decoder) {
	c.SampleSize = d.U32()
	c.FailureLimit = d.U32()
	c.SlashBasisPoints = d.U16()
	c.StakeMinEpochs = d.U32()
	c.StakePenaltyBasisPoints = d.U16()
	c.StakePenaltyBurnBasisPoints = d.U16()
}

// Settings are the parameters that governance changes ([GovernancePropose]): their values
// now. Until a first proposal applies they are derived from the genesis Params
// (ProtocolVersion 1, no price bounds), and nothing is stored, so chains that never vote
// keep the state they had. An accepted proposal applies at the start of the next epoch.
type Settings struct {
	// ProtocolVersion is the protocol version the committee agreed on ("protocol-version";
	// may only grow). Nodes compare it with the versions they support.
	ProtocolVersion uint64
	// EpochDuration is the epoch length in nanoseconds of block time ("epoch-duration",
	// 2 to 2^60). It replaces Params.EpochDuration in everything the chain computes from
	// it (the mid-epoch selection, the epoch's end, the default sync timeout) and in the
	// Params that QueryParams returns.
	EpochDuration int64
	// Challenge holds the current challenge parameters ("challenge-samples",
	// "challenge-failure-limit", "challenge-slash-bps", "stake-min-epochs",
	// "stake-penalty-bps", "stake-penalty-burn-bps").
	Challenge ChallengeParams
	// Price bounds in FROST ("min-storage-price", "max-storage-price", "min-write-price",
	// "max-write-price"): the prices the committee votes are clamped to them. A maximum of
	// 0 means no bound; a non-zero maximum must not be below its minimum.
	MinStoragePrice, MaxStoragePrice uint64
	MinWritePrice, MaxWritePrice     uint64
}

func (s *Settings) encode(e *bcs.Encoder) {
	e.U64(s.ProtocolVersion)
	e.U64(uint64(s.EpochDuration))
	s.Challenge.encode(e)
	e.U64(s.MinStoragePrice)
	e.U64(s.MaxStoragePrice)
	e.U64(s.MinWritePrice)
	e.U64(s.MaxWritePrice)
}

func (s *Settings) decode(d *bcs.Decoder) {
	s.ProtocolVersion = d.U64()
	s.EpochDuration = int64(d.U64())
	s.Challenge.decode(d)
	s.MinStoragePrice = d.U64()
	s.MaxStoragePrice = d.U64()
	s.MinWritePrice = d.U64()
	s.MaxWritePrice = d.U64()
}

// Encode returns the BCS encoding of s.
func (s Settings) Encode() []byte { return encodeBCS(&s) }

// DecodeSettings decodes the BCS encoding of Settings.
func DecodeSettings(b []byte) (Settings, error) { return decodeBCS[Settings](b) }

// defaultSettings derives the settings of a chain on which no proposal applied yet.
func defaultSettings(p *Params) Settings {
	return Settings{ProtocolVersion: 1, EpochDuration: p.EpochDuration, Challenge: p.Challenge}
}

// loadSettings returns the stored settings, or the defaults derived from p.
func loadSettings(kv Store, p *Params) Settings {
	if s, ok := get[Settings](kv, keySettings()); ok {
		return s
	}
	return defaultSettings(p)
}

// effectiveParams returns p with the governed fields of s applied (EpochDuration), or p
// itself if they are equal.
func effectiveParams(p *Params, s *Settings) *Params {
	if s.EpochDuration == p.EpochDuration {
		return p
	}
	q := *p
	q.EpochDuration = s.EpochDuration
	return &q
}

// validate checks the settings; enabled says whether the chain has challenges.
func (s *Settings) validate(enabled bool) error {
	if s.EpochDuration < 2 || s.EpochDuration > 1<<60 {
		return errorf(ErrInvalidArgument, "epoch-duration %d ns out of range", s.EpochDuration)
	}
	if f, err := s.Challenge.validate(enabled); err != nil {
		return errorf(ErrInvalidArgument, "challenge %s: %v", f, err)
	}
	if s.MaxStoragePrice != 0 && s.MaxStoragePrice < s.MinStoragePrice {
		return errorf(ErrInvalidArgument, "max-storage-price %d below min-storage-price %d", s.MaxStoragePrice, s.MinStoragePrice)
	}
	if s.MaxWritePrice != 0 && s.MaxWritePrice < s.MinWritePrice {
		return errorf(ErrInvalidArgument, "max-write-price %d below min-write-price %d", s.MaxWritePrice, s.MinWritePrice)
	}
	return nil
}

// governedParam is one named governed parameter: how to read and set it in Settings and
// whether it needs challenges.
type governedParam struct {
	name      string
	doc       string
	challenge bool
	get       func(*Settings) uint64
	set       func(*Settings, uint64) error
}

// GovernedParams returns the names of the parameters a proposal may change, in a fixed
// order, each with a one-line description.
func GovernedParams() [][2]string {
	out := make([][2]string, len(governedParams))
	for i, g := range governedParams {
		out[i] = [2]string{g.name, g.doc}
	}
	return out
}

func u16param(v uint64) (uint16, error) {
	if v > 10_000 {
		return 0, errorf(ErrInvalidArgument, "%d basis points above 10000", v)
	}
	return uint16(v), nil
}

func u32param(v uint64) (uint32, error) {
	if v > 1<<32-1 {
		return 0, errorf(ErrInvalidArgument, "%d above 2^32-1", v)
	}
	return uint32(v), nil
}

var governedParams = []governedParam{
	{"protocol-version", "protocol version (only grows)", false,
		func(s *Settings) uint64 { return s.ProtocolVersion },
		func(s *Settings, v uint64) error {
			if v <= s.ProtocolVersion {
				return errorf(ErrInvalidArgument, "protocol-version %d not above %d", v, s.ProtocolVersion)
			}
			s.ProtocolVersion = v
			return nil
		}},
	{"epoch-duration", "epoch length in nanoseconds of block time", false,
		func(s *Settings) uint64 { return uint64(s.EpochDuration) },
		func(s *Settings, v uint64) error {
			if v > 1<<60 {
				return errorf(ErrInvalidArgument, "epoch-duration %d ns above 2^60", v)
			}
			s.EpochDuration = int64(v)
			return nil
		}},
	{"challenge-samples", "items challenged per member and epoch (s)", true,
		func(s *Settings) uint64 { return uint64(s.Challenge.SampleSize) },
		func(s *Settings, v uint64) (err error) { s.Challenge.SampleSize, err = u32param(v); return err }},
	{"challenge-failure-limit", "consecutive failed epochs before a slash (K)", true,
		func(s *Settings) uint64 { return uint64(s.Challenge.FailureLimit) },
		func(s *Settings, v uint64) (err error) { s.Challenge.FailureLimit, err = u32param(v); return err }},
	{"challenge-slash-bps", "share of the pool's stake burned at the K-th failure (x, basis points)", true,
		func(s *Settings) uint64 { return uint64(s.Challenge.SlashBasisPoints) },
		func(s *Settings, v uint64) (err error) { s.Challenge.SlashBasisPoints, err = u16param(v); return err }},
	{"stake-min-epochs", "epochs stake must stay active to leave without penalty (m)", false,
		func(s *Settings) uint64 { return uint64(s.Challenge.StakeMinEpochs) },
		func(s *Settings, v uint64) (err error) { s.Challenge.StakeMinEpochs, err = u32param(v); return err }},
	{"stake-penalty-bps", "stake-shift penalty (basis points of the withdrawn value)", false,
		func(s *Settings) uint64 { return uint64(s.Challenge.StakePenaltyBasisPoints) },
		func(s *Settings, v uint64) (err error) {
			s.Challenge.StakePenaltyBasisPoints, err = u16param(v)
			return err
		}},
	{"stake-penalty-burn-bps", "part of a stake-shift penalty burned (basis points)", false,
		func(s *Settings) uint64 { return uint64(s.Challenge.StakePenaltyBurnBasisPoints) },
		func(s *Settings, v uint64) (err error) {
			s.Challenge.StakePenaltyBurnBasisPoints, err = u16param(v)
			return err
		}},
	{"min-storage-price", "lower bound of the storage price (FROST per unit and epoch)", false,
		func(s *Settings) uint64 { return s.MinStoragePrice },
		func(s *Settings, v uint64) error { s.MinStoragePrice = v; return nil }},
	{"max-storage-price", "upper bound of the storage price (0: none)", false,
		func(s *Settings) uint64 { return s.MaxStoragePrice },
		func(s *Settings, v uint64) error { s.MaxStoragePrice = v; return nil }},
	{"min-write-price", "lower bound of the write price (FROST per unit)", false,
		func(s *Settings) uint64 { return s.MinWritePrice },
		func(s *Settings, v uint64) error { s.MinWritePrice = v; return nil }},
	{"max-write-price", "upper bound of the write price (0: none)", false,
		func(s *Settings) uint64 { return s.MaxWritePrice },
		func(s *Settings, v uint64) error { s.MaxWritePrice = v; return nil }},
}

func findGoverned(name string) (*governedParam, bool) {
	for i := range governedParams {
		if governedParams[i].name == name {
			return &governedParams[i], true
		}
	}
	return nil, false
}

// GovernedValue returns the current value of a named governed parameter in s.
func (s *Settings) GovernedValue(name string) (uint64, bool) {
	g, ok := findGoverned(name)
	if !ok {
		return 0, false
	}
	return g.get(s), true
}

// applyChanges returns s with changes applied, checking names, values and the result.
func applyChanges(s Settings, changes []ParamChange, enabled bool) (Settings, error) {
	for _, ch := range changes {
		g, ok := findGoverned(ch.Name)
		if !ok {
			return s, errorf(ErrUnknownParameter, "%q", ch.Name)
		}
		if g.challenge && !enabled {
			return s, errorf(ErrChallengesDisabled, "%s", ch.Name)
		}
		if err := g.set(&s, ch.Value); err != nil {
			return s, err
		}
	}
	return s, s.validate(enabled)
}
