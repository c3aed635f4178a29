package site

import (
	"os"
	"path/filepath"
)

func writeFile(dir, name, data string) error {
	return os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644)
}
