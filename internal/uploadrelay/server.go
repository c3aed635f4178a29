package uploadrelay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// Defaults of Config.
const (
	DefaultMaxBodySize   = 128 << 20
	DefaultMaxConcurrent = 4
	DefaultTimeout       = 5 * time.Minute
	DefaultTipWait       = 30 * time.Second
)

// Uploader does a relay's work: client.Client is one.
type Uploader interface {
	// RelayUpload encodes data, checks that it encodes to id (an error wrapping
	// ErrBlobIDMismatch otherwise), uploads its slivers and metadata to the current
	// committee and returns the certificate of a quorum of confirmations for a permanent
	// blob (deletable nil) or the deletable Blob object *deletable.
	RelayUpload(ctx context.Context, data []byte, id redstuff.BlobID, deletable *chain.ObjectID) (chain.Certificate, error)
	// EncodedLength returns the encoded length of a blob of n bytes on the network.
	EncodedLength(ctx context.Context, n uint64) (uint64, error)
}

// Tips finds tip payments to the relay: TipLedger is one.
type Tips interface {
	// Payment returns the payment made to the relay by the transaction with the given
	// digest, once every event committed when it is called has been seen; an error
	// wrapping ErrNoTipSent if there is none (or it is older than the ledger remembers).
	Payment(ctx context.Context, tx [32]byte) (Payment, error)
}

// Payment is a tip: a chain.TransferWithMemo to the relay.
type Payment struct {
	From   chain.Address
	Amount uint64
	Memo   []byte
}

// Config configures a Server. Uploader is required, and Tips when Tip asks for a tip;
// the other fields have the documented defaults when zero.
type Config struct {
	Uploader Uploader
	// Tip is what the relay asks; the zero value asks nothing.
	Tip TipConfig
	// Tips finds the tips paid (required if Tip asks a tip).
	Tips Tips
	// MaxBodySize bounds a blob's size; 0 means DefaultMaxBodySize (128 MiB).
	MaxBodySize int64
	// MaxConcurrent bounds the uploads in progress; more are refused with 503. 0 means
	// DefaultMaxConcurrent.
	MaxConcurrent int
	// Timeout bounds one upload, from the request to the certificate; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// TipWait bounds how long a request waits for the relay to see the chain's latest
	// events; 0 means DefaultTipWait.
	TipWait time.Duration
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Uploader == nil {
		return c, errors.New("uploadrelay: Config.Uploader is required")
	}
	if c.Tip.RequiresTip() && c.Tips == nil {
		return c, errors.New("uploadrelay: Config.Tips is required when Config.Tip asks a tip")
	}
	if c.MaxBodySize <= 0 {
		c.MaxBodySize = DefaultMaxBodySize
	}
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = DefaultMaxConcurrent
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.TipWait <= 0 {
		c.TipWait = DefaultTipWait
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Server is the relay's HTTP handler. It is safe for concurrent use.
type Server struct {
	cfg Config
	sem chan struct{}

	// mu guards used: the tip transactions that paid for an upload, each accepted once.
	// A tip whose upload failed on the relay's side is released for a retry.
	mu   sync.Mutex
	used map[[32]byte]struct{}
}

// NewServer returns a server; the error names a bad Config field.
func NewServer(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, sem: make(chan struct{}, cfg.MaxConcurrent), used: map[[32]byte]struct{}{}}, nil
}

// statusOf is the one table from errors to HTTP statuses, as Walrus's relay answers.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrNoTipSent), errors.Is(err, ErrInsufficientTip), errors.Is(err, ErrTipUsed):
		return http.StatusPaymentRequired
	case errors.Is(err, ErrInvalidAuthPackage), errors.Is(err, ErrInvalidNonceHash),
		errors.Is(err, ErrBlobLengthMismatch), errors.Is(err, ErrBlobDigestMismatch):
		return http.StatusUnauthorized
	case errors.Is(err, ErrBadRequest), errors.Is(err, ErrMissingTxIDOrNonce), errors.Is(err, ErrBlobIDMismatch):
		return http.StatusBadRequest
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrBusy):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// ServeHTTP serves the relay's routes with CORS open to every origin, as Walrus does.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "*")
	h.Set("Access-Control-Allow-Headers", "*")
	h.Set("Access-Control-Max-Age", "86400")
	var allow string
	switch r.URL.Path {
	case TipConfigRoute:
		allow = http.MethodGet
	case UploadRoute:
		allow = http.MethodPost
	default:
		http.NotFound(w, r)
		return
	}
	switch r.Method {
	case http.MethodOptions:
		w.WriteHeader(http.StatusOK)
	case allow:
		if allow == http.MethodGet {
			writeJSON(w, s.cfg.Tip)
			return
		}
		s.upload(w, r)
	case http.MethodHead:
		if allow == http.MethodGet {
			w.Header().Set("Content-Type", "application/json")
			return
		}
		fallthrough
	default:
		w.Header().Set("Allow", allow)
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func (s *Server) fail(w http.ResponseWriter, err error) {
	status := statusOf(err)
	if status >= 500 {
		s.cfg.Logger.Warn("uploadrelay: upload failed", "err", err)
	}
	http.Error(w, err.Error(), status)
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	default:
		s.fail(w, ErrBusy)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()
	p, err := ParseParams(r.URL.Query())
	if err != nil {
		s.fail(w, err)
		return
	}
	if s.cfg.Tip.RequiresTip() && !p.HasTip {
		s.fail(w, ErrMissingTxIDOrNonce)
		return
	}
	blob, err := readBody(r, s.cfg.MaxBodySize)
	if err != nil {
		s.fail(w, err)
		return
	}
	if s.cfg.Tip.RequiresTip() {
		if err := s.checkTip(ctx, p, blob); err != nil {
			s.fail(w, err)
			return
		}
	}
	start := time.Now()
	cert, err := s.cfg.Uploader.RelayUpload(ctx, blob, p.BlobID, p.DeletableBlobObject)
	if err != nil {
		if s.cfg.Tip.RequiresTip() && !errors.Is(err, ErrBlobIDMismatch) {
			// The relay failed, not the client: the tip may pay for a retry.
			s.mu.Lock()
			delete(s.used, p.TxID)
			s.mu.Unlock()
		}
		s.fail(w, err)
		return
	}
	s.cfg.Logger.Info("uploadrelay: relayed", "blob", p.BlobID, "bytes", len(blob), "duration", time.Since(start))
	writeJSON(w, Response{BlobID: p.BlobID, Certificate: CertificateOf(cert)})
}

// readBody reads at most limit bytes; a longer body is ErrTooLarge, without reading it
// all.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, fmt.Errorf("%w: the body of %d bytes is over the limit of %d bytes", ErrTooLarge, r.ContentLength, limit)
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the body: %w", ErrBadRequest, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: the body is over the limit of %d bytes", ErrTooLarge, limit)
	}
	return b, nil
}

// checkTip checks that p's tip transaction paid the relay enough for blob, committed to
// blob and p's nonce, and was not used before; it then marks it used.
func (s *Server) checkTip(ctx context.Context, p Params, blob []byte) error {
	wctx, cancel := context.WithTimeout(ctx, s.cfg.TipWait)
	defer cancel()
	pay, err := s.cfg.Tips.Payment(wctx, p.TxID)
	if err != nil {
		return err
	}
	encLen, err := s.cfg.Uploader.EncodedLength(ctx, uint64(len(blob)))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	want, ok := s.cfg.Tip.Tip(encLen)
	if !ok {
		return fmt.Errorf("%w: the tip for %d encoded bytes overflows", ErrBadRequest, encLen)
	}
	if pay.Amount < want {
		return fmt.Errorf("%w: balance change %d; expected %d", ErrInsufficientTip, pay.Amount, want)
	}
	ap, err := DecodeAuthPackage(pay.Memo)
	if err != nil {
		return err
	}
	if err := ap.Check(blob, p.Nonce); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.used[p.TxID]; ok {
		return ErrTipUsed
	}
	s.used[p.TxID] = struct{}{}
	return nil
}
