package nodeclient

import (
	"bytes"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

func answer(body string, declared int64) *http.Response {
	return &http.Response{ContentLength: declared, Body: io.NopCloser(strings.NewReader(body))}
}

// TestReadAnswerDeclaredHugeSendsLittle is the attack: a node declares an answer of
// 200 MiB (within the client's bound) and sends 10 bytes. The client must not allocate
// the declared size before the bytes arrive, and must fail on the short body.
func TestReadAnswerDeclaredHugeSendsLittle(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := readAnswer(answer("0123456789", 200<<20), nil, 256<<20)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("a body shorter than its Content-Length was accepted")
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
		t.Fatalf("reading a 10-byte answer declared as 200 MiB allocated %d bytes", got)
	}
}

func TestReadAnswer(t *testing.T) {
	body := strings.Repeat("x", 1000)
	// Declared, fits the caller's buffer: read into it.
	dst := make([]byte, 0, 2000)
	got, err := readAnswer(answer(body, 1000), dst, 1<<20)
	if err != nil || string(got) != body || &got[0] != &dst[:1][0] {
		t.Fatalf("into a large enough buffer: err %v, %d bytes, aliases dst %v", err, len(got), err == nil && &got[0] == &dst[:1][0])
	}
	// Declared, the buffer is too small: a new one.
	got, err = readAnswer(answer(body, 1000), make([]byte, 0, 10), 1<<20)
	if err != nil || string(got) != body {
		t.Fatalf("into a small buffer: err %v, %d bytes", err, len(got))
	}
	// Unknown length.
	got, err = readAnswer(answer(body, -1), nil, 1<<20)
	if err != nil || string(got) != body {
		t.Fatalf("unknown length: err %v, %d bytes", err, len(got))
	}
	// Over the bound, declared or not.
	if _, err := readAnswer(answer(body, 1000), nil, 999); err == nil {
		t.Fatal("a declared answer over the bound was accepted")
	}
	if _, err := readAnswer(answer(body, -1), nil, 999); err == nil {
		t.Fatal("an undeclared answer over the bound was accepted")
	}
	// Declared shorter than sent: only the declared bytes are read (net/http cuts the
	// body at Content-Length).
	got, err = readAnswer(answer(body, 10), nil, 1<<20)
	if err != nil || !bytes.Equal(got, []byte(body[:10])) {
		t.Fatalf("declared 10 of 1000 bytes: err %v, %d bytes", err, len(got))
	}
}
