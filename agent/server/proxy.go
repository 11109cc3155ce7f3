package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// newProxy returns the reverse proxy to the LLM backend. Responses stream
// through unbuffered (FlushInterval -1: every chunk the backend writes is
// flushed to the client at once, so tokens appear as they are generated);
// hop-by-hop headers are dropped both ways (httputil.ReverseProxy does this
// per RFC 9110 §7.6.1, including headers named in Connection); the outbound
// request carries the client's context, so a client that disconnects
// cancels the backend request.
func (s *Server) newProxy(target *url.URL) http.Handler {
	tr := &http.Transport{
		Proxy: nil, // the backend is local to the guest; never via an HTTP proxy
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// No response-header timeout: a model may take minutes to load
		// before its first token.
	}
	s.closers = append(s.closers, tr.CloseIdleConnections)
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			// As upstream: the caller's credentials are for cube-proxy and
			// this agent, never for the LLM backend.
			pr.Out.Header.Del("Authorization")
			if pr.Out.Header.Get("Content-Type") == "" && pr.In.ContentLength != 0 {
				pr.Out.Header.Set("Content-Type", "application/json")
			}
		},
		Transport:     tr,
		FlushInterval: -1,
		ErrorLog:      log.New(slogWriter{s.log, slog.LevelDebug}, "", 0),
		ErrorHandler:  s.proxyError,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxBodyBytes {
			s.m.upstreamErrs.WithLabelValues("too_large").Inc()
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", s.cfg.MaxBodyBytes))
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		}
		rp.ServeHTTP(w, r)
	})
}

// proxyError answers a failed proxy request: 502 with a JSON error when the
// backend is unreachable or broke off, 413/408 when the client's body was
// too large or too slow, nothing when the client itself went away.
func (s *Server) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		s.m.upstreamErrs.WithLabelValues("too_large").Inc()
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", s.cfg.MaxBodyBytes))
	case clientBodyTimedOut(r, err):
		s.m.upstreamErrs.WithLabelValues("timeout").Inc()
		writeError(w, http.StatusRequestTimeout, "request body not received in time")
	case r.Context().Err() != nil || errors.Is(err, context.Canceled):
		s.m.upstreamErrs.WithLabelValues("canceled").Inc()
		s.log.Debug("proxy: client went away", "path", r.URL.Path)
		w.WriteHeader(http.StatusBadGateway) // for the metrics; nobody reads it
	default:
		s.m.upstreamErrs.WithLabelValues("backend").Inc()
		s.log.Warn("proxy: LLM backend unavailable", "backend", s.cfg.TargetURL.Redacted(), "path", r.URL.Path, "error", err)
		writeError(w, http.StatusBadGateway, "LLM backend unavailable: "+err.Error())
	}
}

// clientBodyTimedOut tells a timeout reading the client's body (the read
// deadline) from a failure talking to the backend.
func clientBodyTimedOut(r *http.Request, err error) bool {
	if b, ok := r.Context().Value(bodyKey{}).(*deadlineBody); ok {
		if berr := b.failure(); berr != nil {
			var ne net.Error
			return errors.As(berr, &ne) && ne.Timeout()
		}
	}
	return false
}

// slogWriter adapts a *slog.Logger to the io.Writer a log.Logger needs.
type slogWriter struct {
	l     *slog.Logger
	level slog.Level
}

func (w slogWriter) Write(p []byte) (int, error) {
	msg := string(p)
	if n := len(msg); n > 0 && msg[n-1] == '\n' {
		msg = msg[:n-1]
	}
	w.l.Log(context.Background(), w.level, msg)
	return len(p), nil
}

var _ io.Writer = slogWriter{}
