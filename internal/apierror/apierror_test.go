package apierror

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

var (
	errA     = errors.New("a")
	errB     = errors.New("b")
	errOther = errors.New("other")
	table    = []Spec{
		Row(errA, "NOT_FOUND", "A_NOT_FOUND", "d"),
		Row(errB, "INVALID_ARGUMENT", "B_INVALID", "d"),
		Row(errOther, "INTERNAL", "INTERNAL", "g"),
	}
)

func TestRowTakesWalrusCode(t *testing.T) {
	for status, code := range Status {
		if s := Row(errA, status, "R", "d"); s.Code != code || s.Status != status {
			t.Errorf("Row(%s) = %d %s, want %d", status, s.Code, s.Status, code)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Row with a status outside Walrus's table did not panic")
		}
	}()
	Row(errA, "NOT_A_STATUS", "R", "d")
}

func TestLookup(t *testing.T) {
	if s := Lookup(table, fmt.Errorf("wrapped: %w", errB)); s.Err != errB || s.Code != http.StatusBadRequest {
		t.Errorf("wrapped errB: got %+v", s)
	}
	if s := Lookup(table, errors.New("unlisted")); s.Err != errOther {
		t.Errorf("unlisted error: got %+v, want the last row", s)
	}
}

// The envelope's shape is what Walrus's clients parse: metadata is an object even when
// empty, and details hold one ErrorInfo.
func TestBodyJSON(t *testing.T) {
	b, err := json.Marshal(NewBody(table[0], "no such blob", nil))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"error":{"code":404,"status":"NOT_FOUND","message":"no such blob","details":[{"@type":"ErrorInfo","reason":"A_NOT_FOUND","domain":"d","metadata":{}}]}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var back Body
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Error.Reason() != "A_NOT_FOUND" {
		t.Errorf("Reason() = %q", back.Error.Reason())
	}
	b, _ = json.Marshal(NewBody(table[1], "m", map[string]any{"server_epoch": 3}))
	if want := `"metadata":{"server_epoch":3}`; !json.Valid(b) || !strings.Contains(string(b), want) {
		t.Errorf("metadata not carried: %s", b)
	}
	if (BodyStatus{}).Reason() != "" {
		t.Error("Reason of an envelope without ErrorInfo is not empty")
	}
}
