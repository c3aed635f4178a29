package cli

import (
	"io"
	"os"

	"github.com/schollz/progressbar/v3"

	"github.com/walrus-go/walrus/internal/client"
)

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressBar renders client progress on stderr when it is a terminal; otherwise it does
// nothing. It is used from one store or read at a time.
type progressBar struct {
	w     io.Writer
	label string
	bar   *progressbar.ProgressBar
	phase string
}

// newProgressBar returns a progress renderer for label (a file or blob ID), or nil when
// stderr is not a terminal.
func (e *env) newProgressBar(label string) *progressBar {
	if !isTerminal(e.stderr) {
		return nil
	}
	return &progressBar{w: e.stderr, label: label}
}

// callback returns the client progress callback (nil for a nil bar).
func (p *progressBar) callback() func(client.Progress) {
	if p == nil {
		return nil
	}
	return p.update
}

func (p *progressBar) update(pr client.Progress) {
	if pr.Phase == "done" {
		p.finish()
		return
	}
	if pr.Phase != p.phase || p.bar == nil {
		p.finish()
		p.phase = pr.Phase
		max := pr.Total
		if max <= 0 {
			max = -1 // spinner
		}
		p.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(p.label+": "+pr.Phase),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(0),
		)
	}
	if pr.Total > 0 {
		_ = p.bar.Set64(pr.Done)
	} else {
		_ = p.bar.Add(1)
	}
}

// finish clears the bar.
func (p *progressBar) finish() {
	if p == nil || p.bar == nil {
		return
	}
	_ = p.bar.Finish()
	_ = p.bar.Clear()
	p.bar = nil
}
