package tlsfp

import (
	"errors"
	"fmt"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrTruncated means the message ended before a length field said it would.
	ErrTruncated = errors.New("truncated")
	// ErrMalformed means a field holds a value the format does not allow.
	ErrMalformed = errors.New("malformed")
	// ErrNotHello means the bytes are not the expected handshake message.
	ErrNotHello = errors.New("not a hello")
	// ErrTooLarge means a message exceeds the tracker's bounded buffer.
	ErrTooLarge = errors.New("message too large")
	// ErrDecrypt means a QUIC Initial packet failed authentication.
	ErrDecrypt = errors.New("decryption failed")
	// ErrUnsupportedVersion means a QUIC version whose Initial keys are unknown.
	ErrUnsupportedVersion = errors.New("unsupported QUIC version")
)

// OffsetError locates a parse error: Offset counts bytes from the start of the input given
// to the parser (the handshake message, the datagram, or the flow direction's stream).
type OffsetError struct {
	What   string // the structure being parsed, e.g. "client hello extensions"
	Offset int
	Err    error
}

// Error formats the error as "what: offset N: cause".
func (e *OffsetError) Error() string {
	return fmt.Sprintf("%s: offset %d: %v", e.What, e.Offset, e.Err)
}

// Unwrap returns the sentinel cause.
func (e *OffsetError) Unwrap() error { return e.Err }

func errAt(what string, off int, err error) error {
	return &OffsetError{What: what, Offset: off, Err: err}
}
