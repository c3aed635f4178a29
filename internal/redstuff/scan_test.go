package redstuff

import "fmt"

func sscanf(s, format string, args ...any) (int, error) { return fmt.Sscanf(s, format, args...) }
