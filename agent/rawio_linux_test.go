//go:build linux && !race

package agent

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// The agent's connections read and write with raw system calls through the
// poller: what a reader of a net.Conn relies on must hold — every byte of a
// write larger than the socket buffers (the EAGAIN path), EOF, deadlines
// and a Close that ends a blocked read.
func TestRawIOConn(t *testing.T) {
	ln, err := Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			t.Error(err)
			close(accepted)
			return
		}
		accepted <- c
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server := <-accepted
	if server == nil {
		t.FailNow()
	}
	defer server.Close()
	if _, ok := server.(*rawIOConn); !ok {
		t.Fatalf("Listen's connections are %T, want *rawIOConn", server)
	}

	// 8 MiB one way, read slowly: the writer meets full socket buffers.
	want := bytes.Repeat([]byte("socktop raw write "), 8<<20/18)
	werr := make(chan error, 1)
	go func() {
		n, err := server.Write(want)
		if err == nil && n != len(want) {
			err = io.ErrShortWrite
		}
		werr <- err
	}()
	time.Sleep(50 * time.Millisecond)
	got, err := io.ReadAll(io.LimitReader(client, int64(len(want))))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %d of %d bytes (err %v), equal %v", len(got), len(want), err, bytes.Equal(got, want))
	}
	if err := <-werr; err != nil {
		t.Fatalf("write: %v", err)
	}

	// And back: the reader waits in the poller until bytes come.
	go func() { time.Sleep(20 * time.Millisecond); client.Write([]byte("hello")) }()
	buf := make([]byte, 16)
	if n, err := server.Read(buf); err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}

	// A deadline ends a read with a timeout, as net's own conns do.
	server.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	_, err = server.Read(buf)
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past its deadline: %v, want a timeout", err)
	}
	server.SetReadDeadline(time.Time{})

	// The peer's close is EOF.
	client.Close()
	if n, err := server.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("read after the peer closed: %d, %v, want EOF", n, err)
	}
	// A write to a closed peer fails (EPIPE or ECONNRESET) instead of
	// killing the agent with SIGPIPE.
	var werr2 error
	for range 100 {
		if _, werr2 = server.Write(want[:64<<10]); werr2 != nil {
			break
		}
	}
	if werr2 == nil {
		t.Fatal("writes to a closed peer kept succeeding")
	}
}

// Close ends a read that waits in the poller with net.ErrClosed.
func TestRawIOConnCloseEndsRead(t *testing.T) {
	ln, err := Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			time.Sleep(time.Second)
			c.Close()
		}
	}()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	rerr := make(chan error, 1)
	go func() {
		_, err := server.Read(make([]byte, 8))
		rerr <- err
	}()
	time.Sleep(30 * time.Millisecond)
	server.Close()
	select {
	case err := <-rerr:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read ended by Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(500 * time.Millisecond):
		t.Fatal("Close did not end a blocked read")
	}
}
