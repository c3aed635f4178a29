package client

import (
	"errors"
	"testing"
)

func TestEpochsAhead(t *testing.T) {
	for _, c := range []struct {
		o       StoreOptions
		current uint32
		want    uint32
		ok      bool
	}{
		{StoreOptions{Epochs: 1}, 5, 1, true},
		{StoreOptions{Epochs: 53}, 5, 53, true},
		{StoreOptions{Epochs: 54}, 5, 0, false},
		{StoreOptions{}, 5, 0, false},
		{StoreOptions{EndEpoch: 6}, 5, 1, true},
		{StoreOptions{EndEpoch: 58}, 5, 53, true},
		{StoreOptions{EndEpoch: 59}, 5, 0, false},
		{StoreOptions{EndEpoch: 5}, 5, 0, false},
		{StoreOptions{EndEpoch: 2}, 5, 0, false},
		{StoreOptions{Epochs: 1, EndEpoch: 7}, 5, 0, false},
	} {
		got, err := c.o.epochsAhead(c.current, 53)
		if c.ok != (err == nil) || got != c.want || (err != nil && !errors.Is(err, ErrInvalidEpochs)) {
			t.Errorf("%+v at epoch %d: %d, %v; want %d (ok %v)", c.o, c.current, got, err, c.want, c.ok)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	if err := (Config{}).Validate(); err == nil {
		t.Fatal("a config without a chain client validated")
	}
	d := Config{MaxRetries: -1, TailBase: -1}.withDefaults()
	if d.MaxRetries != 0 || d.TailBase != -1 || d.RetryMin != DefaultRetryMin || d.MaxConcurrentSliverReads != DefaultMaxConcurrentSliverReads || d.Logger == nil {
		t.Fatalf("defaults %+v", d)
	}
}

func TestNodeURL(t *testing.T) {
	if NodeURL("127.0.0.1:9185") != "https://127.0.0.1:9185" || NodeURL("https://node.example:443") != "https://node.example:443" ||
		NodeURL("http://node.example:80") != "https://node.example:80" {
		t.Fatal("NodeURL")
	}
}
