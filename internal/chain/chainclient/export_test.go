package chainclient

// Watched reports whether a live new-block subscription wakes the client's tracker.
func (c *Client) Watched() bool { return c.watched.Load() }
