package chain

// EpochStartEstimate returns the block time (Unix nanoseconds) at which epoch is expected to
// start, given the current system state and parameters: the current epoch's start plus one
// epoch duration per epoch after it. For an epoch at or before the current one it returns the
// current epoch's start. The estimate assumes every later epoch change completes on time; a
// change that waits for its sync deadline starts the epoch later, never earlier.
//
// A blob whose storage ends at epoch e (exclusive) stops being available when epoch e starts,
// so EpochStartEstimate(p, s, e) is its expiry time.
func EpochStartEstimate(p Params, s SystemState, epoch uint32) int64 {
	if epoch <= s.Epoch {
		return s.EpochStart
	}
	n := int64(epoch - s.Epoch)
	if p.EpochDuration > 0 && n > (1<<62)/p.EpochDuration {
		return 1<<63 - 1
	}
	return s.EpochStart + n*p.EpochDuration
}

// EpochsUntil returns the smallest end epoch (exclusive) whose expected start is at or after
// t (Unix nanoseconds): the end epoch a blob needs to stay available until at least t. It is
// at least the current epoch plus one.
func EpochsUntil(p Params, s SystemState, t int64) uint32 {
	end := s.Epoch + 1
	if p.EpochDuration <= 0 || t <= s.EpochStart {
		return end
	}
	n := (t - s.EpochStart + p.EpochDuration - 1) / p.EpochDuration
	if n > int64(^uint32(0)-s.Epoch) {
		return ^uint32(0)
	}
	if e := s.Epoch + uint32(n); e > end {
		return e
	}
	return end
}
