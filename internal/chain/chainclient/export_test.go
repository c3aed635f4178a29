package chainclient

// Watched reports whether a live new-block subscription wakes the client's tracker.
func (c *Client) Watched() bool { return c.watched.Load() }

// Announced returns the highest height announced by the client's new-block events.
func (c *Client) Announced() int64 { return c.announced.Load() }
