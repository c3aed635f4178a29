package explorer

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"pct":   func(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" },
	"f2":    func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) },
	"f3":    func(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) },
	"bytes": humanBytes,
	"ms": func(p *float64) string {
		if p == nil {
			return "no requests yet"
		}
		return strconv.FormatFloat(*p*1000, 'f', 1, 64) + " ms"
	},
	"esc": url.PathEscape,
}).ParseFS(templateFS, "templates/*.html"))

func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// requestTimeout bounds the chain and node requests of one page.
const requestTimeout = 30 * time.Second

// Handler returns the explorer's HTTP handler: pages under /explorer/ and JSON under
// /v1/network/. Every route is GET.
func (x *Explorer) Handler() http.Handler {
	mux := http.NewServeMux()
	api := func(pattern string, fn func(*http.Request) (any, error)) {
		mux.HandleFunc("GET "+pattern, func(w http.ResponseWriter, r *http.Request) {
			v, err := fn(r)
			w.Header().Set("Content-Type", "application/json")
			if err != nil {
				w.WriteHeader(statusOf(err))
				json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
				return
			}
			json.NewEncoder(w).Encode(v)
		})
	}
	page := func(pattern, tmpl string, fn func(*http.Request) (any, error)) {
		mux.HandleFunc("GET "+pattern, func(w http.ResponseWriter, r *http.Request) {
			v, err := fn(r)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			if err != nil {
				w.WriteHeader(statusOf(err))
				pages.ExecuteTemplate(w, "error.html", map[string]any{"Title": "Error", "Error": err.Error()})
				return
			}
			if err := pages.ExecuteTemplate(w, tmpl, v); err != nil {
				x.cfg.Logger.Warn("explorer: rendering", "page", tmpl, "err", err)
			}
		})
	}
	ctxOf := func(r *http.Request) (context.Context, context.CancelFunc) {
		return context.WithTimeout(r.Context(), requestTimeout)
	}
	overview := func(r *http.Request) (any, error) {
		ctx, cancel := ctxOf(r)
		defer cancel()
		return x.Overview(ctx)
	}
	nodes := func(r *http.Request) (any, error) {
		ctx, cancel := ctxOf(r)
		defer cancel()
		return x.Nodes(ctx, r.FormValue("after"), intParam(r, "limit"))
	}
	blob := func(r *http.Request) (any, error) {
		ctx, cancel := ctxOf(r)
		defer cancel()
		return x.Blob(ctx, r.PathValue("id"))
	}
	account := func(r *http.Request) (any, error) {
		ctx, cancel := ctxOf(r)
		defer cancel()
		return x.Account(ctx, r.PathValue("address"), r.FormValue("blobs_after"), r.FormValue("stakes_after"), intParam(r, "limit"))
	}
	epochs := func(r *http.Request) (any, error) { return x.Epochs(intParam(r, "page"), intParam(r, "limit")), nil }

	api("/v1/network/overview", overview)
	api("/v1/network/nodes", nodes)
	api("/v1/network/blobs/{id}", blob)
	api("/v1/network/accounts/{address}", account)
	api("/v1/network/epochs", epochs)

	page("/explorer/{$}", "overview.html", overview)
	page("/explorer/nodes", "nodes.html", nodes)
	page("/explorer/blobs/{id}", "blob.html", blob)
	page("/explorer/accounts/{address}", "account.html", account)
	page("/explorer/epochs", "epochs.html", func(r *http.Request) (any, error) {
		v := x.Epochs(intParam(r, "page"), intParam(r, "limit"))
		labels := make([]string, len(v.Chart))
		var reg, stored, moved []uint64
		for i, e := range v.Chart {
			labels[i] = strconv.Itoa(int(e.Epoch))
			reg = append(reg, e.BlobsRegistered)
			stored = append(stored, e.StoredBytes)
			moved = append(moved, uint64(e.ShardsMoved))
		}
		return map[string]any{"V": v, "Charts": []template.HTML{
			barChart("blobs registered per epoch", labels, reg),
			barChart("bytes stored at epoch end", labels, stored),
			barChart("shards moved at epoch start", labels, moved),
		}}, nil
	})
	mux.HandleFunc("GET /explorer/search", func(w http.ResponseWriter, r *http.Request) {
		q := strings.TrimSpace(r.FormValue("q"))
		ctx, cancel := ctxOf(r)
		defer cancel()
		http.Redirect(w, r, x.searchTarget(ctx, q), http.StatusSeeOther)
	})
	return mux
}

// searchTarget returns the page a search for q goes to: a Blob object or a blob ID goes to
// its blob page, any other 0x ID to the account page.
func (x *Explorer) searchTarget(ctx context.Context, q string) string {
	if strings.HasPrefix(q, "0x") {
		if id, err := chain.ParseObjectID(q); err == nil {
			if o, err := x.cfg.Chain.Object(ctx, id); err == nil && o.Kind() == chain.KindBlob {
				return "/explorer/blobs/" + url.PathEscape(q)
			}
		}
		return "/explorer/accounts/" + url.PathEscape(q)
	}
	return "/explorer/blobs/" + url.PathEscape(q)
}

func intParam(r *http.Request, name string) int {
	n, err := strconv.Atoi(r.FormValue(name))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// statusOf is the explorer's one table of error statuses.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrBadID):
		return http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrNotReady):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	return http.StatusBadGateway
}
