package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ultravioletrs/cube-hal/agent/evidence"
)

// maxAttestationBody bounds POST /attestation bodies: the largest valid one
// is well under 1 KiB.
const maxAttestationBody = 16 << 10

// attestationRequest is the upstream Cube agent's request body.
type attestationRequest struct {
	ReportData string `json:"report_data"` // base64, at most 64 bytes
	Nonce      string `json:"nonce"`       // base64, at most 32 bytes (vTPM only upstream; accepted and unused)
	ToJSON     bool   `json:"to_json"`     // protojson instead of binary
	// AttestationType is mentioned in upstream's README but ignored by its
	// decoder; when given it must match this agent's platform.
	AttestationType string `json:"attestation_type"`
}

// errBusy means the attestation queue is full.
var errBusy = errors.New("too many attestation requests in progress")

// limiter caps reports generated at once, with a bounded queue behind.
type limiter struct {
	slots   chan struct{}
	waiting atomic.Int64
	queue   int64
	m       *metrics
}

func newLimiter(slots, queue int, m *metrics) *limiter {
	return &limiter{slots: make(chan struct{}, slots), queue: int64(queue), m: m}
}

// acquire takes a slot, waiting in the queue if there is room there, until
// ctx ends. The returned release must be called exactly once.
func (l *limiter) acquire(ctx context.Context) (func(), error) {
	release := func() {
		l.m.inFlight.Dec()
		<-l.slots
	}
	select {
	case l.slots <- struct{}{}:
		l.m.inFlight.Inc()
		return release, nil
	default:
	}
	if l.waiting.Add(1) > l.queue {
		l.waiting.Add(-1)
		return nil, errBusy
	}
	l.m.waiting.Inc()
	defer func() { l.waiting.Add(-1); l.m.waiting.Dec() }()
	select {
	case l.slots <- struct{}{}:
		l.m.inFlight.Inc()
		return release, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// decodeB64 accepts standard base64 with or without padding, as JSON
// []byte fields and most clients produce it.
func decodeB64(s string) ([]byte, error) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}

func (s *Server) handleAttestation(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "use POST for /attestation")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAttestationBody))
	if err != nil {
		var mbe *http.MaxBytesError
		var ne net.Error
		switch {
		case errors.As(err, &mbe):
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", maxAttestationBody))
		case errors.As(err, &ne) && ne.Timeout():
			writeError(w, http.StatusRequestTimeout, "request body not received in time")
		default:
			writeError(w, http.StatusBadRequest, "could not read the request body")
		}
		return
	}
	var req attestationRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "malformed JSON: data after the object")
		return
	}
	rd, err := decodeB64(req.ReportData)
	if err != nil || len(rd) > evidence.ReportDataSize {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid report_data: must be base64-encoded, at most %d bytes", evidence.ReportDataSize))
		return
	}
	if n, err := decodeB64(req.Nonce); err != nil || len(n) > evidence.UpstreamNonceSz {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid nonce: must be base64-encoded, at most %d bytes", evidence.UpstreamNonceSz))
		return
	}
	if s.src == nil {
		s.m.attestations.WithLabelValues("unavailable").Inc()
		writeError(w, http.StatusServiceUnavailable, "attestation unavailable: "+s.noTSM)
		return
	}
	if t := strings.ToLower(req.AttestationType); t != "" && t != string(s.src.Platform()) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("attestation_type %q is not available; this agent serves %q", req.AttestationType, s.src.Platform()))
		return
	}

	release, err := s.lim.acquire(r.Context())
	if err != nil {
		if errors.Is(err, errBusy) {
			s.m.attestations.WithLabelValues("busy").Inc()
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusTooManyRequests, "too many attestation requests in progress; retry shortly")
			return
		}
		s.m.attestations.WithLabelValues("canceled").Inc()
		writeError(w, http.StatusServiceUnavailable, "request canceled while waiting") // the client is gone
		return
	}
	start := time.Now()
	ev, err := s.src.Attest(rd)
	s.m.tsmDuration.Observe(time.Since(start).Seconds())
	release()
	if err != nil {
		s.m.attestations.WithLabelValues("error").Inc()
		s.log.Error("attestation failed", "error", err)
		writeError(w, http.StatusInternalServerError, "attestation failed: "+err.Error())
		return
	}
	var out []byte
	var format string
	if req.ToJSON {
		out, format, err = ev.MarshalProtoJSON(s.src.ProductFMS())
		w.Header().Set("Content-Type", "application/json")
	} else {
		out, format, err = ev.Marshal(s.src.ProductFMS())
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	if err != nil {
		s.m.attestations.WithLabelValues("error").Inc()
		s.log.Error("encoding attestation failed", "error", err)
		w.Header().Del("Content-Type")
		writeError(w, http.StatusInternalServerError, "attestation failed: "+err.Error())
		return
	}
	s.m.attestations.WithLabelValues("ok").Inc()
	h := w.Header()
	h.Set(evidence.HeaderPlatform, string(ev.Platform))
	h.Set(evidence.HeaderFormat, format)
	if ev.Fake {
		h.Set(evidence.HeaderFake, "true")
	}
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", fmt.Sprint(len(out)))
	w.WriteHeader(http.StatusOK)
	w.Write(out)
}

// writeError answers with the upstream error shape {"error": "..."}.
func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
