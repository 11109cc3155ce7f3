// Package server is the cube-agent's HTTP(S) front: GET /health,
// GET /metrics, POST /attestation, and a streaming reverse proxy to the LLM
// backend for every other path, served over plain HTTP, TLS, mutual TLS or
// attested TLS.
//
// The API is the upstream Cube agent's (see the README's agent section):
// same paths, request and response bodies, error shape {"error": "..."} and
// environment names, with cube-hal's additions labelled as such.
package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/ultravioletrs/cube-hal/agent/config"
	"github.com/ultravioletrs/cube-hal/agent/tsm"
)

// Service is the name /health reports.
const Service = "cube-agent"

// Options assemble a server.
type Options struct {
	Config *config.Config
	// Source produces attestation evidence; nil means none is available and
	// NoTSM says why (POST /attestation then answers 503).
	Source tsm.Source
	NoTSM  string
	// TLS is the server's TLS configuration (from BuildTLS); nil serves
	// plain HTTP.
	TLS *TLSSetup
	// Log receives the server's own messages (never headers or bodies).
	Log *slog.Logger
	// Version is reported by /health and the build-info metric.
	Version string
}

// Server is one agent front end.
type Server struct {
	cfg     *config.Config
	src     tsm.Source
	noTSM   string
	tls     *TLSSetup
	log     *slog.Logger
	version string
	m       *metrics
	lim     *limiter
	handler http.Handler
	closers []func()
}

// New builds the server. Call BuildTLS first when TLS is wanted: its
// attested-TLS provider shares the server's attestation limiter through
// Server.Acquire, so build TLS with a nil acquire and New wires it in.
func New(opts Options) *Server {
	s := &Server{cfg: opts.Config, src: opts.Source, noTSM: opts.NoTSM, tls: opts.TLS,
		log: opts.Log, version: opts.Version}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	platform, fake := "none", false
	if s.src != nil {
		platform, fake = string(s.src.Platform()), s.src.Fake()
	}
	s.m = newMetrics(s.version, platform, fake)
	s.lim = newLimiter(s.cfg.MaxAttestations, s.cfg.AttestationQueue, s.m)
	if s.tls != nil && s.tls.ATLS != nil {
		s.tls.ATLS.Acquire = s.lim.acquire
		s.tls.ATLS.OnHandshake = func(err error) {
			if err != nil {
				s.m.handshakes.WithLabelValues("error").Inc()
				s.log.Warn("attested TLS handshake failed", "error", err)
				return
			}
			s.m.handshakes.WithLabelValues("ok").Inc()
		}
	}

	mux := http.NewServeMux()
	mux.Handle("/health", s.m.instrument("health", http.HandlerFunc(s.handleHealth)))
	mux.Handle("/metrics", s.m.instrument("metrics", getOnly(s.m.handler())))
	mux.Handle("/attestation", s.m.instrument("attestation", http.HandlerFunc(s.handleAttestation)))
	mux.Handle("/", s.m.instrument("proxy", s.newProxy(s.cfg.TargetURL)))
	s.handler = s.withBodyDeadline(s.withAccessLog(mux))
	return s
}

// Handler is the agent's HTTP handler (for tests and benchmarks that run it
// under their own listener).
func (s *Server) Handler() http.Handler { return s.handler }

func getOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "use GET")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// health is the /health body: upstream's fields plus what an operator asks
// first (which TSM, which transport).
type health struct {
	Status      string `json:"status"`
	Service     string `json:"service"`
	InstanceID  string `json:"instance_id"`
	Version     string `json:"version"`
	Attestation string `json:"attestation"` // snp, tdx, fake-snp or none
	Transport   string `json:"transport"`   // http, tls, mtls, atls, atls+mtls
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "use GET")
		return
	}
	h := health{Status: "pass", Service: Service, InstanceID: s.cfg.InstanceID, Version: s.version,
		Attestation: "none", Transport: "http"}
	if s.src != nil {
		h.Attestation = string(s.src.Platform())
		if s.src.Fake() {
			h.Attestation = "fake-" + h.Attestation
		}
	}
	if s.tls != nil {
		h.Transport = s.tls.Mode
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(h)
}

// withAccessLog logs each request at debug level: method, path, status,
// duration. Never headers, query strings or bodies, which may carry
// credentials or prompts.
func (s *Server) withAccessLog(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.log.Enabled(r.Context(), slog.LevelDebug) {
			h.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.code,
			"bytes", rec.bytes, "duration", time.Since(start).Round(time.Microsecond))
	})
}

// bodyKey finds a request's deadlineBody in its context.
type bodyKey struct{}

// deadlineBody enforces the read timeout on a request body only while the
// body is being read. The server itself runs without http.Server's
// ReadTimeout, because that deadline would stay armed during the response
// and cut off a long LLM stream; here it is cleared at the body's end.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	once sync.Once
	mu   sync.Mutex
	err  error
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.once.Do(func() { b.rc.SetReadDeadline(time.Time{}) })
	} else if err != nil {
		b.mu.Lock()
		if b.err == nil {
			b.err = err
		}
		b.mu.Unlock()
	}
	return n, err
}

func (b *deadlineBody) failure() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

func (s *Server) withBodyDeadline(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.ReadTimeout > 0 && r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			if rc.SetReadDeadline(time.Now().Add(s.cfg.ReadTimeout)) == nil {
				b := &deadlineBody{ReadCloser: r.Body, rc: rc}
				r = r.WithContext(context.WithValue(r.Context(), bodyKey{}, b))
				r.Body = b
			}
		}
		h.ServeHTTP(w, r)
	})
}

// Acquire takes one of the server's attestation slots (shared by
// POST /attestation and attested-TLS handshakes).
func (s *Server) Acquire(ctx context.Context) (func(), error) { return s.lim.acquire(ctx) }

// Serve answers connections on ln until ctx ends, then shuts down
// gracefully: it stops accepting, lets requests in progress finish for up
// to grace, then closes what is left.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(slogWriter{s.log, slog.LevelDebug}, "", 0),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if s.tls != nil {
		hs.TLSConfig = s.tls.Config
		ln = tls.NewListener(ln, s.tls.Config)
	}
	done := make(chan struct{})
	defer close(done)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
		case <-done:
			return
		}
		sctx, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			hs.Close()
		}
	}()
	err := hs.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		<-stopped
		err = nil
	}
	for _, c := range s.closers {
		c()
	}
	return err
}
