package chain

import (
	"net/netip"
	"strconv"
	"strings"
)

// CheckNetworkAddress reports whether addr is a storage node's network address as the chain
// accepts it: "host:port" and nothing else, because clients and nodes build URLs from it.
// The host is a DNS name (labels of letters, digits and inner hyphens, 1 to 63 bytes each,
// at most 253 bytes in all, not all-numeric in its last label) or an IP address (IPv6 in
// brackets, without a zone); the port is decimal 1 to 65535 without leading zeros. Schemes,
// paths, queries, user information and anything else are rejected, as are addresses longer
// than MaxNetworkAddressLen. The error wraps ErrInvalidArgument.
func CheckNetworkAddress(addr string) error {
	bad := func(why string) error {
		return errorf(ErrInvalidArgument, "network address %q: %s, want host:port", addr, why)
	}
	if len(addr) == 0 || len(addr) > MaxNetworkAddressLen {
		return bad("length out of range")
	}
	host, port, ok := splitHostPort(addr)
	if !ok {
		return bad("not host:port")
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 || port[0] == '0' {
		return bad("port not 1 to 65535")
	}
	bracketed := strings.HasPrefix(addr, "[")
	if ip, err := netip.ParseAddr(host); err == nil {
		switch {
		case ip.Zone() != "":
			return bad("IPv6 zone")
		case ip.Is4() && bracketed:
			return bad("IPv4 address in brackets")
		}
		return nil
	}
	if bracketed || !isHostname(host) {
		return bad("host is neither a DNS name nor an IP address")
	}
	return nil
}

// splitHostPort splits "host:port" or "[host]:port" (the chain's package stays free of
// package net, see DESIGN.md). A host with a colon must be in brackets, and brackets hold
// the whole host.
func splitHostPort(addr string) (host, port string, ok bool) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return "", "", false
	}
	host, port = addr[:i], addr[i+1:]
	if strings.HasPrefix(host, "[") {
		if !strings.HasSuffix(host, "]") {
			return "", "", false
		}
		host = host[1 : len(host)-1]
	}
	if strings.ContainsAny(host, "[]") || (!strings.HasPrefix(addr, "[") && strings.Contains(host, ":")) {
		return "", "", false
	}
	return host, port, true
}

// isHostname reports whether h is a DNS name in the form CheckNetworkAddress accepts.
func isHostname(h string) bool {
	if len(h) == 0 || len(h) > 253 {
		return false
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	last := labels[len(labels)-1]
	return strings.Trim(last, "0123456789") != ""
}
