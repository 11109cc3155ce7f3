package server_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ultravioletrs/cube-hal/agent/agenttest"
)

// BenchmarkProxyOverhead measures what the agent adds to an LLM request:
// each iteration sends the same small request straight to a local backend
// and through the agent, and the p50 of the difference is reported as
// added-p50-µs (goal: at most 1000).
func BenchmarkProxyOverhead(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	reply := `{"model":"llama3","created_at":"2026-01-01T00:00:00Z","response":"Hello","done":true}`
	backend := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, reply)
	})}
	go backend.Serve(ln)
	defer backend.Close()
	direct := "http://" + ln.Addr().String()
	a := agenttest.Start(b, map[string]string{"UV_CUBE_AGENT_TSM": "none", "UV_CUBE_AGENT_TARGET_URL": direct}, nil)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	body := `{"model":"llama3","prompt":"Why is the sky blue?","stream":false}`
	do := func(base string) time.Duration {
		start := time.Now()
		resp, err := client.Post(base+"/api/generate", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n != int64(len(reply)) {
			b.Fatalf("%s: %d, %d bytes", base, resp.StatusCode, n)
		}
		return time.Since(start)
	}
	do(direct)
	do(a.URL)
	var directs, vias []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		directs = append(directs, do(direct))
		vias = append(vias, do(a.URL))
	}
	b.StopTimer()
	p50 := func(d []time.Duration) time.Duration { slices.Sort(d); return d[len(d)/2] }
	pd, pv := p50(directs), p50(vias)
	b.ReportMetric(float64(pd.Microseconds()), "direct-p50-µs")
	b.ReportMetric(float64(pv.Microseconds()), "agent-p50-µs")
	b.ReportMetric(float64((pv - pd).Microseconds()), "added-p50-µs")
}

// BenchmarkAttestationRoundTrip is POST /attestation against the fake TSM
// over loopback HTTP: request, report generation and signing, encoding.
func BenchmarkAttestationRoundTrip(b *testing.B) {
	a := agenttest.Start(b, map[string]string{"UV_CUBE_AGENT_TSM": "fake"}, nil)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	body := `{"report_data":"` + b64(64, 7) + `"}`
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := client.Post(a.URL+"/attestation", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(fmt.Sprint(resp.StatusCode))
		}
	}
}
