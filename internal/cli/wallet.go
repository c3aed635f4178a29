package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
)

const (
	// walletFileName is the wallet key file in the default configuration directory, used
	// when neither --wallet nor the configuration names one.
	walletFileName = "wallet.json"
	// chainTimeout bounds a client command's work on the chain.
	chainTimeout = 2 * time.Minute
)

// chainCall dials the chain as configured and returns it with a context bounded by
// chainTimeout; done cancels the context and closes the client.
func (ce *clientEnv) chainCall() (conn *chainConn, ctx context.Context, done func(), err error) {
	ctx, cancel := context.WithTimeout(ce.ctx, chainTimeout)
	conn, err = ce.dialChain(ctx)
	if err != nil {
		cancel()
		return nil, nil, nil, err
	}
	return conn, ctx, func() { cancel(); conn.chain.Close() }, nil
}

// chainError adds a hint to errors of an unreachable node.
func (conn *chainConn) chainError(err error) error {
	var ce *chainclient.Error
	if err == nil || errors.As(err, &ce) {
		return err
	}
	return withHint(err, "is a validator running at "+conn.config.RPCURL+"? check "+conn.config.field("rpc_url"))
}

func walletCommand(ce *clientEnv) *cobra.Command {
	cmd := &cobra.Command{Use: "wallet", Short: "Manage the account key used to pay for transactions"}
	cmd.AddCommand(walletNewCommand(ce), walletAddressCommand(ce), walletBalanceCommand(ce))
	return cmd
}

func walletNewCommand(ce *clientEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "new",
		Short: "Create a new wallet key file",
		Long: "Create a new wallet key file at --wallet, else at the wallet the client configuration\n" +
			"names, else at ~/.config/walrus/" + walletFileName + ". An existing key is never overwritten.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := ce.newWalletPath()
			if err != nil {
				return err
			}
			s, err := chainclient.GenerateSigner(rand.Reader)
			if err != nil {
				return err
			}
			if err := s.SaveNew(path); err != nil {
				if errors.Is(err, fs.ErrExist) {
					return withHint(fmt.Errorf("a wallet already exists at %s", path), "keys are never overwritten; pass --wallet NEWFILE")
				}
				return err
			}
			if ce.json {
				return ce.printJSON(map[string]string{"address": s.Address().String(), "wallet": path})
			}
			fmt.Fprintf(ce.stdout, "Created wallet %s\nAddress: %s\n", path, s.Address())
			return nil
		},
	}
}

// newWalletPath is where 'wallet new' writes: the wallet of the configuration, which may
// be missing; only a broken configuration is an error.
func (ce *clientEnv) newWalletPath() (string, error) {
	if ce.walletFlag != "" {
		return ce.walletFlag, nil
	}
	cfg, err := ce.resolve()
	if cfg.Wallet != "" && (err == nil || !cfg.Found) {
		return cfg.Wallet, nil
	}
	if err != nil {
		return "", err
	}
	return "", withHint(errors.New("no wallet path"), "pass --wallet FILE")
}

func walletAddressCommand(ce *clientEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "address",
		Short: "Print the wallet's account address",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := ce.loadWallet()
			if err != nil {
				return err
			}
			if ce.json {
				return ce.printJSON(map[string]string{"address": s.Address().String()})
			}
			fmt.Fprintln(ce.stdout, s.Address())
			return nil
		},
	}
}

// loadWallet loads the wallet of the configuration (see clientConfig.loadWallet). A
// missing configuration file is fine here when the wallet itself exists.
func (ce *clientEnv) loadWallet() (*chainclient.Signer, error) {
	cfg, err := ce.resolve()
	if err != nil && (cfg.Found || cfg.Wallet == "") {
		return nil, err
	}
	return cfg.loadWallet()
}

// walletBalanceResult is the --json output of wallet balance and faucet.
type walletBalanceResult struct {
	Address string `json:"address"`
	Balance uint64 `json:"balanceFrost"`
	WAL     string `json:"balanceWal"`
	Nonce   uint64 `json:"nonce"`
	// ChainID is the chain that answered.
	ChainID string `json:"chainId"`
}

func walletBalanceCommand(ce *clientEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "balance [ADDRESS]",
		Short: "Print the WAL balance of the wallet (or of ADDRESS)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var addr chain.Address
			if len(args) == 1 {
				a, err := chain.ParseAddress(args[0])
				if err != nil {
					return usageError{err}
				}
				addr = a
			} else {
				s, err := ce.loadWallet()
				if err != nil {
					return err
				}
				addr = s.Address()
			}
			conn, ctx, done, err := ce.chainCall()
			if err != nil {
				return err
			}
			defer done()
			acct, err := conn.chain.Account(ctx, addr)
			if err != nil {
				return conn.chainError(err)
			}
			return ce.printBalance(conn.params.ChainID, addr, acct)
		},
	}
}

func (e *env) printBalance(chainID string, addr chain.Address, acct chain.Account) error {
	res := walletBalanceResult{Address: addr.String(), Balance: acct.Balance, WAL: formatWAL(acct.Balance), Nonce: acct.Nonce, ChainID: chainID}
	if e.json {
		return e.printJSON(res)
	}
	fmt.Fprintf(e.stdout, "%s: %s WAL on %s\n", res.Address, res.WAL, chainID)
	return nil
}

func faucetCommand(ce *clientEnv) *cobra.Command {
	var amount string
	cmd := &cobra.Command{
		Use:   "faucet",
		Short: "Mint WAL to the wallet on a development chain",
		Long:  "Mint WAL to the wallet's account. Only chains whose genesis enables the faucet accept it.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := ce.loadWallet()
			if err != nil {
				return err
			}
			conn, ctx, done, err := ce.chainCall()
			if err != nil {
				return err
			}
			defer done()
			p := conn.params
			if p.FaucetMax == 0 {
				return withHint(fmt.Errorf("chain %s has no faucet", p.ChainID), "its genesis did not enable one ('walrus chain init --faucet'); ask a funded account for a transfer")
			}
			want := p.FaucetMax
			if amount != "" {
				if want, err = parseWAL(amount); err != nil || want == 0 {
					return usageError{fmt.Errorf("--amount %q: want a positive amount of WAL", amount)}
				}
				if want > p.FaucetMax {
					return usageError{fmt.Errorf("--amount %s WAL is above the faucet's limit of %s WAL", amount, formatWAL(p.FaucetMax))}
				}
			}
			if _, err := conn.chain.Submit(ctx, s, &chain.Faucet{Amount: want}); err != nil {
				return conn.chainError(err)
			}
			acct, err := conn.chain.Account(ctx, s.Address())
			if err != nil {
				return conn.chainError(err)
			}
			if !ce.json {
				fmt.Fprintf(ce.stdout, "Received %s WAL\n", formatWAL(want))
			}
			return ce.printBalance(p.ChainID, s.Address(), acct)
		},
	}
	cmd.Flags().StringVar(&amount, "amount", "", "WAL to mint (default: the faucet's limit)")
	return cmd
}

// formatShards lists shards compactly: "[0-2,7]".
func formatShards(s []uint16) string {
	var parts []string
	for i := 0; i < len(s); {
		j := i
		for j+1 < len(s) && s[j+1] == s[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, fmt.Sprint(s[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", s[i], s[j]))
		}
		i = j + 1
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// parseWAL parses an amount of WAL with up to 9 decimals ("1.5") into FROST.
func parseWAL(s string) (uint64, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() < 0 || strings.ContainsAny(s, "/eE") {
		return 0, fmt.Errorf("%q is not an amount of WAL", s)
	}
	r.Mul(r, new(big.Rat).SetInt64(chain.FrostPerWAL))
	if !r.IsInt() {
		return 0, fmt.Errorf("%q has more than 9 decimals", s)
	}
	if !r.Num().IsUint64() {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return r.Num().Uint64(), nil
}

// formatWAL formats FROST as WAL without trailing zeros.
func formatWAL(frost uint64) string {
	whole, frac := frost/chain.FrostPerWAL, frost%chain.FrostPerWAL
	if frac == 0 {
		return fmt.Sprint(whole)
	}
	return strings.TrimRight(fmt.Sprintf("%d.%09d", whole, frac), "0")
}
