package kconfig

import (
	"bytes"
	"sync"
)

// prefetcher reads the Kconfig files a tree sources before the parser
// gets to them, on a few goroutines: reading Buildroot's 3,400 files one
// by one costs about as much as parsing them, and the two overlap well.
// It only guesses from plain `source "path"` lines; anything it did not
// read (paths with $SYMBOL, files it failed to read) is read by the
// parser itself, the same way, so results never depend on it.
type prefetcher struct {
	k       *Kconfig
	mu      sync.Mutex
	cond    *sync.Cond
	queue   []string
	entries map[string]*pfEntry
	stopped bool
	wg      sync.WaitGroup
}

type pfEntry struct {
	ready chan struct{}
	data  []byte
	err   error
	taken bool
}

const prefetchWorkers = 3

func newPrefetcher(k *Kconfig, root []byte) *prefetcher {
	p := &prefetcher{k: k, entries: map[string]*pfEntry{}}
	p.cond = sync.NewCond(&p.mu)
	p.scan(root)
	for i := 0; i < prefetchWorkers; i++ {
		p.wg.Add(1)
		go p.work()
	}
	return p
}

func (p *prefetcher) work() {
	defer p.wg.Done()
	for {
		p.mu.Lock()
		for len(p.queue) == 0 && !p.stopped {
			p.cond.Wait()
		}
		if p.stopped {
			p.mu.Unlock()
			return
		}
		name := p.queue[0]
		p.queue = p.queue[1:]
		e := p.entries[name]
		p.mu.Unlock()
		e.data, e.err = p.k.readKconfigFile(name)
		close(e.ready)
		if e.err == nil {
			p.scan(e.data)
		}
	}
}

// scan queues the files named by plain source statements in data.
func (p *prefetcher) scan(data []byte) {
	var found []string
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimLeft(line, " \t")
		if !bytes.HasPrefix(line, []byte("source")) || len(line) < 8 || (line[6] != ' ' && line[6] != '\t') {
			continue
		}
		rest := bytes.TrimLeft(line[6:], " \t")
		if len(rest) < 2 || (rest[0] != '"' && rest[0] != '\'') {
			continue
		}
		end := bytes.IndexByte(rest[1:], rest[0])
		if end < 0 {
			continue
		}
		name := rest[1 : 1+end]
		if bytes.ContainsAny(name, "$\\") {
			continue
		}
		found = append(found, string(name))
	}
	if len(found) == 0 {
		return
	}
	p.mu.Lock()
	for _, n := range found {
		if _, ok := p.entries[n]; !ok && !p.stopped {
			p.entries[n] = &pfEntry{ready: make(chan struct{})}
			p.queue = append(p.queue, n)
		}
	}
	p.mu.Unlock()
	p.cond.Broadcast()
}

// get returns a prefetched file, waiting for it if it is being read.
func (p *prefetcher) get(name string) ([]byte, error, bool) {
	p.mu.Lock()
	e, ok := p.entries[name]
	if ok && (e.taken || e.ready == nil) {
		ok = false
	}
	if ok {
		e.taken = true
	}
	p.mu.Unlock()
	if !ok {
		return nil, nil, false
	}
	<-e.ready
	d := e.data
	e.data = nil
	return d, e.err, true
}

func (p *prefetcher) stop() {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.cond.Broadcast()
	p.wg.Wait()
}
