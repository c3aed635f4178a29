package s3

import (
	"net"
	"strings"
	"unicode/utf8"
)

// ValidBucketName reports whether name follows S3's rules for bucket names: 3 to 63
// characters of lower-case letters, digits, '.' and '-', starting and ending with a
// letter or digit, no "..", and not shaped like an IP address.
func ValidBucketName(name string) bool {
	if len(name) < 3 || len(name) > 63 || strings.Contains(name, "..") || net.ParseIP(name) != nil {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || i == len(name)-1 || c != '.' && c != '-') {
			return false
		}
	}
	return true
}

// ValidKey reports whether key is a key the gateway accepts: 1 to MaxKeyLength bytes of
// valid UTF-8 without NUL.
func ValidKey(key string) bool {
	return key != "" && len(key) <= MaxKeyLength && utf8.ValidString(key) && !strings.ContainsRune(key, 0)
}
