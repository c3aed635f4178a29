package cli

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"math/bits"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// The --json output of info and its subcommands has Walrus's shapes (InfoOutput and its
// parts, camelCase) where they apply; fields Walrus does not have are marked "ours".

// infoOutput is bare info's --json output: every section.
type infoOutput struct {
	EpochInfo     infoEpochOutput      `json:"epochInfo"`
	StorageInfo   infoStorageOutput    `json:"storageInfo"`
	SizeInfo      infoSizeOutput       `json:"sizeInfo"`
	PriceInfo     infoPriceOutput      `json:"priceInfo"`
	CommitteeInfo *infoCommitteeOutput `json:"committeeInfo,omitempty"`
	BftInfo       *infoBftOutput       `json:"bftInfo,omitempty"`
	// ChainInfo is ours: the chain's ID, height, fees and faucet.
	ChainInfo infoChainOutput `json:"chainInfo"`
	// ChallengeInfo is ours: the current epoch's storage challenge (absent on a chain
	// without challenges).
	ChallengeInfo *infoChallengeOutput `json:"challengeInfo,omitempty"`
}

// infoChallengeOutput is info challenge's --json output (ours): the storage challenge of
// the current epoch (docs/challenges.md) and the governed parameters in force.
type infoChallengeOutput struct {
	Enabled bool   `json:"enabled"`
	Epoch   uint32 `json:"epoch"`
	// Phase is "reveal", "answer", "unchallenged" or "settled".
	Phase          string `json:"phase"`
	Start          string `json:"start"`
	RevealDeadline string `json:"revealDeadline"`
	// ExpectedEnd is when the epoch (and its answer phase) is expected to end.
	ExpectedEnd     string                `json:"expectedEnd"`
	Seed            string                `json:"seed,omitempty"`
	Blobs           uint64                `json:"blobs"`
	SampleSize      uint32                `json:"sampleSize"`
	Revealed        uint32                `json:"revealed"`
	FailureLimit    uint32                `json:"failureLimit"`
	SlashBps        uint16                `json:"slashBasisPoints"`
	StakeMinEpochs  uint32                `json:"stakeMinEpochs"`
	StakePenaltyBps uint16                `json:"stakePenaltyBasisPoints"`
	ProtocolVersion uint64                `json:"protocolVersion"`
	Members         []infoChallengeMember `json:"members"`
}

type infoChallengeMember struct {
	NodeID              string `json:"nodeId"`
	Name                string `json:"name"`
	Shards              uint16 `json:"shards"`
	Revealed            bool   `json:"revealed"`
	Passed              bool   `json:"passed"`
	ConsecutiveFailures uint32 `json:"consecutiveFailures"`
}

// epochTime is Walrus's EpochTimeOrMessage: {"DateTime": "RFC 3339"}.
type epochTime struct {
	DateTime string `json:"DateTime"`
}

// walrusDuration is how Walrus (serde) writes a std::time::Duration.
type walrusDuration struct {
	Secs  int64 `json:"secs"`
	Nanos int32 `json:"nanos"`
}

func newWalrusDuration(d time.Duration) walrusDuration {
	return walrusDuration{Secs: int64(d / time.Second), Nanos: int32(d % time.Second)}
}

// infoEpochOutput is info epoch's --json output.
type infoEpochOutput struct {
	CurrentEpoch        uint32         `json:"currentEpoch"`
	StartOfCurrentEpoch epochTime      `json:"startOfCurrentEpoch"`
	EpochDuration       walrusDuration `json:"epochDuration"`
	MaxEpochsAhead      uint32         `json:"maxEpochsAhead"`
	// Ours: the epoch's state, its expected end (the next epoch's expected start), and
	// the expected end of storage bought now for MaxEpochsAhead epochs, all RFC 3339 UTC.
	EpochState             string `json:"epochState"`
	ExpectedEndOfEpoch     string `json:"expectedEndOfCurrentEpoch"`
	ExpectedMaxStorageEnd  string `json:"expectedEndOfMaxEpochsAhead"`
	EpochDurationFormatted string `json:"epochDurationFormatted"`
}

// infoStorageOutput is info storage's --json output.
type infoStorageOutput struct {
	NShards uint16 `json:"nShards"`
	NNodes  int    `json:"nNodes"`
	// TotalCapacity is ours: the encoded bytes the system can hold in each epoch.
	TotalCapacity uint64 `json:"totalCapacity"`
}

// infoSizeOutput is info size's --json output (no quilts here, so no maxBlobSizeInQuilt).
type infoSizeOutput struct {
	StorageUnitSize uint64 `json:"storageUnitSize"`
	MaxBlobSize     uint64 `json:"maxBlobSize"`
}

// infoPriceOutput is info price's --json output.
type infoPriceOutput struct {
	StoragePricePerUnitSize    uint64              `json:"storagePricePerUnitSize"`
	WritePricePerUnitSize      uint64              `json:"writePricePerUnitSize"`
	EncodingDependentPriceInfo []encodingPriceInfo `json:"encodingDependentPriceInfo"`
}

type encodingPriceInfo struct {
	MarginalSize  uint64        `json:"marginalSize"`
	MetadataPrice uint64        `json:"metadataPrice"`
	MarginalPrice uint64        `json:"marginalPrice"`
	ExampleBlobs  []exampleBlob `json:"exampleBlobs"`
	EncodingType  string        `json:"encodingType"`
}

type exampleBlob struct {
	UnencodedSize uint64 `json:"unencodedSize"`
	EncodedSize   uint64 `json:"encodedSize"`
	Price         uint64 `json:"price"`
	EncodingType  string `json:"encodingType"`
}

// infoBftOutput is info bft's --json output.
type infoBftOutput struct {
	MaxFaultyShards  int `json:"maxFaultyShards"`
	MinCorrectShards int `json:"minCorrectShards"`
	QuorumThreshold  int `json:"quorumThreshold"`
	MinNodesAbove    int `json:"minNodesAbove"`
	ShardsAbove      int `json:"shardsAbove"`
}

// infoCommitteeOutput is info committee's --json output.
type infoCommitteeOutput struct {
	NShards                 int    `json:"nShards"`
	NPrimarySourceSymbols   int    `json:"nPrimarySourceSymbols"`
	NSecondarySourceSymbols int    `json:"nSecondarySourceSymbols"`
	MaxSliverSize           uint64 `json:"maxSliverSize"`
	MetadataStorageSize     uint64 `json:"metadataStorageSize"`
	MaxEncodedBlobSize      uint64 `json:"maxEncodedBlobSize"`
	// Walrus's figures, one copy of the full metadata per shard; nothing is billed by them.
	WalrusMetadataStorageSize uint64            `json:"walrusMetadataStorageSize"`
	WalrusMaxEncodedBlobSize  uint64            `json:"walrusMaxEncodedBlobSize"`
	CurrentStorageNodes       []storageNodeInfo `json:"currentStorageNodes"`
	NextStorageNodes          []storageNodeInfo `json:"nextStorageNodes"`
}

type storageNodeInfo struct {
	Name             string   `json:"name"`
	NetworkAddress   string   `json:"networkAddress"`
	PublicKey        string   `json:"publicKey"`
	NetworkPublicKey string   `json:"networkPublicKey"`
	NShards          int      `json:"nShards"`
	ShardIDs         []uint16 `json:"shardIds"`
	NodeID           string   `json:"nodeId"`
	Stake            uint64   `json:"stake"`
}

// infoChainOutput is ours: what the chain charges and where it is.
type infoChainOutput struct {
	ChainID             string `json:"chainId"`
	Height              int64  `json:"height"`
	MinFee              uint64 `json:"minFee"`
	SignatureFee        uint64 `json:"signatureFee"`
	NodeRegistrationFee uint64 `json:"nodeRegistrationFee"`
	FaucetMax           uint64 `json:"faucetMax"`
	FaucetAccountMax    uint64 `json:"faucetAccountMax"`
	FaucetTotalMax      uint64 `json:"faucetTotalMax"`
}

// systemInfo is what the info sections are computed from: one snapshot of the chain.
type systemInfo struct {
	params    chain.Params
	system    chain.SystemState
	committee chain.CommitteeInfo
	next      *chain.CommitteeInfo // nil until the next committee is selected
	stake     map[chain.ObjectID]uint64
	height    int64
	encoding  *redstuff.Config
	settings  chain.Settings
	challenge *chain.ChallengeState // nil on a chain without challenges
}

// rfc3339 formats Unix nanoseconds as RFC 3339 UTC, to the second.
func rfc3339(ns int64) string {
	return time.Unix(0, ns).UTC().Format(time.RFC3339)
}

func (s *systemInfo) epochInfo() infoEpochOutput {
	p, st := s.params, s.system
	return infoEpochOutput{
		CurrentEpoch:           st.Epoch,
		StartOfCurrentEpoch:    epochTime{DateTime: rfc3339(st.EpochStart)},
		EpochDuration:          newWalrusDuration(time.Duration(p.EpochDuration)),
		MaxEpochsAhead:         p.MaxEpochsAhead,
		EpochState:             st.EpochState.String(),
		ExpectedEndOfEpoch:     rfc3339(chain.EpochStartEstimate(p, st, st.Epoch+1)),
		ExpectedMaxStorageEnd:  rfc3339(chain.EpochStartEstimate(p, st, satAdd32(st.Epoch, p.MaxEpochsAhead))),
		EpochDurationFormatted: time.Duration(p.EpochDuration).String(),
	}
}

func satAdd32(a, b uint32) uint32 {
	if s, c := bits.Add32(a, b, 0); c == 0 {
		return s
	}
	return ^uint32(0)
}

func (s *systemInfo) storageInfo() infoStorageOutput {
	return infoStorageOutput{NShards: s.params.NShards, NNodes: len(s.committee.Members), TotalCapacity: s.system.TotalCapacity}
}

func (s *systemInfo) sizeInfo() infoSizeOutput {
	return infoSizeOutput{StorageUnitSize: chain.BytesPerUnit, MaxBlobSize: s.encoding.MaxBlobSize()}
}

// metadataSize is the metadata billed for a blob over all shards: each shard's pair hashes
// and proof, and the full metadata on the holders (redstuff.Config.BilledMetadataSize).
func metadataSize(enc *redstuff.Config) uint64 { return enc.BilledMetadataSize() }

func (s *systemInfo) priceInfo() infoPriceOutput {
	enc, price := s.encoding, s.system.StoragePrice
	maxBlob := enc.MaxBlobSize()
	marginal := uint64(1 << 20)
	for marginal > maxBlob {
		marginal /= 4
	}
	encoded := func(size uint64) uint64 { l, _ := enc.EncodedLength(size); return l }
	mul := func(a, b uint64) uint64 {
		hi, lo := bits.Mul64(a, b)
		if hi != 0 {
			return ^uint64(0)
		}
		return lo
	}
	info := encodingPriceInfo{
		MarginalSize:  marginal,
		MetadataPrice: mul(chain.StorageUnits(metadataSize(enc)), price),
		MarginalPrice: mul(chain.StorageUnits(encoded(marginal)-metadataSize(enc)), price),
		EncodingType:  "RS2",
	}
	small := nextPowerOfTwo(maxBlob) / 1024
	for _, size := range []uint64{small, small * 32, maxBlob} {
		if size > maxBlob {
			continue
		}
		e := encoded(size)
		info.ExampleBlobs = append(info.ExampleBlobs, exampleBlob{UnencodedSize: size, EncodedSize: e, Price: mul(chain.StorageUnits(e), price), EncodingType: "RS2"})
	}
	return infoPriceOutput{StoragePricePerUnitSize: price, WritePricePerUnitSize: s.system.WritePrice, EncodingDependentPriceInfo: []encodingPriceInfo{info}}
}

func nextPowerOfTwo(x uint64) uint64 {
	if x <= 1 {
		return 1
	}
	return 1 << bits.Len64(x-1)
}

// bftInfo computes the fault thresholds of the current committee: f faulty shards are
// tolerated, 2f+1 form a quorum, and the fewest nodes holding more than f shards (the
// largest first) could break availability.
func (s *systemInfo) bftInfo() infoBftOutput {
	n := int(s.params.NShards)
	f := s.encoding.MaxFaulty()
	out := infoBftOutput{MaxFaultyShards: f, MinCorrectShards: n - f, QuorumThreshold: 2*f + 1}
	counts := make([]int, len(s.committee.Members))
	for i, m := range s.committee.Members {
		counts[i] = len(m.Shards)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(counts)))
	for i, c := range counts {
		out.ShardsAbove += c
		if out.ShardsAbove > f {
			out.MinNodesAbove = i + 1
			break
		}
	}
	return out
}

func (s *systemInfo) nodes(c *chain.CommitteeInfo) []storageNodeInfo {
	out := []storageNodeInfo{}
	if c == nil {
		return out
	}
	for _, m := range c.Members {
		out = append(out, storageNodeInfo{
			Name: m.Name, NetworkAddress: m.NetworkAddress,
			PublicKey:        base64.StdEncoding.EncodeToString(m.PublicKey[:]),
			NetworkPublicKey: base64.StdEncoding.EncodeToString(m.NetworkPublicKey[:]),
			NShards:          len(m.Shards), ShardIDs: m.Shards, NodeID: m.NodeID.String(), Stake: s.stake[m.NodeID],
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out
}

func (s *systemInfo) committeeInfo() infoCommitteeOutput {
	enc := s.encoding
	maxEncoded, _ := enc.EncodedLength(enc.MaxBlobSize())
	walrusMax, _ := enc.WalrusEncodedLength(enc.MaxBlobSize())
	return infoCommitteeOutput{
		NShards:                   enc.NShards(),
		NPrimarySourceSymbols:     enc.SourceSymbols(redstuff.Primary),
		NSecondarySourceSymbols:   enc.SourceSymbols(redstuff.Secondary),
		MaxSliverSize:             uint64(enc.SliverSize(redstuff.Primary, redstuff.MaxSymbolSize)),
		MetadataStorageSize:       metadataSize(enc),
		MaxEncodedBlobSize:        maxEncoded,
		WalrusMetadataStorageSize: uint64(enc.NShards()) * enc.MetadataSize(),
		WalrusMaxEncodedBlobSize:  walrusMax,
		CurrentStorageNodes:       s.nodes(&s.committee),
		NextStorageNodes:          s.nodes(s.next),
	}
}

func (s *systemInfo) chainInfo() infoChainOutput {
	p := s.params
	return infoChainOutput{
		ChainID: p.ChainID, Height: s.height, MinFee: p.MinFee, SignatureFee: p.SignatureFee,
		NodeRegistrationFee: p.NodeRegistrationFee, FaucetMax: p.FaucetMax,
		FaucetAccountMax: p.FaucetAccountMax, FaucetTotalMax: p.FaucetTotalMax,
	}
}

// loadSystemInfo reads one snapshot of what info shows; withCommittee also reads the
// next committee and the stake of every member.
func loadSystemInfo(ctx context.Context, conn *chainConn, withCommittee bool) (*systemInfo, error) {
	c := conn.chain
	s := &systemInfo{params: conn.params}
	var err error
	if s.system, err = c.System(ctx); err != nil {
		return nil, conn.chainError(err)
	}
	if s.committee, err = c.CommitteeAt(ctx, s.system.Epoch); err != nil {
		return nil, conn.chainError(err)
	}
	if s.height, err = c.Height(ctx); err != nil {
		return nil, conn.chainError(err)
	}
	if s.encoding, err = redstuff.NewConfig(int(s.params.NShards)); err != nil {
		return nil, err
	}
	// Governance may have changed the epoch duration since the parameters were cached.
	if s.settings, err = c.Settings(ctx); err != nil {
		return nil, conn.chainError(err)
	}
	s.params.EpochDuration = s.settings.EpochDuration
	if s.params.Challenge.Enabled() {
		st, err := c.Challenge(ctx, s.system.Epoch, nil)
		if err != nil {
			return nil, conn.chainError(err)
		}
		s.challenge = &st
	}
	if !withCommittee {
		return s, nil
	}
	if s.system.EpochState == chain.StateNextParamsSelected {
		if next, err := c.CommitteeAt(ctx, s.system.Epoch+1); err == nil {
			s.next = &next
		}
	}
	pools, err := c.Pools(ctx)
	if err != nil {
		return nil, conn.chainError(err)
	}
	s.stake = make(map[chain.ObjectID]uint64, len(pools))
	for _, p := range pools {
		s.stake[p.NodeID] = p.Wal
	}
	return s, nil
}

// infoSection is one info subcommand: its name, what it shows, its JSON value and its
// human-readable form.
type infoSection struct {
	name, short   string
	withCommittee bool
	json          func(*systemInfo) any
	print         func(io.Writer, *systemInfo)
}

var infoSections = []infoSection{
	{name: "epoch", short: "Epoch times: the current epoch's start and expected end, the epoch duration, how far ahead storage can be bought",
		json: func(s *systemInfo) any { return s.epochInfo() }, print: printEpochInfo},
	{name: "storage", short: "Storage nodes and shards",
		json: func(s *systemInfo) any { return s.storageInfo() }, print: printStorageInfo},
	{name: "size", short: "The storage unit and the largest blob",
		json: func(s *systemInfo) any { return s.sizeInfo() }, print: printSizeInfo},
	{name: "price", short: "Storage and write prices, with example blobs",
		json: func(s *systemInfo) any { return s.priceInfo() }, print: printPriceInfo},
	{name: "bft", short: "Fault tolerance: faulty shards tolerated, quorum, fewest nodes above the threshold",
		json: func(s *systemInfo) any { return s.bftInfo() }, print: printBftInfo},
	{name: "committee", short: "Encoding parameters and the current (and next) committee", withCommittee: true,
		json: func(s *systemInfo) any { return s.committeeInfo() }, print: printCommitteeInfo},
	{name: "challenge", short: "The current epoch's storage challenge: phase, seed, members' results",
		json: func(s *systemInfo) any { return s.challengeInfo() }, print: printChallengeInfo},
}

func infoCommand(ce *clientEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Print the state of the Walrus system: epoch, committee, shards, prices, capacity",
		Long: "Print the state of the Walrus system as the configured chain reports it. Without a\n" +
			"subcommand, print every section; a subcommand prints one.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return ce.runInfo(true, func(s *systemInfo) error {
				if ce.json {
					cmt, bft := s.committeeInfo(), s.bftInfo()
					return ce.printJSON(infoOutput{
						EpochInfo: s.epochInfo(), StorageInfo: s.storageInfo(), SizeInfo: s.sizeInfo(), PriceInfo: s.priceInfo(),
						CommitteeInfo: &cmt, BftInfo: &bft, ChainInfo: s.chainInfo(), ChallengeInfo: s.challengeInfoIfEnabled(),
					})
				}
				w := ce.stdout
				printChainInfo(w, s)
				for _, sec := range infoSections {
					fmt.Fprintln(w)
					sec.print(w, s)
				}
				return nil
			})
		},
	}
	for _, sec := range infoSections {
		cmd.AddCommand(&cobra.Command{
			Use:   sec.name,
			Short: sec.short,
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				return ce.runInfo(sec.withCommittee, func(s *systemInfo) error {
					if ce.json {
						return ce.printJSON(sec.json(s))
					}
					sec.print(ce.stdout, s)
					return nil
				})
			},
		})
	}
	return cmd
}

func (ce *clientEnv) runInfo(withCommittee bool, show func(*systemInfo) error) error {
	conn, ctx, done, err := ce.chainCall()
	if err != nil {
		return err
	}
	defer done()
	s, err := loadSystemInfo(ctx, conn, withCommittee)
	if err != nil {
		return err
	}
	return show(s)
}

func printChainInfo(w io.Writer, s *systemInfo) {
	c := s.chainInfo()
	fmt.Fprintf(w, "Chain %s at height %d\n", c.ChainID, c.Height)
	fmt.Fprintf(w, "Minimum fee: %d FROST, plus %d for a signature check, plus %d for a node registration\n",
		c.MinFee, c.SignatureFee, c.NodeRegistrationFee)
	if c.FaucetMax > 0 {
		fmt.Fprintf(w, "Faucet: up to %s WAL a request, %s WAL an account, %s WAL in all\n",
			formatWAL(c.FaucetMax), formatWAL(c.FaucetAccountMax), formatWAL(c.FaucetTotalMax))
	}
}

func printEpochInfo(w io.Writer, s *systemInfo) {
	e := s.epochInfo()
	fmt.Fprintln(w, "Epochs and storage duration")
	fmt.Fprintf(w, "Current epoch: %d (%s)\n", e.CurrentEpoch, e.EpochState)
	fmt.Fprintf(w, "Start time: %s\n", e.StartOfCurrentEpoch.DateTime)
	fmt.Fprintf(w, "Expected end time: %s\n", e.ExpectedEndOfEpoch)
	fmt.Fprintf(w, "Epoch duration: %s\n", e.EpochDurationFormatted)
	fmt.Fprintf(w, "Blobs can be stored for at most %d epochs in the future (until about %s).\n", e.MaxEpochsAhead, e.ExpectedMaxStorageEnd)
}

func printStorageInfo(w io.Writer, s *systemInfo) {
	st := s.storageInfo()
	fmt.Fprintln(w, "Storage nodes")
	fmt.Fprintf(w, "Number of storage nodes: %d\n", st.NNodes)
	fmt.Fprintf(w, "Number of shards: %d\n", st.NShards)
	fmt.Fprintf(w, "Total capacity: %s (encoded, each epoch)\n", formatBytes(st.TotalCapacity))
}

func printSizeInfo(w io.Writer, s *systemInfo) {
	z := s.sizeInfo()
	fmt.Fprintln(w, "Blob size")
	fmt.Fprintf(w, "Maximum blob size: %s (%d B)\n", formatBytes(z.MaxBlobSize), z.MaxBlobSize)
	fmt.Fprintf(w, "Storage unit: %s\n", formatBytes(z.StorageUnitSize))
}

func printPriceInfo(w io.Writer, s *systemInfo) {
	p := s.priceInfo()
	fmt.Fprintln(w, "Storage prices per epoch")
	fmt.Fprintln(w, "(Conversion rate: 1 WAL = 1,000,000,000 FROST)")
	fmt.Fprintf(w, "Price per encoded storage unit: %d FROST\n", p.StoragePricePerUnitSize)
	fmt.Fprintf(w, "Additional price for each write: %d FROST\n", p.WritePricePerUnitSize)
	for _, e := range p.EncodingDependentPriceInfo {
		fmt.Fprintf(w, "\nApproximate prices to store with the %s encoding\n", e.EncodingType)
		fmt.Fprintf(w, "Price to store metadata: %d FROST\n", e.MetadataPrice)
		fmt.Fprintf(w, "Marginal price per additional %s (w/o metadata): %d FROST\n", formatBytes(e.MarginalSize), e.MarginalPrice)
		fmt.Fprintln(w, "Total price for example blob sizes:")
		for _, b := range e.ExampleBlobs {
			fmt.Fprintf(w, "  %s unencoded (%s encoded): %d FROST per epoch\n", formatBytes(b.UnencodedSize), formatBytes(b.EncodedSize), b.Price)
		}
	}
}

func printBftInfo(w io.Writer, s *systemInfo) {
	b := s.bftInfo()
	fmt.Fprintln(w, "BFT system information")
	fmt.Fprintf(w, "Tolerated faults (f): %d shards\n", b.MaxFaultyShards)
	fmt.Fprintf(w, "Quorum threshold (2f+1): %d shards\n", b.QuorumThreshold)
	fmt.Fprintf(w, "Minimum number of correct shards (n-f): %d\n", b.MinCorrectShards)
	fmt.Fprintf(w, "Minimum number of nodes to get above f: %d (%d shards)\n", b.MinNodesAbove, b.ShardsAbove)
}

func printCommitteeInfo(w io.Writer, s *systemInfo) {
	c := s.committeeInfo()
	fmt.Fprintln(w, "Encoding parameters and sizes")
	fmt.Fprintf(w, "Number of shards: %d\n", c.NShards)
	fmt.Fprintf(w, "Number of primary source symbols: %d\n", c.NPrimarySourceSymbols)
	fmt.Fprintf(w, "Number of secondary source symbols: %d\n", c.NSecondarySourceSymbols)
	fmt.Fprintf(w, "Metadata size: %s (%d B)\n", formatBytes(c.MetadataStorageSize), c.MetadataStorageSize)
	fmt.Fprintf(w, "Maximum sliver size: %s (%d B)\n", formatBytes(c.MaxSliverSize), c.MaxSliverSize)
	fmt.Fprintf(w, "Maximum encoded blob size: %s (%d B)\n", formatBytes(c.MaxEncodedBlobSize), c.MaxEncodedBlobSize)
	fmt.Fprintf(w, "Walrus's accounting (full metadata on every shard): metadata %s (%d B), maximum encoded blob %s (%d B)\n",
		formatBytes(c.WalrusMetadataStorageSize), c.WalrusMetadataStorageSize, formatBytes(c.WalrusMaxEncodedBlobSize), c.WalrusMaxEncodedBlobSize)
	fmt.Fprintf(w, "\nCurrent committee: %d storage nodes, %d shards\n", len(c.CurrentStorageNodes), c.NShards)
	printNodes(w, c.CurrentStorageNodes)
	if len(c.NextStorageNodes) > 0 {
		fmt.Fprintf(w, "\nNext committee: %d storage nodes\n", len(c.NextStorageNodes))
		printNodes(w, c.NextStorageNodes)
	}
}

func printNodes(w io.Writer, nodes []storageNodeInfo) {
	for _, m := range nodes {
		fmt.Fprintf(w, "  %s  %-20s %-22s %3d shards %s  stake %s WAL\n", m.NodeID, m.Name, m.NetworkAddress, m.NShards, formatShards(m.ShardIDs), formatWAL(m.Stake))
	}
}

// formatBytes formats a byte count with a binary unit: "1.00 MiB".
func formatBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.2f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// challengeInfo returns the challenge section; on a chain without challenges it says so
// (enabled false) and carries only the governed parameters.
func (s *systemInfo) challengeInfo() infoChallengeOutput {
	g := s.settings
	out := infoChallengeOutput{
		FailureLimit: g.Challenge.FailureLimit, SlashBps: g.Challenge.SlashBasisPoints, StakeMinEpochs: g.Challenge.StakeMinEpochs,
		StakePenaltyBps: g.Challenge.StakePenaltyBasisPoints, ProtocolVersion: g.ProtocolVersion, Members: []infoChallengeMember{},
	}
	st := s.challenge
	if st == nil {
		return out
	}
	names := make(map[chain.ObjectID]string, len(s.committee.Members))
	for _, m := range s.committee.Members {
		names[m.NodeID] = m.Name
	}
	out.Enabled, out.Epoch, out.Phase = true, st.Epoch, st.Phase.String()
	out.Start, out.RevealDeadline = rfc3339(st.Start), rfc3339(st.RevealDeadline)
	out.ExpectedEnd = rfc3339(chain.EpochStartEstimate(s.params, s.system, st.Epoch+1))
	if st.Phase == chain.PhaseAnswer || st.Phase == chain.PhaseSettled {
		out.Seed = hex.EncodeToString(st.Seed[:])
	}
	out.Blobs, out.SampleSize, out.Revealed = st.Blobs, st.SampleSize, st.Revealed
	for _, m := range st.Members {
		out.Members = append(out.Members, infoChallengeMember{NodeID: m.Node.String(), Name: names[m.Node], Shards: m.Shards,
			Revealed: m.Revealed, Passed: m.Passed, ConsecutiveFailures: m.Consecutive})
	}
	return out
}

func (s *systemInfo) challengeInfoIfEnabled() *infoChallengeOutput {
	if s.challenge == nil {
		return nil
	}
	c := s.challengeInfo()
	return &c
}

func printChallengeInfo(w io.Writer, s *systemInfo) {
	c := s.challengeInfo()
	fmt.Fprintln(w, "Storage challenges")
	if !c.Enabled {
		fmt.Fprintln(w, "Not enabled on this chain")
		return
	}
	fmt.Fprintf(w, "Epoch %d: %s phase, %d blobs challenged, %d items per node\n", c.Epoch, c.Phase, c.Blobs, c.SampleSize)
	fmt.Fprintf(w, "Started: %s, reveals until %s, ends about %s\n", c.Start, c.RevealDeadline, c.ExpectedEnd)
	fmt.Fprintf(w, "Revealed: %d of %d members\n", c.Revealed, len(c.Members))
	fmt.Fprintf(w, "Slashing: %d bps of the stake after %d failed epochs in a row; stake-shift penalty %d bps under %d epochs\n",
		c.SlashBps, c.FailureLimit, c.StakePenaltyBps, c.StakeMinEpochs)
	for _, m := range c.Members {
		state := "pending"
		switch {
		case m.Passed:
			state = "passed"
		case !m.Revealed && c.Phase != "reveal":
			state = "no reveal"
		}
		fmt.Fprintf(w, "  %s %s: %s (consecutive failures %d)\n", m.Name, m.NodeID, state, m.ConsecutiveFailures)
	}
}
