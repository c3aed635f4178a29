// Package faultproxy is an HTTP/1.1 reverse proxy that injects faults, for tests that
// run real storage-node processes.
//
// Each node under test listens on a private loopback port; a Proxy listens on the node's
// public address (the one other parties use) and forwards to it. The test switches the
// proxy's Fault at run time with Proxy.Set to make the node slow (Delay), unavailable
// (Refuse), flaky (Drop, Cut, with a Rate), unreachable (Blackhole) or Byzantine
// (CorruptSlivers, CorruptMetadata, CorruptSymbols), and reads what the proxy did with
// Proxy.Stats.
//
// A typical use:
//
//	p, err := faultproxy.New(publicAddr, privateAddr)
//	...
//	defer p.Close()
//	p.Set(faultproxy.Fault{Kind: faultproxy.Refuse, Methods: []string{"PUT"}})
//	... // the node now refuses uploads
//	p.Set(faultproxy.Fault{}) // healed
//	fmt.Println(p.Stats().Faulted[faultproxy.Refuse])
//
// Requests that are not faulted are forwarded unchanged, bodies streamed in both
// directions. When the backend is down the proxy answers 502 Bad Gateway, as any
// reverse proxy would.
//
// # Request classes
//
// The Corrupt kinds affect only GET responses with status 200 of one class of the
// storage node's REST API, recognised by path:
//
//	metadata  GET .../blobs/{blob_id}/metadata
//	sliver    GET .../blobs/{blob_id}/slivers/{pair}/{type}
//	symbols   any GET whose path contains "/recovery" or "/symbols" (case-insensitive)
//
// Every other kind affects every request that passes Fault.Methods and Fault.Rate.
package faultproxy
