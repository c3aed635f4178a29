package chainclient

import "time"

// Watched reports whether a live new-block subscription wakes the client's tracker.
func (c *Client) Watched() bool { return c.watched.Load() }

// Announced returns the highest height announced by the client's new-block events.
func (c *Client) Announced() int64 { return c.announced.Load() }

// StartWatch starts the new-block watcher of a dialed client, as its first wait does.
func (c *Client) StartWatch() { c.startWatch() }

// SetWatchSilence sets the silence after which the watcher drops its connection, until
// the returned function restores it.
func SetWatchSilence(d time.Duration) (restore func()) {
	old := watchSilence
	watchSilence = d
	return func() { watchSilence = old }
}
