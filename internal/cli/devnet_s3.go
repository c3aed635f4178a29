package cli

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/s3"
)

// The devnet's S3 gateway runs with a wallet and credentials of its own, kept in the
// devnet directory: its own wallet so that its nonces never race the publisher's and
// its renewal extends only the gateway's blobs.
const (
	devnetS3Wallet      = "s3-wallet.json"
	devnetS3Credentials = "s3-credentials.json"
	// devnetS3Funds is what the gateway's wallet takes from the devnet's faucet.
	devnetS3Funds = 1000 * chain.FrostPerWAL
	// devnetS3RenewInterval: the devnet's epochs are minutes long.
	devnetS3RenewInterval = time.Minute
)

// devnetS3Creds is the devnet gateway's credentials file.
type devnetS3Creds struct {
	AccessKey string `json:"accessKey"`
	SecretKey string `json:"secretKey"`
}

// devnetS3Setup returns the devnet gateway's credentials and wallet path, creating both
// on first use (the wallet funded from the faucet through ce, which must name the
// wallet path).
func devnetS3Setup(ce *clientEnv, dir string) (devnetS3Creds, error) {
	var c devnetS3Creds
	credPath := filepath.Join(dir, devnetS3Credentials)
	raw, err := os.ReadFile(credPath)
	switch {
	case err == nil:
		if err := json.Unmarshal(raw, &c); err != nil || c.AccessKey == "" || c.SecretKey == "" {
			return c, fmt.Errorf("%s: not a credentials file", credPath)
		}
	case errors.Is(err, fs.ErrNotExist):
		c = devnetS3Creds{AccessKey: "WALRUS" + newS3Key(7), SecretKey: newS3Key(20)}
		b, _ := json.MarshalIndent(c, "", "  ")
		if err := os.WriteFile(credPath, append(b, '\n'), 0o600); err != nil {
			return c, err
		}
	default:
		return c, err
	}
	walletPath := filepath.Join(dir, devnetS3Wallet)
	if _, err := os.Stat(walletPath); err == nil {
		return c, nil
	}
	signer, err := chainclient.GenerateSigner(rand.Reader)
	if err != nil {
		return c, err
	}
	tmp := walletPath + ".new"
	os.Remove(tmp)
	if err := signer.SaveNew(tmp); err != nil {
		return c, err
	}
	cce := *ce
	cce.walletFlag = tmp
	s, err := cce.connect(ce.ctx, true)
	if err != nil {
		return c, err
	}
	defer s.close()
	if _, err := s.chain.Submit(ce.ctx, s.signer, &chain.Faucet{Amount: devnetS3Funds}); err != nil {
		return c, fmt.Errorf("funding the S3 gateway's wallet from the faucet: %w", err)
	}
	return c, os.Rename(tmp, walletPath)
}

// startDevnetS3 starts the devnet's S3 gateway (unless --s3 off) with ce's context and
// returns the line to print, a channel that receives the gateway's error when it stops,
// and a function that waits for it to stop after ce's context ends.
func startDevnetS3(ce *clientEnv, f devnetFlags, dir string) (string, <-chan error, func(), error) {
	if f.s3 == "off" || f.s3 == "" {
		return "", nil, func() {}, nil
	}
	cce := *ce
	env := *ce.env
	env.json = false
	cce.env = &env
	cce.walletFlag = filepath.Join(dir, devnetS3Wallet)
	creds, err := devnetS3Setup(&cce, dir)
	if err != nil {
		return "", nil, nil, fmt.Errorf("the S3 gateway: %w", err)
	}
	ready := make(chan string, 1)
	stopped := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := runS3(&cce, s3Flags{
			bind: f.s3, accessKey: creds.AccessKey, secretKey: creds.SecretKey, region: "us-east-1",
			epochs: defaultS3Epochs, renewWithin: 1, renewInterval: devnetS3RenewInterval,
			maxObjectMiB: 5 << 10, maxPartMiB: 5 << 10, maxStores: s3.DefaultMaxConcurrentStores,
			ready: func(addr string) { ready <- addr },
		})
		stopped <- err
	}()
	select {
	case addr := <-ready:
		line := fmt.Sprintf("http://%s (access key %s, secret key %s, region us-east-1)", addr, creds.AccessKey, creds.SecretKey)
		return line, stopped, func() { <-done }, nil
	case err := <-stopped:
		if err == nil {
			err = errors.New("stopped")
		}
		return "", nil, nil, fmt.Errorf("the S3 gateway did not start: %w", err)
	}
}
