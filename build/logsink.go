package build

import (
	"io"
	"sync"
)

// maxPending bounds the output waiting for the disk.
const maxPending = 4 << 20

// logSink writes the raw output to the log from its own goroutine. The pty
// reader only appends each chunk to a pending buffer; the writer takes all
// that is pending in one write. When the disk keeps up, a chunk is written
// as soon as it is read; under a flood the writes batch up, so the reader
// spends its time parsing instead of in system calls. Pending bytes are
// bounded: past maxPending the reader waits for the disk (a disk slower than
// the build's output is the one thing allowed to slow make down). The two
// buffers are reused, so steady output allocates nothing.
type logSink struct {
	w       io.Writer
	mu      sync.Mutex
	cond    *sync.Cond
	pending []byte
	spare   []byte
	closed  bool
	err     error
	done    chan struct{}
}

func newLogSink(w io.Writer) *logSink {
	s := &logSink{w: w, done: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	go s.loop()
	return s
}

// Write queues b for the log. It fails once a write to the file failed.
func (s *logSink) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.pending) >= maxPending && s.err == nil {
		s.cond.Wait()
	}
	if s.err != nil {
		return 0, s.err
	}
	s.pending = append(s.pending, b...)
	s.cond.Broadcast()
	return len(b), nil
}

func (s *logSink) loop() {
	defer close(s.done)
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		for len(s.pending) == 0 && !s.closed {
			s.cond.Wait()
		}
		if len(s.pending) == 0 {
			return
		}
		buf := s.pending
		s.pending = s.spare[:0]
		s.mu.Unlock()
		_, err := s.w.Write(buf)
		s.mu.Lock()
		if cap(buf) <= 2*maxPending {
			s.spare = buf[:0]
		}
		if err != nil && s.err == nil {
			s.err = err
			s.pending = s.pending[:0]
		}
		s.cond.Broadcast()
	}
}

// Close writes what is pending and stops the writer; it returns the first
// write error.
func (s *logSink) Close() error {
	s.mu.Lock()
	s.closed = true
	s.cond.Broadcast()
	s.mu.Unlock()
	<-s.done
	return s.err
}
