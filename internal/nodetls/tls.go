package nodetls

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Errors of peer verification.
var (
	// ErrKeyMismatch is a node whose certificate's key is not the network key registered
	// for it: a man in the middle, or a node serving with the wrong key.
	ErrKeyMismatch = errors.New("nodetls: the node's certificate key is not its registered network key")
	// ErrNoPeerKey is a TLS request that says no key to expect (WithPeerKey).
	ErrNoPeerKey = errors.New("nodetls: no network key to verify the node against")
	// ErrNotTLS is an answer to an https request that did not come over TLS.
	ErrNotTLS = errors.New("nodetls: the answer did not come over TLS")
)

// certificateLifetime is the validity of the self-signed certificate. Clients check the key
// only, not the dates, so it only has to look sane to tools that print it.
const certificateLifetime = 100 * 365 * 24 * time.Hour

// Certificate returns a self-signed certificate over key, as a node serves it. now sets its
// validity start (an hour earlier, for clock skew).
func Certificate(key ed25519.PrivateKey, now time.Time) (tls.Certificate, error) {
	pub := key.Public().(ed25519.PublicKey)
	tmpl := &x509.Certificate{
		SerialNumber:          new(big.Int).SetBytes(append([]byte{1}, pub[:16]...)), // positive, per key
		Subject:               pkix.Name{CommonName: "walrus-node"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certificateLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("nodetls: certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// ServerConfig returns the TLS configuration of a node's API server: TLS 1.3 with a
// self-signed certificate over key, HTTP/1.1.
func ServerConfig(key ed25519.PrivateKey, now time.Time) (*tls.Config, error) {
	cert, err := Certificate(key, now)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS13,
		NextProtos:   []string{"http/1.1"},
	}, nil
}

// ClientConfig returns the TLS configuration of connections to the node whose network key
// is want: the connection is refused (ErrKeyMismatch) unless the node's certificate is over
// want. The TLS 1.3 handshake proves the node holds the certificate key's private half;
// certificate chains, names and dates are not checked.
func ClientConfig(want [KeySize]byte) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		NextProtos:         []string{"http/1.1"},
		InsecureSkipVerify: true, // replaced by the pin of VerifyConnection
		VerifyConnection:   func(cs tls.ConnectionState) error { return CheckPeer(&cs, want) },
	}
}

// CheckPeer verifies that a TLS connection's peer certificate is over the network key
// want. A nil state (the answer did not come over TLS) gives ErrNotTLS.
func CheckPeer(cs *tls.ConnectionState, want [KeySize]byte) error {
	if cs == nil {
		return ErrNotTLS
	}
	if len(cs.PeerCertificates) == 0 {
		return fmt.Errorf("%w: no certificate", ErrKeyMismatch)
	}
	got, ok := cs.PeerCertificates[0].PublicKey.(ed25519.PublicKey)
	if !ok {
		return fmt.Errorf("%w: certificate key is %T, not ed25519", ErrKeyMismatch, cs.PeerCertificates[0].PublicKey)
	}
	if !bytes.Equal(got, want[:]) {
		return fmt.Errorf("%w: got %x…, registered %x…", ErrKeyMismatch, got[:8], want[:8])
	}
	return nil
}
