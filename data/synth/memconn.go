package synth

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// chunk is one Write on an in-memory connection: which side wrote it and the bytes.
type chunk struct {
	fromServer bool
	data       []byte
}

// errStalled reports that both ends of a memPipe wait for data that will never come.
var errStalled = errors.New("in-memory handshake stalled: both sides are reading")

// pipeState is shared by both ends of a memPipe. Only the side holding the turn runs: a side
// that reads from an empty buffer hands the turn to the other side. The two TLS state machines
// therefore interleave deterministically, and the recorded writes (tape) come out in the same
// order on every run, unlike with net.Pipe (which also deadlocks when a TLS 1.3 server writes
// session tickets while the client writes its Finished).
type pipeState struct {
	mu      sync.Mutex
	cond    *sync.Cond
	buf     [2][]byte // buf[s]: bytes waiting to be read by side s (0 client, 1 server)
	turn    int
	waiting [2]bool
	closed  bool
	tape    []chunk
}

// memConn is one end of a memPipe.
type memConn struct {
	st   *pipeState
	side int
}

// memPipe returns the client and server ends of an in-memory, turn-based, recorded connection.
// The client holds the first turn.
func memPipe() (client, server *memConn, st *pipeState) {
	st = &pipeState{}
	st.cond = sync.NewCond(&st.mu)
	return &memConn{st, 0}, &memConn{st, 1}, st
}

func (c *memConn) Read(p []byte) (int, error) {
	st := c.st
	st.mu.Lock()
	defer st.mu.Unlock()
	for {
		if len(st.buf[c.side]) > 0 && st.turn == c.side {
			n := copy(p, st.buf[c.side])
			st.buf[c.side] = st.buf[c.side][n:]
			return n, nil
		}
		if st.closed {
			return 0, io.EOF
		}
		if st.turn == c.side {
			other := 1 - c.side
			if st.waiting[other] && len(st.buf[other]) == 0 {
				return 0, errStalled
			}
			st.turn = other
			st.cond.Broadcast()
		}
		st.waiting[c.side] = true
		st.cond.Wait()
		st.waiting[c.side] = false
	}
}

func (c *memConn) Write(p []byte) (int, error) {
	st := c.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return 0, io.ErrClosedPipe
	}
	if len(p) == 0 {
		return 0, nil
	}
	st.tape = append(st.tape, chunk{c.side == 1, append([]byte(nil), p...)})
	st.buf[1-c.side] = append(st.buf[1-c.side], p...)
	return len(p), nil
}

// Close closes both ends.
func (c *memConn) Close() error {
	c.st.mu.Lock()
	c.st.closed = true
	c.st.cond.Broadcast()
	c.st.mu.Unlock()
	return nil
}

// recorded returns the writes so far.
func (st *pipeState) recorded() []chunk {
	st.mu.Lock()
	defer st.mu.Unlock()
	return append([]chunk(nil), st.tape...)
}

type memAddr string

func (a memAddr) Network() string { return "mem" }
func (a memAddr) String() string  { return string(a) }

func (c *memConn) LocalAddr() net.Addr              { return memAddr("local") }
func (c *memConn) RemoteAddr() net.Addr             { return memAddr("remote") }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }
