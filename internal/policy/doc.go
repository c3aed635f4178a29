// Package policy holds repository-wide tests of how the code is written: every package has a
// package comment, and pure packages import no network, disk, clock or process machinery.
// It has no code of its own.
package policy
