package proctraffic

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// childEnv makes the test binary act as one of the live test's helper
// processes instead of running tests.
const childEnv = "SOCKTOP_PROCTRAFFIC_CHILD"

// Sizes the live test moves: over TCP and to a file.
const (
	sendSize  = 8 << 20
	writeSize = 16 << 20
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		// Never outlive a crashed test: stdin closes with it.
		go func() { time.Sleep(2 * time.Minute); os.Exit(3) }()
		if err := child(mode, bufio.NewReader(os.Stdin)); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child runs one helper, reporting each step on stdout and waiting for the
// parent's go-ahead lines on stdin; it exits when stdin closes.
func child(mode string, in *bufio.Reader) error {
	waitLine := func() { in.ReadString('\n') }
	switch mode {
	case "recv": // accept one connection, read sendSize bytes, answer one byte
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return err
		}
		fmt.Println(ln.Addr())
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		ln.Close()
		if _, err := io.CopyN(io.Discard, c, sendSize); err != nil {
			return err
		}
		if _, err := c.Write([]byte{1}); err != nil {
			return err
		}
		fmt.Println("received")
		waitLine() // "close"
		c.Close()
		fmt.Println("closed")
	case "send": // send sendSize bytes, wait for the answer, close when told
		c, err := net.Dial("tcp4", os.Getenv("SOCKTOP_PROCTRAFFIC_ADDR"))
		if err != nil {
			return err
		}
		if _, err := c.Write(make([]byte, sendSize)); err != nil {
			return err
		}
		// The answer comes after every byte was read, so all were acked.
		if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
			return err
		}
		fmt.Println("sent")
		waitLine() // "close"
		c.Close()
		fmt.Println("closed")
	case "write": // write writeSize bytes to a file with fsync
		f, err := os.Create(filepath.Join(os.Getenv("SOCKTOP_PROCTRAFFIC_DIR"), "data"))
		if err != nil {
			return err
		}
		if _, err := f.Write(make([]byte, writeSize)); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
		f.Close()
		fmt.Println("written")
	case "churn": // short-lived loopback connections, one after another, until stdin closes
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return err
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() { io.Copy(io.Discard, c); c.Close() }()
			}
		}()
		go func() { io.Copy(io.Discard, in); os.Exit(0) }()
		fmt.Println("churning")
		for {
			c, err := net.Dial("tcp4", ln.Addr().String())
			if err != nil {
				return err
			}
			c.Write([]byte("x"))
			time.Sleep(2 * time.Millisecond)
			c.Close()
		}
	default:
		return fmt.Errorf("unknown child mode %q", mode)
	}
	io.Copy(io.Discard, in) // live until the parent closes stdin
	return nil
}
