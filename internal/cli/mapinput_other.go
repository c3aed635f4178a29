//go:build !linux

package cli

import (
	"errors"
	"os"
)

// mapInput is not available here: the caller reads the file instead.
func mapInput(*os.File, int64) ([]byte, func(), error) {
	return nil, nil, errors.ErrUnsupported
}
