package chain

import (
	"errors"
	"strings"
	"testing"
)

// Network addresses registered on chain become URLs in every client and node, so anything
// but host:port is an attack on them.
func TestCheckNetworkAddress(t *testing.T) {
	good := []string{
		"127.0.0.1:9185", "n1.walrus.test:9185", "localhost:1", "node-7.example.com:65535",
		"[::1]:9185", "[2001:db8::1]:443", "a:80",
	}
	for _, a := range good {
		if err := CheckNetworkAddress(a); err != nil {
			t.Errorf("%q: %v", a, err)
		}
	}
	bad := []string{
		"", "http://evil/", "http://evil:80", "a@b:1", "h:1/x?y", "h:1#f", "evil", "evil:", ":80",
		"h:0", "h:65536", "h:080", "h:+80", "h:-1", "h:http", "h:1:2", "::1:80", "[::1]", "[evil]:80",
		"[1.2.3.4]:80", "[fe80::1%eth0]:80", "-h:80", "h-:80", "a..b:80", ".a:80", "a.:80", "h_x:80",
		"h x:80", "h\n:80", "évil:80", "1.2.3.999:80", "123:80", strings.Repeat("a", 64) + ":80",
		strings.Repeat("a.", 127) + "a:80", strings.Repeat("a", MaxNetworkAddressLen) + ":1",
		"h:80/", "user:pw@h:80", "h:80?x", "//h:80",
	}
	for _, a := range bad {
		if err := CheckNetworkAddress(a); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%q accepted (err %v)", a, err)
		}
	}
}

// The attack end to end: changing a node's address to a URL instead of host:port fails,
// and so does a genesis naming one.
func TestNetworkAddressRejectedOnChain(t *testing.T) {
	env := rejectionFixture(t)
	n5 := env.object("n5")
	for _, addr := range []string{"http://evil/", "a@b:1", "h:1/x?y"} {
		p := &SetNodeInfo{Node: n5, Name: "n5", NetworkAddress: addr}
		tx := &Tx{Payload: p, Fee: env.app.params.MinFeeFor(p), Nonce: getAccount(env.store, env.account("alice")).Nonce}
		tx.Sign(env.app.params.ChainID, testAccountKey("alice"))
		res := env.deliverBlock(t, tx.Encode())[0]
		if res.Code != CodeInvalidArgument {
			t.Errorf("set-info %q: code %s, want InvalidArgument", addr, CodeName(res.Code))
		}
		if pool, _ := env.app.View().Pool(n5); pool.NetworkAddress != "n5.walrus.test:9185" {
			t.Errorf("set-info %q changed the address to %q", addr, pool.NetworkAddress)
		}
	}
	genesis := newScriptEnv(t)
	genesis.out = &strings.Builder{}
	genesis.run(scriptCase{cmd: "genesis", body: []string{"node user@evil stake=1WAL"}})
	if got := genesis.out.String(); !strings.Contains(got, "Nodes[0].NetworkAddress") {
		t.Fatalf("genesis with the address user@evil.walrus.test:9185: %q", got)
	}
}
