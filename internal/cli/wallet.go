package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
)

// Where the client commands find the chain and the wallet: flags first, then the
// environment, then the defaults.
const (
	envRPC         = "WALRUS_RPC"
	envWallet      = "WALRUS_WALLET"
	defaultRPC     = "http://127.0.0.1:26657"
	walletFileName = "wallet.json"
	// chainTimeout bounds a client command's work on the chain.
	chainTimeout = 2 * time.Minute
)

// clientFlags are the flags of commands that talk to the chain.
type clientFlags struct {
	rpc    string
	wallet string
}

func (f *clientFlags) addRPC(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.rpc, "rpc", "", "CometBFT JSON-RPC address of a validator (default $"+envRPC+" or "+defaultRPC+")")
}

func (f *clientFlags) addWallet(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.wallet, "wallet", "", "wallet key file (default $"+envWallet+" or ~/.config/walrus/"+walletFileName+")")
}

func (f *clientFlags) rpcAddr() string {
	if f.rpc != "" {
		return f.rpc
	}
	if v := os.Getenv(envRPC); v != "" {
		return v
	}
	return defaultRPC
}

func (f *clientFlags) walletPath() (string, error) {
	if f.wallet != "" {
		return f.wallet, nil
	}
	if v := os.Getenv(envWallet); v != "" {
		return v, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", withHint(fmt.Errorf("no wallet path: %w", err), "pass --wallet FILE")
	}
	return filepath.Join(dir, "walrus", walletFileName), nil
}

func (f *clientFlags) loadWallet() (*chainclient.Signer, string, error) {
	path, err := f.walletPath()
	if err != nil {
		return nil, "", err
	}
	s, err := chainclient.LoadSigner(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, path, withHint(fmt.Errorf("no wallet at %s", path), "create one with 'walrus wallet new'")
	}
	if err != nil {
		return nil, path, err
	}
	return s, path, nil
}

// dial returns a chain client and a context bounded by chainTimeout.
func (f *clientFlags) dial(e *env) (*chainclient.Client, context.Context, context.CancelFunc, error) {
	c, err := chainclient.Dial(f.rpcAddr(), chainclient.Options{})
	if err != nil {
		return nil, nil, nil, usageError{fmt.Errorf("--rpc: %w", err)}
	}
	ctx, cancel := context.WithTimeout(e.ctx, chainTimeout)
	return c, ctx, func() { cancel(); c.Close() }, nil
}

// chainError adds a hint to errors of an unreachable node.
func chainError(f *clientFlags, err error) error {
	var ce *chainclient.Error
	if err == nil || errors.As(err, &ce) {
		return err
	}
	return withHint(err, "is a validator running at "+f.rpcAddr()+"? ('walrus chain start', or set --rpc)")
}

func walletCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "wallet", Short: "Manage the account key used to pay for transactions"}
	cmd.AddCommand(walletNewCommand(e), walletAddressCommand(e), walletBalanceCommand(e))
	return cmd
}

func walletNewCommand(e *env) *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "new",
		Short: "Create a new wallet key file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := f.walletPath()
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
			if e.json {
				return e.printJSON(map[string]string{"address": s.Address().String(), "wallet": path})
			}
			fmt.Fprintf(e.stdout, "Created wallet %s\nAddress: %s\n", path, s.Address())
			return nil
		},
	}
	f.addWallet(cmd)
	return cmd
}

func walletAddressCommand(e *env) *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "address",
		Short: "Print the wallet's account address",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, _, err := f.loadWallet()
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(map[string]string{"address": s.Address().String()})
			}
			fmt.Fprintln(e.stdout, s.Address())
			return nil
		},
	}
	f.addWallet(cmd)
	return cmd
}

// walletBalanceResult is the --json output of wallet balance and faucet.
type walletBalanceResult struct {
	Address string `json:"address"`
	Balance uint64 `json:"balanceFrost"`
	WAL     string `json:"balanceWal"`
	Nonce   uint64 `json:"nonce"`
}

func walletBalanceCommand(e *env) *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
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
				s, _, err := f.loadWallet()
				if err != nil {
					return err
				}
				addr = s.Address()
			}
			c, ctx, done, err := f.dial(e)
			if err != nil {
				return err
			}
			defer done()
			acct, err := c.Account(ctx, addr)
			if err != nil {
				return chainError(&f, err)
			}
			return e.printBalance(addr, acct)
		},
	}
	f.addWallet(cmd)
	f.addRPC(cmd)
	return cmd
}

func (e *env) printBalance(addr chain.Address, acct chain.Account) error {
	res := walletBalanceResult{Address: addr.String(), Balance: acct.Balance, WAL: formatWAL(acct.Balance), Nonce: acct.Nonce}
	if e.json {
		return e.printJSON(res)
	}
	fmt.Fprintf(e.stdout, "%s: %s WAL\n", res.Address, res.WAL)
	return nil
}

func faucetCommand(e *env) *cobra.Command {
	var f clientFlags
	var amount string
	cmd := &cobra.Command{
		Use:   "faucet",
		Short: "Mint WAL to the wallet on a development chain",
		Long:  "Mint WAL to the wallet's account. Only chains whose genesis enables the faucet accept it.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, _, err := f.loadWallet()
			if err != nil {
				return err
			}
			c, ctx, done, err := f.dial(e)
			if err != nil {
				return err
			}
			defer done()
			p, err := c.Params(ctx)
			if err != nil {
				return chainError(&f, err)
			}
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
			if _, err := c.Submit(ctx, s, &chain.Faucet{Amount: want}); err != nil {
				return chainError(&f, err)
			}
			acct, err := c.Account(ctx, s.Address())
			if err != nil {
				return chainError(&f, err)
			}
			if !e.json {
				fmt.Fprintf(e.stdout, "Received %s WAL\n", formatWAL(want))
			}
			return e.printBalance(s.Address(), acct)
		},
	}
	cmd.Flags().StringVar(&amount, "amount", "", "WAL to mint (default: the faucet's limit)")
	f.addWallet(cmd)
	f.addRPC(cmd)
	return cmd
}

// chainInfoResult is the --json output of info.
type chainInfoResult struct {
	ChainID        string `json:"chainId"`
	Height         int64  `json:"height"`
	Epoch          uint32 `json:"epoch"`
	EpochState     string `json:"epochState"`
	EpochDuration  string `json:"epochDuration"`
	NShards        uint16 `json:"nShards"`
	StoragePrice   uint64 `json:"storagePricePerMiBPerEpoch"`
	WritePrice     uint64 `json:"writePricePerMiB"`
	Capacity       uint64 `json:"totalCapacityBytes"`
	MaxEpochsAhead uint32 `json:"maxEpochsAhead"`
	MinFee         uint64 `json:"minFee"`
	// SignatureFee and NodeRegistrationFee add to MinFee (see chain.Params.MinFeeFor).
	SignatureFee        uint64                 `json:"signatureFee"`
	NodeRegistrationFee uint64                 `json:"nodeRegistrationFee"`
	FaucetMax           uint64                 `json:"faucetMax"`
	FaucetAccountMax    uint64                 `json:"faucetAccountMax"`
	FaucetTotalMax      uint64                 `json:"faucetTotalMax"`
	Committee           []chainCommitteeMember `json:"committee"`
}

type chainCommitteeMember struct {
	NodeID         string   `json:"nodeId"`
	Name           string   `json:"name"`
	NetworkAddress string   `json:"networkAddress"`
	Shards         []uint16 `json:"shards"`
}

func chainInfoCommand(e *env) *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Print the state of the Walrus system: epoch, committee, shards, prices, capacity",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ctx, done, err := f.dial(e)
			if err != nil {
				return err
			}
			defer done()
			p, err := c.Params(ctx)
			if err != nil {
				return chainError(&f, err)
			}
			sys, err := c.System(ctx)
			if err != nil {
				return chainError(&f, err)
			}
			cmt, err := c.CommitteeAt(ctx, sys.Epoch)
			if err != nil {
				return chainError(&f, err)
			}
			h, err := c.Height(ctx)
			if err != nil {
				return chainError(&f, err)
			}
			res := chainInfoResult{
				ChainID: p.ChainID, Height: h, Epoch: sys.Epoch, EpochState: sys.EpochState.String(),
				EpochDuration: time.Duration(p.EpochDuration).String(), NShards: p.NShards,
				StoragePrice: sys.StoragePrice, WritePrice: sys.WritePrice, Capacity: sys.TotalCapacity,
				MaxEpochsAhead: p.MaxEpochsAhead, MinFee: p.MinFee, FaucetMax: p.FaucetMax,
				SignatureFee: p.SignatureFee, NodeRegistrationFee: p.NodeRegistrationFee,
				FaucetAccountMax: p.FaucetAccountMax, FaucetTotalMax: p.FaucetTotalMax,
			}
			for _, m := range cmt.Members {
				res.Committee = append(res.Committee, chainCommitteeMember{NodeID: m.NodeID.String(), Name: m.Name, NetworkAddress: m.NetworkAddress, Shards: m.Shards})
			}
			if e.json {
				return e.printJSON(res)
			}
			w := e.stdout
			fmt.Fprintf(w, "Chain %s at height %d\n", res.ChainID, res.Height)
			fmt.Fprintf(w, "Epoch %d (%s), epochs last %s\n", res.Epoch, res.EpochState, res.EpochDuration)
			fmt.Fprintf(w, "Storage price: %d FROST per MiB per epoch; write price: %d FROST per MiB\n", res.StoragePrice, res.WritePrice)
			fmt.Fprintf(w, "Capacity: %d bytes (encoded); storage can be bought up to %d epochs ahead\n", res.Capacity, res.MaxEpochsAhead)
			fmt.Fprintf(w, "Minimum fee: %d FROST, plus %d for a signature check, plus %d for a node registration",
				res.MinFee, res.SignatureFee, res.NodeRegistrationFee)
			if res.FaucetMax > 0 {
				fmt.Fprintf(w, "; faucet up to %s WAL a request, %s WAL an account, %s WAL in all",
					formatWAL(res.FaucetMax), formatWAL(res.FaucetAccountMax), formatWAL(res.FaucetTotalMax))
			}
			fmt.Fprintf(w, "\nCommittee: %d storage nodes, %d shards\n", len(res.Committee), res.NShards)
			for _, m := range res.Committee {
				fmt.Fprintf(w, "  %s  %-20s %-22s %3d shards %s\n", m.NodeID, m.Name, m.NetworkAddress, len(m.Shards), formatShards(m.Shards))
			}
			return nil
		},
	}
	f.addRPC(cmd)
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
