package nodetls

import (
	"crypto/tls"
	"net"
	"sync"

	"github.com/walrus-go/walrus/internal/bufpool"
)

// corkSize is the most bytes a corked connection holds before writing them to the
// socket. crypto/tls writes each record (16 KiB at most) with a write syscall of its
// own, and on loopback each such write runs the receiving side's TCP path too: a node
// serving a 2 MB sliver made about 128 of them. Corked, it makes 8.
const corkSize = 256 << 10

// writeBuffers holds the buffers of corked connections: a connection holds one only
// while corked. Up to 16 stay alive across garbage collections (see bufpool).
var writeBuffers = bufpool.New(16)

// NewListener is tls.NewListener for servers of storage nodes: it accepts TLS
// connections (config as from ServerConfig) whose writes can be gathered with Cork.
func NewListener(inner net.Listener, config *tls.Config) net.Listener {
	return &listener{Listener: inner, config: config}
}

type listener struct {
	net.Listener
	config *tls.Config
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return tls.Server(&corkConn{Conn: c}, l.config), nil
}

// corkConn is a connection under TLS whose writes, while corked, are gathered into
// writes of up to corkSize bytes.
type corkConn struct {
	net.Conn
	mu  sync.Mutex
	buf *[]byte // the bytes written and not yet sent; nil when not corked
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		return c.Conn.Write(p)
	}
	if len(*c.buf)+len(p) > corkSize {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) >= corkSize {
			return c.Conn.Write(p)
		}
	}
	*c.buf = append(*c.buf, p...)
	return len(p), nil
}

// flushLocked sends the bytes held; c.mu is held.
func (c *corkConn) flushLocked() error {
	b := *c.buf
	*c.buf = b[:0]
	_, err := c.Conn.Write(b)
	return err
}

// Cork makes the writes to connection conn (an accepted connection of a NewListener
// listener, as http.Server.ConnContext gets it) gather into large socket writes until
// the returned function is called, which sends what is held and returns the error of
// that write. n is the length of the answer about to be written: one shorter than
// corkSize is not corked (it takes few records, and the buffer would be larger than the
// answer: many small answers at once must not hold a 256 KiB buffer each). Whoever corks
// must uncork before it waits for anything from the peer, since what is held does not
// leave: the intended use is around writing one answer, flushed
// (http.ResponseController.Flush) before uncorking. For another connection, or one
// already corked, Cork does nothing and its function returns nil. The function may be
// called more than once.
func Cork(conn net.Conn, n int) (uncork func() error) {
	nothing := func() error { return nil }
	if n < corkSize {
		return nothing
	}
	tc, ok := conn.(*tls.Conn)
	if !ok {
		return nothing
	}
	c, ok := tc.NetConn().(*corkConn)
	if !ok {
		return nothing
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf != nil {
		return nothing
	}
	c.buf = writeBuffers.Get(corkSize)
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() { err = c.uncork() })
		return err
	}
}

// uncork sends the bytes held and stops gathering writes.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.flushLocked()
	writeBuffers.Put(c.buf)
	c.buf = nil
	return err
}
