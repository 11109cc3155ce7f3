package kconfig

import (
	"bytes"
	"slices"
	"sync"
)

// prefetcher reads the Kconfig files a tree sources before the parser
// gets to them, on a few goroutines: reading Buildroot's 3,400 files one
// by one costs about as much as parsing them, and the two overlap well.
// It only guesses from plain `source "path"` lines; anything it did not
// read (paths with $SYMBOL, files it failed to read) is read by the
// parser itself, the same way, so results never depend on it.
//
// Files are read in the order the parser will want them (depth first, as
// the source statements nest) and only a few ahead of it: read all at
// once, the unparsed files (4.8 MB for Buildroot) sat in memory beside
// the growing tree and raised the peak by a quarter.
type prefetcher struct {
	k       *Kconfig
	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*pfEntry // not read yet, in source order
	ahead   []*pfEntry // being read or read, not taken yet, in source order
	entries map[string]*pfEntry
	stopped bool
	full    bool // workers wait until the parser has taken half of ahead
	most    int  // the longest ahead was (tests)
	wg      sync.WaitGroup
}

type pfState uint8

const (
	pfQueued  pfState = iota
	pfReading         // by a worker
	pfRead
)

type pfEntry struct {
	name    string
	pos     []int32 // the source statement's index in each enclosing file, from the top
	state   pfState
	taken   bool // by the parser
	dropped bool // the parser went past it: what is read is not kept
	scanned bool // its source statements are (being) queued
	ready   chan struct{}
	data    []byte
	err     error
}

const (
	prefetchWorkers = 3
	prefetchAhead   = 48 // files being read or read but not parsed yet (at most)
)

func newPrefetcher(k *Kconfig, root []byte) *prefetcher {
	p := &prefetcher{k: k, entries: map[string]*pfEntry{}}
	p.cond = sync.NewCond(&p.mu)
	p.scan(root, nil)
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
		for !p.stopped && (len(p.queue) == 0 || p.full) {
			p.cond.Wait()
		}
		if p.stopped {
			p.mu.Unlock()
			return
		}
		e := p.queue[0]
		p.queue = slices.Delete(p.queue, 0, 1)
		e.state, e.scanned = pfReading, true
		p.insert(&p.ahead, e)
		p.most = max(p.most, len(p.ahead))
		p.full = len(p.ahead) >= prefetchAhead
		p.mu.Unlock()
		data, err := p.k.readKconfigFile(e.name)
		if err == nil {
			p.scan(data, e.pos) // before the parser has it (and recycles it); scanned is set above, under the lock
		}
		p.mu.Lock()
		if !e.dropped {
			e.data, e.err = data, err
		} else {
			p.k.bufs.put(data)
		}
		e.state = pfRead
		p.mu.Unlock()
		close(e.ready)
	}
}

// scan queues the files named by plain source statements in data, the
// contents of the file at pos.
func (p *prefetcher) scan(data []byte, pos []int32) {
	var found []*pfEntry
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
		at := append(pos[:len(pos):len(pos)], int32(len(found)))
		found = append(found, &pfEntry{name: string(name), pos: at, ready: make(chan struct{})})
	}
	if len(found) == 0 {
		return
	}
	p.mu.Lock()
	for _, e := range found {
		if _, ok := p.entries[e.name]; !ok && !p.stopped {
			p.entries[e.name] = e
			p.insert(&p.queue, e)
		}
	}
	p.mu.Unlock()
	p.cond.Broadcast()
}

// insert adds e to a list kept in source order.
func (p *prefetcher) insert(list *[]*pfEntry, e *pfEntry) {
	i, _ := slices.BinarySearchFunc(*list, e, func(a, b *pfEntry) int { return slices.Compare(a.pos, b.pos) })
	*list = slices.Insert(*list, i, e)
}

// get returns a prefetched file, waiting for it if it is being read. A
// file no worker has started on is left to the parser (which hands it to
// readByParser), and files before it in source order that the parser did
// not ask for are dropped: it has gone past them.
func (p *prefetcher) get(name string) ([]byte, error, bool) {
	p.mu.Lock()
	e, ok := p.entries[name]
	if !ok || e.taken || e.dropped {
		p.mu.Unlock()
		return nil, nil, false
	}
	e.taken = true
	queued := e.state == pfQueued
	if queued {
		if i := slices.Index(p.queue, e); i >= 0 {
			p.queue = slices.Delete(p.queue, i, i+1)
		}
	}
	n := 0
	for _, a := range p.ahead {
		switch {
		case a == e:
		case slices.Compare(a.pos, e.pos) < 0:
			p.k.bufs.put(a.data)
			a.dropped, a.data = true, nil
		default:
			p.ahead[n] = a
			n++
		}
	}
	clear(p.ahead[n:])
	p.ahead = p.ahead[:n]
	resume := p.full && n <= prefetchAhead/2
	if resume {
		p.full = false
	}
	p.mu.Unlock()
	if resume {
		p.cond.Broadcast()
	}
	if queued {
		return nil, nil, false
	}
	<-e.ready
	p.mu.Lock()
	d, err := e.data, e.err
	e.data = nil
	p.mu.Unlock()
	return d, err, true
}

// fileBufs keeps the buffers of Kconfig files that were parsed, to read
// the next files into: Buildroot's 4.8 MB of Kconfig text then takes a
// few dozen buffers instead of 3,400 new ones that become garbage.
type fileBufs struct {
	mu     sync.Mutex
	free   [][]byte
	reused int // buffers handed out again (tests)
}

const (
	maxFreeBufs = 64
	maxFreeBuf  = 16 << 10 // the few bigger files are not worth keeping a buffer for
)

// get returns a buffer of n bytes, a free one if one is big enough but
// not much bigger.
func (c *fileBufs) get(n int) []byte {
	if c != nil {
		c.mu.Lock()
		for i, b := range c.free {
			if cap(b) >= n && cap(b) <= 2*n+512 {
				last := len(c.free) - 1
				c.free[i], c.free[last] = c.free[last], nil
				c.free = c.free[:last]
				c.reused++
				c.mu.Unlock()
				return b[:n]
			}
		}
		c.mu.Unlock()
	}
	return make([]byte, n, (n+511)&^511)
}

// put gives back a buffer from get that nothing refers to any more.
func (c *fileBufs) put(b []byte) {
	if c == nil || cap(b) == 0 || cap(b) > maxFreeBuf {
		return
	}
	c.mu.Lock()
	if len(c.free) < maxFreeBufs {
		c.free = append(c.free, b)
	}
	c.mu.Unlock()
}

// readByParser queues the sources of a file the parser read itself
// because no worker had started on it (see get), so that the files it
// sources are still read ahead.
func (p *prefetcher) readByParser(name string, data []byte) {
	p.mu.Lock()
	e := p.entries[name]
	if e == nil || e.scanned || e.state != pfQueued {
		p.mu.Unlock()
		return
	}
	e.scanned = true
	p.mu.Unlock()
	p.scan(data, e.pos)
}

func (p *prefetcher) stop() {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.cond.Broadcast()
	p.wg.Wait()
}
