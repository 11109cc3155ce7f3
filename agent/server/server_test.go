package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	sevabi "github.com/google/go-sev-guest/abi"
	spb "github.com/google/go-sev-guest/proto/sevsnp"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/ultravioletrs/cube-hal/agent/agenttest"
	"github.com/ultravioletrs/cube-hal/agent/evidence"
)

func fake(extra map[string]string) map[string]string {
	m := map[string]string{"UV_CUBE_AGENT_TSM": "fake"}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func post(t *testing.T, url, body string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(url+"/attestation", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func b64(n int, fill byte) string { // base64 of n bytes of fill
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{fill}, n))
}

func errorOf(t *testing.T, body []byte) string {
	t.Helper()
	var e struct{ Error string }
	if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
		t.Fatalf("not a JSON error: %q", body)
	}
	return e.Error
}

func TestHealth(t *testing.T) {
	a := agenttest.Start(t, fake(map[string]string{"UV_CUBE_AGENT_INSTANCE_ID": "cube-agent-01"}), nil)
	resp, err := http.Get(a.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"status": "pass", "service": "cube-agent", "instance_id": "cube-agent-01",
		"version": "dev", "attestation": "fake-snp", "transport": "http"}
	for k, v := range want {
		if h[k] != v {
			t.Errorf("health %s = %q, want %q (all: %v)", k, h[k], v, h)
		}
	}
	if resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("content type %q", resp.Header.Get("Content-Type"))
	}
	r2, _ := http.Post(a.URL+"/health", "text/plain", nil)
	if r2.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /health: %d", r2.StatusCode)
	}
	r2.Body.Close()
}

func TestAttestationResponseFormats(t *testing.T) {
	a := agenttest.Start(t, fake(nil), nil)
	resp, body := post(t, a.URL, `{"report_data":"`+b64(64, 0xaa)+`","nonce":"`+b64(32, 1)+`"}`)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("%d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if resp.Header.Get(evidence.HeaderPlatform) != "snp" || resp.Header.Get(evidence.HeaderFake) != "true" ||
		resp.Header.Get(evidence.HeaderFormat) != evidence.FormatSNPProto {
		t.Errorf("headers: %v", resp.Header)
	}
	p, err := evidence.Parse("", body) // as a client without the headers would
	if err != nil || p.Platform != evidence.SNP || !bytes.Equal(p.ReportData(), bytes.Repeat([]byte{0xaa}, 64)) {
		t.Fatalf("parse: %v", err)
	}
	if len(p.SNP.GetCertificateChain().GetVcekCert()) == 0 {
		t.Error("no VCEK in the certificate chain")
	}
	// Short report data is zero padded, as upstream does.
	_, body = post(t, a.URL, `{"report_data":"aGk="}`)
	p, err = evidence.Parse(evidence.SNP, body)
	if err != nil || !bytes.Equal(p.ReportData()[:3], []byte("hi\x00")) {
		t.Fatalf("short report data: %v %x", err, p.ReportData())
	}
	// to_json gives protojson of sevsnp.Attestation.
	resp, body = post(t, a.URL, `{"report_data":"`+b64(64, 1)+`","to_json":true}`)
	if resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("to_json content type %q", resp.Header.Get("Content-Type"))
	}
	var att spb.Attestation
	if err := protojson.Unmarshal(body, &att); err != nil || len(att.GetReport().GetReportData()) != sevabi.ReportDataSize {
		t.Fatalf("to_json body: %v", err)
	}
}

func TestAttestationBadInput(t *testing.T) {
	a := agenttest.Start(t, fake(nil), nil)
	for _, tc := range []struct {
		name, body string
		code       int
		msg        string
	}{
		{"malformed JSON", `{"report_data":`, 400, "malformed JSON"},
		{"not an object", `[1,2]`, 400, "malformed JSON"},
		{"trailing data", `{"report_data":""} {}`, 400, "data after the object"},
		{"bad base64", `{"report_data":"***"}`, 400, "invalid report_data"},
		{"report data 65 bytes", `{"report_data":"` + b64(65, 1) + `"}`, 400, "at most 64 bytes"},
		{"nonce 33 bytes", `{"report_data":"","nonce":"` + b64(33, 1) + `"}`, 400, "invalid nonce"},
		{"bad nonce", `{"nonce":"%%"}`, 400, "invalid nonce"},
		{"wrong type", `{"report_data":7}`, 400, "malformed JSON"},
		{"other platform", `{"attestation_type":"tdx"}`, 400, `this agent serves "snp"`},
		{"oversized body", `{"report_data":"` + strings.Repeat("A", 20<<10) + `"}`, 413, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := post(t, a.URL, tc.body)
			if resp.StatusCode != tc.code || !strings.Contains(errorOf(t, body), tc.msg) {
				t.Fatalf("%d %s, want %d with %q", resp.StatusCode, body, tc.code, tc.msg)
			}
		})
	}
	resp, err := http.Get(a.URL + "/attestation")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET /attestation: %d allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestNoTSMServesHealthAnd503(t *testing.T) {
	// What a tiny TCG guest without configfs-tsm sees: auto mode finds no
	// TSM, the agent still serves.
	a := agenttest.Start(t, map[string]string{"UV_CUBE_AGENT_TSM": "none"}, nil)
	resp, err := http.Get(a.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]string
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if resp.StatusCode != 200 || h["attestation"] != "none" {
		t.Fatalf("health %d %v", resp.StatusCode, h)
	}
	r, body := post(t, a.URL, `{}`)
	if r.StatusCode != 503 || !strings.Contains(errorOf(t, body), "attestation unavailable") {
		t.Fatalf("%d %s", r.StatusCode, body)
	}
}

func TestMetrics(t *testing.T) {
	a := agenttest.Start(t, fake(nil), nil)
	post(t, a.URL, `{}`)
	post(t, a.URL, `{"report_data":"!"}`)
	resp, err := http.Get(a.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`cube_agent_attestations_total{result="ok"} 1`,
		`cube_agent_http_requests_total{code="400",handler="attestation"} 1`,
		`cube_agent_build_info{fake_tsm="true",platform="snp",version="dev"} 1`,
		`cube_agent_tsm_report_duration_seconds_count 1`,
		"go_goroutines", "process_open_fds",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestConcurrentAttestationsCappedNoLeak(t *testing.T) {
	a := agenttest.Start(t, fake(map[string]string{"UV_CUBE_AGENT_MAX_ATTESTATIONS": "4", "UV_CUBE_AGENT_ATTESTATION_QUEUE": "32"}), nil)
	settle := func() int {
		runtime.GC()
		time.Sleep(50 * time.Millisecond)
		return runtime.NumGoroutine()
	}
	tr := &http.Transport{MaxIdleConnsPerHost: -1, DisableKeepAlives: true}
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	// Warm up so lazily started goroutines are in the baseline.
	if r, _ := client.Post(a.URL+"/attestation", "application/json", strings.NewReader(`{}`)); r != nil {
		r.Body.Close()
	}
	base := settle()

	const n = 1000
	var wg sync.WaitGroup
	codes := make([]int, n)
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			rd := make([]byte, 64)
			copy(rd, fmt.Sprintf("request %d", i))
			body := `{"report_data":"` + base64.StdEncoding.EncodeToString(rd) + `"}`
			resp, err := client.Post(a.URL+"/attestation", "application/json", strings.NewReader(body))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			codes[i] = resp.StatusCode
			switch resp.StatusCode {
			case 200:
				p, err := evidence.Parse(evidence.SNP, b)
				if err != nil || !bytes.Equal(p.ReportData(), rd) {
					errs <- fmt.Errorf("request %d got someone else's report", i)
				}
			case 429:
				if resp.Header.Get("Retry-After") == "" {
					errs <- fmt.Errorf("429 without Retry-After")
				}
			}
		}(i)
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	count := map[int]int{}
	for _, c := range codes {
		count[c]++
	}
	if count[200]+count[429] != n || count[200] < 4 {
		t.Fatalf("statuses %v: want only 200 and 429, at least 4 served", count)
	}
	t.Logf("1000 concurrent requests: %v", count)
	tr.CloseIdleConnections()
	deadline := time.Now().Add(30 * time.Second) // a wait for the outcome, not a speed goal
	for {
		g := settle()
		if g <= base+5 {
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d before, %d after\n%s", base, g, buf[:runtime.Stack(buf, true)])
		}
	}
	// Still serving normally.
	if r, _ := post(t, a.URL, `{}`); r.StatusCode != 200 {
		t.Fatalf("after the burst: %d", r.StatusCode)
	}
}

func TestSlowClients(t *testing.T) {
	be := newBackend(t)
	a := agenttest.Start(t, fake(map[string]string{
		"UV_CUBE_AGENT_TARGET_URL":          be.url,
		"UV_CUBE_AGENT_READ_HEADER_TIMEOUT": "300ms",
		"UV_CUBE_AGENT_READ_TIMEOUT":        "400ms",
	}), nil)

	// Headers that never finish: the connection is dropped.
	c, err := net.Dial("tcp", a.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /health HTTP/1.1\r\nHost: x\r\n")
	// 100 times the server's timeout: only a server that never drops the
	// connection reaches it, however busy the machine.
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err = io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("server kept a half-sent request open")
	}

	// A body that trickles: 408.
	for _, path := range []string{"/attestation", "/api/generate"} {
		c2, err := net.Dial("tcp", a.Addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c2, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"rep", path)
		c2.SetReadDeadline(time.Now().Add(30 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c2), nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		c2.Close()
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("%s: slow body got %d %s, want 408", path, resp.StatusCode, b)
		}
	}
}

// backend is a fake LLM server that streams tokens when the test says so.
type backend struct {
	srv      *http.Server
	url      string
	release  chan struct{}
	canceled chan struct{}
	seen     chan *http.Request
}

func newBackend(t *testing.T) *backend {
	b := &backend{release: make(chan struct{}), canceled: make(chan struct{}, 1), seen: make(chan *http.Request, 10)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b.url = "http://" + ln.Addr().String()
	b.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r2 := r.Clone(context.Background())
		r2.Body = io.NopCloser(bytes.NewReader(body))
		b.seen <- r2
		switch r.URL.Path {
		case "/api/generate":
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.Header().Set("Connection", "X-Backend-Hop")
			w.Header().Set("X-Backend-Hop", "1")
			w.Header().Set("X-Backend-End", "1")
			fmt.Fprintln(w, `{"response":"Hello"}`)
			w.(http.Flusher).Flush()
			select {
			case <-b.release:
			case <-r.Context().Done():
				b.canceled <- struct{}{}
				return
			}
			fmt.Fprintln(w, `{"response":" world","done":true}`)
		case "/slow":
			for i := 0; i < 6; i++ {
				fmt.Fprintf(w, "tick %d\n", i)
				w.(http.Flusher).Flush()
				time.Sleep(200 * time.Millisecond)
			}
		default:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"path":%q}`, r.URL.RequestURI())
		}
	})}
	go b.srv.Serve(ln)
	t.Cleanup(func() { b.srv.Close() })
	return b
}

func TestProxyStreamsUnbuffered(t *testing.T) {
	be := newBackend(t)
	a := agenttest.Start(t, fake(map[string]string{"UV_CUBE_AGENT_TARGET_URL": be.url}), nil)
	req, _ := http.NewRequest("POST", a.URL+"/api/generate", strings.NewReader(`{"model":"m","prompt":"hi"}`))
	req.Header.Set("Authorization", "Bearer for-cube-proxy-only")
	req.Header.Set("Connection", "X-Client-Hop")
	req.Header.Set("X-Client-Hop", "1")
	req.Header.Set("Keep-Alive", "timeout=5")
	req.Header.Set("Proxy-Authorization", "Basic Zm9v")
	req.Header.Set("X-Kept", "yes")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	// The first token arrives while the backend is still holding the rest.
	done := make(chan string, 1)
	go func() { l, _ := r.ReadString('\n'); done <- l }()
	select {
	case l := <-done:
		if !strings.Contains(l, "Hello") {
			t.Fatalf("first line %q", l)
		}
	case <-time.After(30 * time.Second): // the backend holds the rest until released: only buffering gets here
		t.Fatal("first token buffered by the proxy")
	}
	close(be.release)
	rest, _ := io.ReadAll(r)
	if !strings.Contains(string(rest), "world") {
		t.Fatalf("rest %q", rest)
	}
	got := <-be.seen
	for _, h := range []string{"Authorization", "X-Client-Hop", "Keep-Alive", "Proxy-Authorization"} {
		if got.Header.Get(h) != "" {
			t.Errorf("backend received %s", h)
		}
	}
	if got.Header.Get("X-Kept") != "yes" || got.Header.Get("X-Forwarded-For") == "" {
		t.Errorf("backend headers: %v", got.Header)
	}
	if resp.Header.Get("X-Backend-Hop") != "" || resp.Header.Get("X-Backend-End") != "1" {
		t.Errorf("client headers: %v", resp.Header)
	}
	b, _ := io.ReadAll(got.Body)
	if string(b) != `{"model":"m","prompt":"hi"}` {
		t.Errorf("backend body %q", b)
	}
}

func TestProxyPassesPathsAndStatus(t *testing.T) {
	be := newBackend(t)
	a := agenttest.Start(t, fake(map[string]string{"UV_CUBE_AGENT_TARGET_URL": be.url}), nil)
	resp, err := http.Get(a.URL + "/v1/models?limit=2")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != `{"path":"/v1/models?limit=2"}` {
		t.Fatalf("got %s", b)
	}
}

func TestClientCancelReachesBackend(t *testing.T) {
	be := newBackend(t)
	a := agenttest.Start(t, fake(map[string]string{"UV_CUBE_AGENT_TARGET_URL": be.url}), nil)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", a.URL+"/api/generate", strings.NewReader(`{}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	bufio.NewReader(resp.Body).ReadString('\n')
	cancel()
	resp.Body.Close()
	select {
	case <-be.canceled:
	case <-time.After(30 * time.Second):
		t.Fatal("backend never saw the client go away")
	}
}

func TestLongStreamOutlivesReadTimeout(t *testing.T) {
	be := newBackend(t)
	a := agenttest.Start(t, fake(map[string]string{"UV_CUBE_AGENT_TARGET_URL": be.url, "UV_CUBE_AGENT_READ_TIMEOUT": "300ms"}), nil)
	resp, err := http.Post(a.URL+"/slow", "application/json", strings.NewReader(`{"prompt":"long"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !strings.Contains(string(b), "tick 5") {
		t.Fatalf("stream cut short after the read timeout: %q %v", b, err)
	}
}

func TestBackendDown502(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	a := agenttest.Start(t, fake(map[string]string{"UV_CUBE_AGENT_TARGET_URL": dead}), nil)
	resp, err := http.Get(a.URL + "/api/tags")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 502 || resp.Header.Get("Content-Type") != "application/json" || !strings.Contains(errorOf(t, b), "LLM backend unavailable") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}

func TestProxyBodyLimit(t *testing.T) {
	be := newBackend(t)
	a := agenttest.Start(t, fake(map[string]string{"UV_CUBE_AGENT_TARGET_URL": be.url, "UV_CUBE_AGENT_MAX_BODY_BYTES": "2048"}), nil)
	big := strings.Repeat("x", 4096)
	resp, err := http.Post(a.URL+"/api/generate", "application/json", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("Content-Length over the limit: %d", resp.StatusCode)
	}
	// Chunked, no length up front.
	resp, err = http.Post(a.URL+"/api/other", "application/json", io.MultiReader(strings.NewReader(big)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("chunked body over the limit: %d %s", resp.StatusCode, b)
	}
}

func tlsClient(t *testing.T, c agenttest.Certs, withCert bool) *http.Client {
	pem, _ := os.ReadFile(c.CA)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cfg := &tls.Config{RootCAs: pool}
	if withCert {
		kp, err := tls.LoadX509KeyPair(c.ClientCert, c.ClientKey)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{kp}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
}

func TestServerTLSAndMutualTLS(t *testing.T) {
	c := agenttest.NewCerts(t, t.TempDir())
	a := agenttest.Start(t, fake(map[string]string{"UV_CUBE_AGENT_SERVER_CERT": c.ServerCert, "UV_CUBE_AGENT_SERVER_KEY": c.ServerKey}), nil)
	resp, err := tlsClient(t, c, false).Get(a.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]string
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if h["transport"] != "tls" {
		t.Errorf("transport %q", h["transport"])
	}

	m := agenttest.Start(t, fake(map[string]string{"UV_CUBE_AGENT_SERVER_CERT": c.ServerCert, "UV_CUBE_AGENT_SERVER_KEY": c.ServerKey,
		"UV_CUBE_AGENT_CLIENT_CA_CERTS": c.ClientCA}), nil)
	resp, err = tlsClient(t, c, true).Get(m.URL + "/health")
	if err != nil {
		t.Fatalf("with a client certificate: %v", err)
	}
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if h["transport"] != "mtls" {
		t.Errorf("transport %q", h["transport"])
	}
	if _, err := tlsClient(t, c, false).Get(m.URL + "/health"); err == nil {
		t.Fatal("mTLS agent served a client without a certificate")
	}
	// A certificate from another CA is refused too.
	other := agenttest.NewCerts(t, t.TempDir())
	cl := tlsClient(t, c, false)
	kp, _ := tls.LoadX509KeyPair(other.ClientCert, other.ClientKey)
	cl.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{kp}
	if _, err := cl.Get(m.URL + "/health"); err == nil {
		t.Fatal("mTLS agent served a client certificate from an unknown CA")
	}
}

func TestAttestedTLSWithFallbackCertificate(t *testing.T) {
	c := agenttest.NewCerts(t, t.TempDir())
	a := agenttest.Start(t, fake(map[string]string{"UV_CUBE_AGENT_ATTESTED_TLS": "true",
		"UV_CUBE_AGENT_SERVER_CERT": c.ServerCert, "UV_CUBE_AGENT_SERVER_KEY": c.ServerKey}), nil)
	// A plain TLS client (no nonce in the server name) gets the server
	// certificate.
	resp, err := tlsClient(t, c, false).Get(a.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]string
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if h["transport"] != "atls" {
		t.Errorf("transport %q", h["transport"])
	}
}
