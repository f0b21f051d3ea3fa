package httpclient

import (
	"bufio"
	"context"
	"io"
	"net"
	"testing"
)

// BenchmarkDoKeepAlive is one user's request loop on a keep-alive loopback
// connection to a server that answers at once: the client's cost per
// request (a write, a read, and the peek that checks the idle connection).
func BenchmarkDoKeepAlive(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		br := bufio.NewReader(nc)
		for {
			for { // the request: headers and a 3-byte body
				line, err := br.ReadSlice('\n')
				if err != nil {
					return
				}
				if len(line) == 2 {
					break
				}
			}
			if _, err := br.Discard(3); err != nil {
				return
			}
			if _, err := io.WriteString(nc, okReply); err != nil {
				return
			}
		}
	}()
	tg, _ := ParseTarget("http://" + ln.Addr().String())
	req, _ := tg.NewRequest("POST", "/predict", "application/json", nil, []byte("[1]"))
	c := NewConn(tg, nil)
	defer c.Close()
	ctx := context.Background()
	for b.Loop() {
		if _, err := c.Do(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
