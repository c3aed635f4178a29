package explorer

import (
	"fmt"
	"html/template"
	"strings"
)

// barChart renders an inline SVG bar chart of values (one bar per label), with the title
// and the largest value written on it. Labels and the title are escaped; the output has no
// script and needs none.
func barChart(title string, labels []string, values []uint64) template.HTML {
	const w, h, pad = 600, 160, 20
	var peak uint64
	for _, v := range values {
		peak = max(peak, v)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" viewBox="0 0 %d %d" width="%d" height="%d" xmlns="http://www.w3.org/2000/svg">`, w, h+2*pad, w, h+2*pad)
	fmt.Fprintf(&b, `<title>%s</title>`, template.HTMLEscapeString(title))
	fmt.Fprintf(&b, `<text x="0" y="14" font-size="12">%s (max %d)</text>`, template.HTMLEscapeString(title), peak)
	fmt.Fprintf(&b, `<line x1="0" y1="%d" x2="%d" y2="%d" stroke="#888"/>`, h+pad, w, h+pad)
	if n := len(values); n > 0 {
		bw := float64(w) / float64(n)
		for i, v := range values {
			bh := 0.0
			if peak > 0 {
				bh = float64(h-pad) * float64(v) / float64(peak)
			}
			label := ""
			if i < len(labels) {
				label = labels[i]
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#4a7bd0"><title>%s: %d</title></rect>`,
				float64(i)*bw+1, float64(h+pad)-bh, max(bw-2, 1), bh, template.HTMLEscapeString(label), v)
			if n <= 25 {
				fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10" text-anchor="middle">%s</text>`, float64(i)*bw+bw/2, h+pad+14, template.HTMLEscapeString(label))
			}
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built from escaped text and numbers only
}
