// Package resilience is the fault-injection suite of walrus-go. It has no code of its own
// outside its tests: TestResilience starts a network of real processes (a CometBFT
// validator and storage nodes, each a `walrus` process with its pebble store, talking HTTP
// on loopback), puts a fault proxy (package faultproxy) in front of every storage node,
// and runs a table of scenarios that break things on purpose: node loss up to and beyond
// the fault threshold, disk loss, Byzantine nodes, a malicious client, an epoch change
// under load, kill -9 of a node, the validator and a client mid-operation, network faults
// and hostile input. After each scenario every certified blob is read back and compared
// byte for byte, and the suite prints a table of what happened.
//
// Run it with `make resilience` (the CI subset) or `make soak` (longer: more and larger
// blobs, repeated rounds, and the fuzz targets for a while each). See docs/resilience.md.
package resilience
