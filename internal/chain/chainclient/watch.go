package chainclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// Wake-ups from a dialed node. Polling alone finds a new block up to PollMax late (the
// interval doubles while the chain is idle), and a store waits for three blocks in a
// row (registration, the storage nodes' view of it, certification). A dialed Client
// therefore also subscribes to the node's new-block headers over its websocket endpoint
// while anyone waits, and wakes the tracker on each. As with the in-process subscription,
// the events are only hints: the tracker still reads heights and results itself. While the
// subscription is live (the node acknowledged it and the connection has not failed) the
// tracker polls only every IdlePoll, to cover an event lost without the connection
// failing; once the connection fails it polls at PollMin..PollMax again until a new
// subscription is acknowledged. So a lost or refused subscription costs latency, never
// results.

// watchSilence bounds the silence of a subscription's connection: CometBFT's websocket
// server pings every 27 s, and every new block sends an event, so a connection silent
// for longer lost its node without being closed (a host that died or a network cut
// leaves no reset behind), and the watcher connects again, to the endpoint current by
// then. A variable for the tests.
var watchSilence = time.Minute

// watchReadLimit bounds one websocket message from the node (a new-block header event is
// a few KiB).
const watchReadLimit = 1 << 20

// subscribeRequest asks a CometBFT node for its new-block header events.
const subscribeRequest = `{"jsonrpc":"2.0","id":"chainclient-watch","method":"subscribe","params":{"query":"tm.event='NewBlockHeader'"}}`

// wsURL returns the websocket endpoint of a node dialed at addr (http, https or tcp
// URL), or "" if it has none.
func wsURL(addr string) string {
	u, err := url.Parse(addr)
	if err != nil {
		return ""
	}
	switch u.Scheme {
	case "http", "tcp":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return ""
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/websocket"
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}

// startWatch starts the websocket watcher once, for a dialed Client (no-op otherwise).
func (c *Client) startWatch() {
	if c.wsURL == nil {
		return
	}
	c.watchOnce.Do(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.closed {
			return
		}
		c.wg.Add(1)
		go c.watch()
	})
}

// watch keeps a new-block subscription open until the Client closes, reconnecting with
// exponential backoff (RetryMin to RetryMax) after each failure.
func (c *Client) watch() {
	defer c.wg.Done()
	backoff := c.opts.RetryMin
	for {
		start := time.Now()
		err := c.watchConn()
		if c.ctx.Err() != nil {
			return
		}
		c.logger.Debug("chainclient: new-block subscription ended; polling meanwhile", "err", err)
		if time.Since(start) > c.opts.RetryMax {
			backoff = c.opts.RetryMin // it ran for a while: a new failure
		}
		if c.sleep(c.ctx, backoff) != nil {
			return
		}
		backoff = min(2*backoff, c.opts.RetryMax)
	}
}

// errNoWebsocket: the current endpoint has no websocket URL (an unknown scheme).
var errNoWebsocket = errors.New("chainclient: the node has no websocket endpoint")

// errSubscribeRefused: the node answered the subscription with an error (too many
// subscribers, say).
var errSubscribeRefused = errors.New("chainclient: the node refused the new-block subscription")

// watchConn runs one websocket connection: subscribe, then poke the tracker on every
// message, until the connection fails or the Client closes.
func (c *Client) watchConn() error {
	d := websocket.Dialer{HandshakeTimeout: c.opts.CallTimeout}
	u := c.wsURL()
	if u == "" {
		return errNoWebsocket
	}
	conn, resp, err := d.DialContext(c.ctx, u, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(c.ctx, func() { conn.Close() })
	defer stop()
	conn.SetReadLimit(watchReadLimit)
	conn.SetPingHandler(func(data string) error {
		// Gorilla's default answer, plus the deadline: a ping is a sign of life.
		if err := conn.SetReadDeadline(time.Now().Add(watchSilence)); err != nil {
			return err
		}
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(c.opts.CallTimeout))
		var netErr net.Error
		if errors.Is(err, websocket.ErrCloseSent) || errors.As(err, &netErr) {
			return nil
		}
		return err
	})
	if err := conn.SetWriteDeadline(time.Now().Add(c.opts.CallTimeout)); err != nil {
		return err
	}
	if err := conn.WriteMessage(websocket.TextMessage, []byte(subscribeRequest)); err != nil {
		return err
	}
	defer c.watched.Store(false)
	// Heights announced by an earlier connection may be another chain's (a devnet reset
	// behind the same address).
	c.announced.Store(0)
	for {
		if err := conn.SetReadDeadline(time.Now().Add(watchSilence)); err != nil {
			return err
		}
		_, msg, err := conn.ReadMessage()
		if err != nil {
			return err
		}
		var m struct {
			Error *struct {
				Message string `json:"message"`
				Data    string `json:"data"`
			} `json:"error"`
			Result struct {
				Data struct {
					Value struct {
						Header struct {
							Height int64 `json:"height,string"`
						} `json:"header"`
					} `json:"value"`
				} `json:"data"`
			} `json:"result"`
		}
		err = json.Unmarshal(msg, &m)
		if err == nil && m.Error != nil {
			return fmt.Errorf("%w: %s %s", errSubscribeRefused, m.Error.Message, m.Error.Data)
		}
		// The first answer acknowledges the subscription; each later one is a new block.
		c.watched.Store(true)
		if err == nil {
			c.announce(m.Result.Data.Value.Header.Height)
		}
		c.poke()
	}
}
