// Package netmetrics computes the network's key metrics from plain numbers: replication
// overhead, stake concentration (Nakamoto coefficient, HHI, Gini, largest share), committee
// churn, uptime, latency percentiles and recovery bandwidth. Every function is pure and
// deterministic: results do not depend on the order of the inputs, and integer results are
// exact. docs/metrics.md states each formula and what it means.
package netmetrics

import (
	"math"
	"slices"
)

// Ratio returns num/den, or 0 when den is 0 (an empty network has no overhead, no share).
func Ratio(num, den uint64) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// Overhead is the replication overhead of stored data.
type Overhead struct {
	Unencoded uint64 `json:"unencodedBytes"` // bytes users stored
	Encoded   uint64 `json:"encodedBytes"`   // bytes the nodes hold for them (slivers and metadata)
	Metadata  uint64 `json:"metadataBytes"`  // of Encoded, the bytes of metadata (hashes, proofs and copies)
	// Factor is Encoded/Unencoded: bytes held per byte stored (0 with nothing stored).
	Factor float64 `json:"factor"`
	// MetadataShare is Metadata/Encoded (0 with nothing stored).
	MetadataShare float64 `json:"metadataShare"`
}

// NewOverhead returns the overhead of unencoded bytes stored as encoded bytes of which
// metadata are metadata copies.
func NewOverhead(unencoded, encoded, metadata uint64) Overhead {
	return Overhead{Unencoded: unencoded, Encoded: encoded, Metadata: metadata,
		Factor: Ratio(encoded, unencoded), MetadataShare: Ratio(metadata, encoded)}
}

// sortedDesc returns a copy of w sorted largest first.
func sortedDesc(w []uint64) []uint64 {
	s := slices.Clone(w)
	slices.Sort(s)
	slices.Reverse(s)
	return s
}

func sum(w []uint64) uint64 {
	var t uint64
	for _, x := range w {
		t += x
	}
	return t
}

// Nakamoto returns the Nakamoto coefficient of the weights (stake or shards per operator):
// the fewest holders whose weight together exceeds one third of the total, the share that
// can stop a Byzantine-fault-tolerant quorum (Walrus needs more than 2/3 of shards to
// certify). It returns 0 if the total is 0. Exact in integers: the smallest k with
// 3·(w₁+…+w_k) > total, weights sorted largest first.
func Nakamoto(w []uint64) int {
	total := sum(w)
	if total == 0 {
		return 0
	}
	var acc uint64
	for i, x := range sortedDesc(w) {
		acc += x
		// 3·acc > total without overflow: acc > ⌊total/3⌋.
		if acc > total/3 {
			return i + 1
		}
	}
	return len(w)
}

// HHI returns the Herfindahl–Hirschman index of the weights on the 0–10,000 scale: the sum
// of the squared percentage shares. 10,000 is one holder of everything; n equal holders give
// 10,000/n. It returns 0 if the total is 0.
func HHI(w []uint64) float64 {
	total := sum(w)
	if total == 0 {
		return 0
	}
	var h float64
	for _, x := range sortedDesc(w) {
		s := 100 * float64(x) / float64(total)
		h += s * s
	}
	return h
}

// Gini returns the Gini coefficient of the weights: 0 when all are equal, (n-1)/n when one
// holder has everything. It is Σᵢ(2i-n-1)·xᵢ / (n·Σx) with x sorted ascending and i from 1.
// It returns 0 for no weights or a zero total.
func Gini(w []uint64) float64 {
	total := sum(w)
	n := len(w)
	if n == 0 || total == 0 {
		return 0
	}
	s := slices.Clone(w)
	slices.Sort(s)
	var num float64
	for i, x := range s {
		num += float64(2*(i+1)-n-1) * float64(x)
	}
	return num / (float64(n) * float64(total))
}

// LargestShare returns the largest weight's share of the total (0 if the total is 0).
func LargestShare(w []uint64) float64 {
	if len(w) == 0 {
		return 0
	}
	return Ratio(slices.Max(w), sum(w))
}

// Concentration is the distribution of one kind of weight (stake or shards) over holders.
type Concentration struct {
	Holders      int     `json:"holders"`
	Total        uint64  `json:"total"`
	Nakamoto     int     `json:"nakamoto"`
	HHI          float64 `json:"hhi"`
	Gini         float64 `json:"gini"`
	LargestShare float64 `json:"largestShare"`
}

// NewConcentration computes every concentration metric of w.
func NewConcentration(w []uint64) Concentration {
	return Concentration{Holders: len(w), Total: sum(w), Nakamoto: Nakamoto(w), HHI: HHI(w), Gini: Gini(w), LargestShare: LargestShare(w)}
}

// ShardsMoved returns the number of shards whose holder differs between two assignments
// (shard index → holder; a shard missing from either side counts as moved if present in
// the other). The first committee has no predecessor: pass a nil prev to get 0.
func ShardsMoved[K comparable](prev, next map[uint16]K) int {
	if prev == nil {
		return 0
	}
	moved := 0
	for s, h := range next {
		if p, ok := prev[s]; !ok || p != h {
			moved++
		}
	}
	for s := range prev {
		if _, ok := next[s]; !ok {
			moved++
		}
	}
	return moved
}

// Uptime counts health samples of one node.
type Uptime struct {
	Up    uint64 `json:"up"`
	Total uint64 `json:"total"`
}

// Add records one sample.
func (u *Uptime) Add(up bool) {
	u.Total++
	if up {
		u.Up++
	}
}

// Fraction returns Up/Total, or 0 with no samples.
func (u Uptime) Fraction() float64 { return Ratio(u.Up, u.Total) }

// Bucket is one cumulative histogram bucket: Count observations were ≤ UpperBound.
type Bucket struct {
	UpperBound float64
	Count      uint64
}

// Percentile returns the q-quantile (0 < q ≤ 1) of a cumulative histogram by linear
// interpolation inside the bucket that holds it, as Prometheus's histogram_quantile does;
// the lowest bucket starts at 0. If the quantile falls in the +Inf bucket it returns the
// largest finite bound. It returns NaN with no observations.
func Percentile(q float64, buckets []Bucket, count uint64) float64 {
	if count == 0 || len(buckets) == 0 {
		return math.NaN()
	}
	b := slices.Clone(buckets)
	slices.SortFunc(b, func(x, y Bucket) int {
		switch {
		case x.UpperBound < y.UpperBound:
			return -1
		case x.UpperBound > y.UpperBound:
			return 1
		}
		return 0
	})
	rank := q * float64(count)
	var lower float64
	var below uint64
	for _, bk := range b {
		if float64(bk.Count) >= rank {
			if math.IsInf(bk.UpperBound, 1) {
				return lower
			}
			in := bk.Count - below
			if in == 0 {
				return bk.UpperBound
			}
			return lower + (bk.UpperBound-lower)*(rank-float64(below))/float64(in)
		}
		lower, below = bk.UpperBound, bk.Count
	}
	return lower
}

// RecoveryPerLostByte returns bytes downloaded to recover data per byte of sliver data
// recovered (0 if nothing was recovered). RedStuff recovers a sliver from symbols about
// one sliver in size, so this is near 1 plus proofs and metadata; a full-replication
// scheme would read the whole blob.
func RecoveryPerLostByte(downloaded, recovered uint64) float64 { return Ratio(downloaded, recovered) }
