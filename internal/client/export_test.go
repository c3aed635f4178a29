package client

import "time"

// KeptEncodings reports, by shard count, the idle Encoders the Client keeps and the bytes
// of finished stores' sliver buffers each holds.
func (c *Client) KeptEncodings() map[int]int { return c.encoders.kept() }

// TrimEncodings runs the idle trim of the kept Encoders as if the clock read now.
func (c *Client) TrimEncodings(now time.Time) { c.encoders.trim(now) }

// SpareIdle is how long unused Encoders are kept.
const SpareIdle = spareIdle
