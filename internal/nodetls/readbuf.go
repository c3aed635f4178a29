package nodetls

import (
	"context"
	"net"

	"github.com/walrus-go/walrus/internal/bufpool"
)

// connReadSize is the size of the reads a Transport's connections make from the
// socket while an answer streams in. crypto/tls reads about one record (16 KiB) per read
// of its connection, a syscall each: a 2 MB sliver took about 64 of them. Reading up to
// 256 KiB at a time and handing the records to TLS from memory takes about a sixth of the
// syscalls for one extra copy, less CPU per byte read.
const connReadSize = 256 << 10

// readBuffers holds the read buffers of connections between reads: a connection takes
// one only to read the socket when bytes are known to be waiting, and holds it only
// while it has bytes TLS has not taken yet, so idle connections hold none. Up to 16 stay
// alive across garbage collections (see bufpool).
var readBuffers = bufpool.New(16)

// readBufferedConn is a connection that reads the socket connReadSize bytes at a time
// while an answer streams in, serving the reads of TLS from a pooled buffer. A read of
// the socket that filled what it was given says more bytes are waiting: the next one
// takes a buffer. One that did not (the socket is drained: an answer is complete, or
// the peer is slower than the reader) says nothing is known to be waiting: the next read
// goes straight into the caller's slice, so that a connection waiting for bytes (an idle
// connection of a pool waits for its next answer that way) holds no buffer. It is read
// by one goroutine at a time (as net/http and crypto/tls read their connections); its
// other methods are the connection's.
type readBufferedConn struct {
	net.Conn
	buf  *[]byte // bytes read and not yet returned are (*buf)[r:w]; nil when there are none
	r, w int
	more bool // the last read of the socket filled what it was given
}

func (c *readBufferedConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if c.buf == nil {
		if !c.more || len(p) >= connReadSize {
			n, err := c.Conn.Read(p)
			c.more = n == len(p)
			return n, err
		}
		b := readBuffers.Get(connReadSize)
		n, err := c.Conn.Read((*b)[:connReadSize])
		c.more = n == connReadSize
		if n <= 0 {
			readBuffers.Put(b)
			return 0, err
		}
		// An error that came with bytes is met again by the next read of the socket.
		c.buf, c.r, c.w = b, 0, n
	}
	n := copy(p, (*c.buf)[c.r:c.w])
	c.r += n
	if c.r == c.w {
		readBuffers.Put(c.buf)
		c.buf = nil
	}
	return n, nil
}

// dialFunc is the signature of http.Transport.DialContext.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// readBuffered returns dial (net.Dialer's zero value if nil, as for http.Transport)
// with its connections wrapped in readBufferedConn.
func readBuffered(dial dialFunc) dialFunc {
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &readBufferedConn{Conn: c}, nil
	}
}
