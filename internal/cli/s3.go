package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/s3"
	"github.com/walrus-go/walrus/internal/s3/chainindex"
)

// Defaults of the s3 command.
const (
	defaultS3Addr = "127.0.0.1:9000"
	// defaultS3Epochs is how long the gateway stores an object's blob at first, and
	// how far ahead renewal extends it.
	defaultS3Epochs = 5
	// s3SecretEnv is where the secret key is read from when --secret-key is not given.
	s3SecretEnv = "WALRUS_S3_SECRET_KEY"
	s3AccessEnv = "WALRUS_S3_ACCESS_KEY"
)

type s3Flags struct {
	bind          string
	accessKey     string
	secretKey     string
	domain        string
	region        string
	epochs        uint32
	renewWithin   uint32
	renewInterval time.Duration
	maxObjectMiB  int64
	maxPartMiB    int64
	maxStores     int
	// ready, if set, is called with the listening address once the gateway serves.
	ready func(addr string)
}

func s3Command(ce *clientEnv) *cobra.Command {
	var f s3Flags
	cmd := &cobra.Command{
		Use:   "s3",
		Short: "Run an S3-compatible gateway (restic, rclone, aws-cli store into Walrus)",
		Long: "Run an S3-compatible HTTP gateway on --bind-address: the S3 REST subset that backup and\n" +
			"sync tools use, authenticated with AWS Signature Version 4 for one access key.\n" +
			"Objects are stored as deletable blobs of the configured wallet for --epochs epochs and\n" +
			"extended before they expire; an overwrite or delete releases the old blob. The secret\n" +
			"key is read from $" + s3SecretEnv + " unless --secret-key is given. docs/s3.md describes\n" +
			"the operations, the limits and the differences from S3. Stops cleanly on interrupt.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runS3(ce, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.bind, "bind-address", defaultS3Addr, "address to serve the S3 API on")
	fl.StringVar(&f.accessKey, "access-key", os.Getenv(s3AccessEnv), "access key the clients sign with (default $"+s3AccessEnv+")")
	fl.StringVar(&f.secretKey, "secret-key", "", "secret key of the access key (default $"+s3SecretEnv+"; a flag is visible to other local users)")
	fl.StringVar(&f.domain, "domain", "", "serve virtual-host-style requests to BUCKET.DOMAIN too (path-style always works)")
	fl.StringVar(&f.region, "region", s3.DefaultRegion, "region GetBucketLocation answers")
	fl.Uint32Var(&f.epochs, "epochs", defaultS3Epochs, "epochs an object's blob is stored for, and kept ahead by renewal")
	fl.Uint32Var(&f.renewWithin, "renew-within", 1, "extend blobs that expire within this many epochs")
	fl.DurationVar(&f.renewInterval, "renew-interval", 10*time.Minute, "how often to look for blobs to extend")
	fl.Int64Var(&f.maxObjectMiB, "max-object-size", s3.DefaultMaxObjectSize>>20, "largest single PutObject, in MiB")
	fl.Int64Var(&f.maxPartMiB, "max-part-size", s3.DefaultMaxPartSize>>20, "largest multipart part, in MiB")
	fl.IntVar(&f.maxStores, "max-concurrent-stores", s3.DefaultMaxConcurrentStores, "uploads stored at once (each holds a few chunks in memory); more wait")
	return cmd
}

// s3Endpoint is the s3 command's --json output once it serves.
type s3Endpoint struct {
	URL       string `json:"url"`
	AccessKey string `json:"accessKey"`
	Region    string `json:"region"`
}

func runS3(ce *clientEnv, f s3Flags) error {
	if f.secretKey == "" {
		f.secretKey = os.Getenv(s3SecretEnv)
	}
	if f.accessKey == "" || f.secretKey == "" {
		return withHint(usageError{errors.New("an access key and a secret key are required")},
			"pass --access-key KEY and set $"+s3SecretEnv+" (or --secret-key)")
	}
	if f.epochs == 0 || f.renewInterval <= 0 || f.maxObjectMiB <= 0 || f.maxPartMiB <= 0 || f.maxStores <= 0 {
		return usageError{errors.New("--epochs, --renew-interval, --max-object-size, --max-part-size and --max-concurrent-stores must be positive")}
	}
	s, err := ce.connect(ce.ctx, true)
	if err != nil {
		return err
	}
	defer s.close()
	log := ce.logger()
	srv, err := s3.NewServer(s3.Config{
		Index:               chainindex.New(s.chain, s.signer),
		Store:               &s3.WalrusStore{C: s.client, Epochs: f.epochs},
		Credentials:         []s3.Credential{{AccessKey: f.accessKey, SecretKey: f.secretKey}},
		Region:              f.region,
		Domain:              f.domain,
		MaxObjectSize:       f.maxObjectMiB << 20,
		MaxPartSize:         f.maxPartMiB << 20,
		MaxConcurrentStores: f.maxStores,
		Logger:              log,
	})
	if err != nil {
		return usageError{err}
	}
	l, err := net.Listen("tcp", f.bind)
	if err != nil {
		return withHint(fmt.Errorf("cannot listen on %s: %w", f.bind, err), "choose another address with --bind-address")
	}
	ctx, cancel := context.WithCancel(ce.ctx)
	defer cancel()
	renewDone := make(chan struct{})
	go func() {
		defer close(renewDone)
		s3.RunRenewal(ctx, s.client, s3.Renewal{Epochs: f.epochs, Within: f.renewWithin, Interval: f.renewInterval}, log)
	}()
	defer func() { cancel(); <-renewDone }()
	hs := srv.HTTPServer()
	hs.BaseContext = func(net.Listener) context.Context { return ctx }
	served := make(chan error, 1)
	go func() { served <- hs.Serve(l) }()
	url := "http://" + l.Addr().String()
	if ce.json {
		json.NewEncoder(ce.stdout).Encode(s3Endpoint{URL: url, AccessKey: f.accessKey, Region: f.region})
	}
	fmt.Fprintf(ce.stderr, "walrus: serving the S3 API on %s (access key %s)\n", url, f.accessKey)
	if f.ready != nil {
		f.ready(l.Addr().String())
	}
	select {
	case err := <-served:
		return err
	case <-ce.ctx.Done():
	}
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ce.ctx), 10*time.Second)
	defer scancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		hs.Close()
	}
	return nil
}

// newS3Key returns a random key of n bytes in hex, for a devnet's generated credentials.
func newS3Key(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
