package httpclient

import "sync/atomic"

// Budget caps the connections one process keeps open (its file descriptor
// limit). When more users exist than descriptors, users about to sleep for a
// long wait give their connection back (see Conn.Park). Safe for concurrent use.
type Budget struct {
	open atomic.Int64
	high int64
}

// NewBudget returns a budget that asks users to park connections when more than
// high are open. high <= 0 means no limit.
func NewBudget(high int64) *Budget { return &Budget{high: high} }

// Open is the number of connections open now.
func (b *Budget) Open() int64 { return b.open.Load() }

func (b *Budget) tight() bool { return b.high > 0 && b.open.Load() > b.high }
