package cli

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/walrus-go/walrus/internal/chain/chainnode"
)

// What 'walrus chain init' writes for a deployment over several hosts, beside the validator
// homes: each genesis storage node's configuration (node.yaml, next to its keys), listing
// every validator's JSON-RPC for failover, and a client configuration (client.yaml).
//
// Each of DIR/validator-<i> and DIR/storage-nodes/<name> is the whole state of one host's
// process: copy it to that host and run 'walrus chain start --home' or 'walrus node
// --config node.yaml' there (deploy/ has systemd units and a compose file that do so).

// nodeConfigFile is the name of a genesis storage node's configuration in its key directory.
const nodeConfigFile = "node.yaml"

// deployOptions are the flags of chain init that shape a multi-host deployment.
type deployOptions struct {
	// bindAll makes validators and storage nodes listen on all interfaces (0.0.0.0) at the
	// ports of their addresses, which they keep announcing to peers and clients: for hosts
	// or containers whose public address is not a local interface (NAT, port mapping).
	bindAll bool
	// metricsOffset is the port offset of a storage node's metrics endpoint from its REST
	// port; negative serves none.
	metricsOffset int
}

func addDeployFlags(f *pflag.FlagSet, o *deployOptions) {
	f.BoolVar(&o.bindAll, "bind-all", false, "listen on all interfaces (0.0.0.0) at the ports of the given addresses, which are still announced to peers")
	f.IntVar(&o.metricsOffset, "storage-node-metrics-offset", 100, "port of a storage node's metrics endpoint after its REST port, or -1 for none")
}

// bindAllAddr returns 0.0.0.0 with the port of addr ("off" stays off).
func bindAllAddr(addr string) string {
	if addr == chainnode.RPCOff {
		return addr
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return net.JoinHostPort("0.0.0.0", port)
}

// applyBindAll rewrites the listen addresses of generated validator configurations to all
// interfaces. The persistent peers were already set from the announced addresses.
func applyBindAll(cfgs []chainnode.Config) {
	for i := range cfgs {
		cfgs[i].P2PListen = bindAllAddr(cfgs[i].P2PListen)
		cfgs[i].RPCListen = bindAllAddr(cfgs[i].RPCListen)
	}
}

// validatorRPCURLs returns the JSON-RPC URLs of the validators that serve one, in
// validator order.
func validatorRPCURLs(rpcAddrs []string) []string {
	var out []string
	for _, a := range rpcAddrs {
		if a != chainnode.RPCOff {
			out = append(out, "http://"+a)
		}
	}
	return out
}

// rotate returns urls starting at index i mod len(urls), so that the storage nodes spread
// over the validators while each lists all of them for failover.
func rotate(urls []string, i int) []string {
	if len(urls) == 0 {
		return nil
	}
	k := i % len(urls)
	return append(append([]string{}, urls[k:]...), urls[:k]...)
}

// storageNodeYAML is the configuration of genesis storage node i (see package daemon for
// the format), whose keys chain init wrote beside it.
func storageNodeYAML(name, networkAddress string, rpcs []string, o deployOptions) ([]byte, error) {
	host, port, err := net.SplitHostPort(networkAddress)
	if err != nil {
		return nil, fmt.Errorf("storage node %s: network address %q: %w", name, networkAddress, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("storage node %s: network address %q: bad port", name, networkAddress)
	}
	listen := networkAddress
	if o.bindAll {
		listen = bindAllAddr(networkAddress)
	}
	metrics := "off"
	if o.metricsOffset >= 0 && p+o.metricsOffset <= 65535 {
		mhost := host
		if o.bindAll {
			mhost = "0.0.0.0"
		}
		metrics = net.JoinHostPort(mhost, strconv.Itoa(p+o.metricsOffset))
	}
	b := fmt.Appendf(nil, "# Storage node %s, written by 'walrus chain init' (walrus node --config node.yaml).\n", name)
	b = fmt.Appendf(b, "name: %s\ndata_dir: db\n", name)
	if len(rpcs) > 0 {
		b = fmt.Appendf(b, "# The validator this node talks to, then the others, tried in order when one stops answering.\n")
		b = fmt.Appendf(b, "chain_rpc: %s\n", rpcs[0])
		if len(rpcs) > 1 {
			b = append(b, "chain_rpcs:\n"...)
			for _, r := range rpcs[1:] {
				b = fmt.Appendf(b, "  - %s\n", r)
			}
		}
	} else {
		b = append(b, "# No validator serves JSON-RPC (--rpc-addresses off): set the address of one.\nchain_rpc: \"\"\n"...)
	}
	b = fmt.Appendf(b, "bls_key_file: bls.key\nnetwork_key_file: network.key\nwallet_key_file: operator.json\n")
	b = fmt.Appendf(b, "listen: %s\npublic_url: https://%s\nmetrics_listen: %s\n", listen, networkAddress, metrics)
	return b, nil
}

// writeStorageNodeConfig writes dir/node.yaml (mode 0600, never over an existing file).
func writeStorageNodeConfig(dir, name, networkAddress string, rpcs []string, o deployOptions) error {
	b, err := storageNodeYAML(name, networkAddress, rpcs, o)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, nodeConfigFile), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
