package certs

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

func tlsRequest(t *testing.T, host string) TLSRequest {
	t.Helper()
	dir := t.TempDir()
	return TLSRequest{
		OverlayDir: filepath.Join(dir, "overlay"),
		HostDir:    filepath.Join(dir, "state", "certs"),
		Paths:      DefaultPaths,
		Host:       host,
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// handshake runs a real TLS 1.3 handshake over TCP between a server set up
// as the agent would be (server certificate, client certificates required
// and checked against the client CA) and the given client configuration.
func handshake(t *testing.T, server, client *tls.Config) error {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srvErr := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			srvErr <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if err := c.(*tls.Conn).Handshake(); err != nil {
			srvErr <- err
			return
		}
		_, err = c.Write([]byte("ok"))
		srvErr <- err
	}()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", ln.Addr().String(), client)
	if err != nil {
		<-srvErr
		return err
	}
	defer c.Close()
	buf := make([]byte, 2)
	if _, err := io.ReadFull(c, buf); err != nil {
		<-srvErr
		return err
	}
	return <-srvErr
}

func TestGenerateTLSMakesWorkingMutualTLS(t *testing.T) {
	r := tlsRequest(t, "agent.internal")
	files, err := GenerateTLS(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 10 {
		t.Fatalf("wrote %d files, want 10: %v", len(files), files)
	}
	for _, f := range files {
		fi, err := os.Stat(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != f.Mode {
			t.Errorf("%s: mode %v, reported %v", f.Path, fi.Mode().Perm(), f.Mode)
		}
		isKey := strings.HasSuffix(f.Path, ".key")
		if isKey && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: a private key with mode %v", f.Path, fi.Mode().Perm())
		}
		if !isKey && bytes.Contains(mustRead(t, f.Path), []byte("PRIVATE")) {
			t.Errorf("%s holds a private key", f.Path)
		}
	}
	if fi, _ := os.Stat(r.HostDir); fi.Mode().Perm() != 0o700 {
		t.Errorf("host directory with the CA keys has mode %v, want 0700", fi.Mode().Perm())
	}

	ov := func(p string) string { return overlayPath(r.OverlayDir, p) }
	serverPair, err := tls.LoadX509KeyPair(ov(r.Paths.ServerCert), ov(r.Paths.ServerKey))
	if err != nil {
		t.Fatal(err)
	}
	clientCAs := x509.NewCertPool()
	if !clientCAs.AppendCertsFromPEM(mustRead(t, ov(r.Paths.ClientCA))) {
		t.Fatal("client CA does not parse")
	}
	server := &tls.Config{Certificates: []tls.Certificate{serverPair}, ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs: clientCAs, MinVersion: tls.VersionTLS13}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(mustRead(t, filepath.Join(r.HostDir, HostCACert))) {
		t.Fatal("host CA copy does not parse")
	}
	if !bytes.Equal(mustRead(t, filepath.Join(r.HostDir, HostCACert)), mustRead(t, ov(r.Paths.ServerCA))) {
		t.Error("the host's CA certificate differs from the image's")
	}
	clientPair, err := tls.LoadX509KeyPair(filepath.Join(r.HostDir, HostClientCert), filepath.Join(r.HostDir, HostClientKey))
	if err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{"localhost", "127.0.0.1", "::1", "agent.internal"} {
		t.Run("client reaches "+name, func(t *testing.T) {
			err := handshake(t, server, &tls.Config{RootCAs: roots, ServerName: name, Certificates: []tls.Certificate{clientPair}})
			if err != nil {
				t.Errorf("mutual TLS with server name %s: %v", name, err)
			}
		})
	}
	t.Run("a name not in the certificate is refused", func(t *testing.T) {
		if err := handshake(t, server, &tls.Config{RootCAs: roots, ServerName: "evil.example", Certificates: []tls.Certificate{clientPair}}); err == nil {
			t.Error("handshake succeeded for a name the certificate does not carry")
		}
	})
	t.Run("a client without a certificate is refused", func(t *testing.T) {
		if err := handshake(t, server, &tls.Config{RootCAs: roots, ServerName: "localhost"}); err == nil {
			t.Error("handshake without a client certificate succeeded")
		}
	})
	t.Run("a client of another CA is refused", func(t *testing.T) {
		other := tlsRequest(t, "")
		if _, err := GenerateTLS(other); err != nil {
			t.Fatal(err)
		}
		stranger, err := tls.LoadX509KeyPair(filepath.Join(other.HostDir, HostClientCert), filepath.Join(other.HostDir, HostClientKey))
		if err != nil {
			t.Fatal(err)
		}
		if err := handshake(t, server, &tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{stranger}}); err == nil {
			t.Error("handshake with another CA's client certificate succeeded")
		}
	})

	leaf := serverPair.Leaf
	if leaf == nil {
		leaf, _ = x509.ParseCertificate(serverPair.Certificate[0])
	}
	if leaf.PublicKeyAlgorithm != x509.ECDSA || leaf.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		t.Errorf("server certificate uses %v / %v, want ECDSA P-256 / SHA-256", leaf.PublicKeyAlgorithm, leaf.SignatureAlgorithm)
	}
}

func TestHostSANs(t *testing.T) {
	for _, tc := range []struct {
		host     string
		wantDNS  []string
		wantIPs  int
		contains string
	}{
		{"0.0.0.0", []string{"localhost"}, 2, ""},
		{"::", []string{"localhost"}, 2, ""},
		{"127.0.0.1", []string{"localhost"}, 2, ""},
		{"10.0.2.15", []string{"localhost"}, 3, "10.0.2.15"},
		{"[fd00::5]", []string{"localhost"}, 3, "fd00::5"},
		{"cube.local", []string{"localhost", "cube.local"}, 2, ""},
		{"LOCALHOST", []string{"localhost"}, 2, ""},
	} {
		t.Run(tc.host, func(t *testing.T) {
			c := &x509.Certificate{DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}}
			addSAN(c, tc.host)
			if strings.Join(c.DNSNames, ",") != strings.Join(tc.wantDNS, ",") || len(c.IPAddresses) != tc.wantIPs {
				t.Errorf("DNS %v IPs %v", c.DNSNames, c.IPAddresses)
			}
			if tc.contains != "" && !c.IPAddresses[len(c.IPAddresses)-1].Equal(net.ParseIP(tc.contains)) {
				t.Errorf("IPs %v lack %s", c.IPAddresses, tc.contains)
			}
		})
	}
}

func TestGenerateTLSRefusesToOverwrite(t *testing.T) {
	r := tlsRequest(t, "")
	if _, err := GenerateTLS(r); err != nil {
		t.Fatal(err)
	}
	key := overlayPath(r.OverlayDir, r.Paths.ServerKey)
	before := mustRead(t, key)
	_, err := GenerateTLS(r)
	var ee *ExistsError
	if !errors.As(err, &ee) || len(ee.Paths) != 10 {
		t.Fatalf("second run: %v, want an ExistsError naming all 10 files", err)
	}
	if !bytes.Equal(before, mustRead(t, key)) {
		t.Fatal("a refused run changed the server key")
	}
	if got := Existing(r.Outputs()...); len(got) != 10 {
		t.Errorf("Outputs/Existing found %d files, want 10", len(got))
	}
	r.Force = true
	if _, err := GenerateTLS(r); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(before, mustRead(t, key)) {
		t.Error("--force did not replace the server key")
	}
}

func TestGenerateTLSCustomPathsAndErrors(t *testing.T) {
	r := tlsRequest(t, "")
	r.Paths.ServerKey = "/srv/tls/agent key.pem"
	files, err := GenerateTLS(r)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(r.OverlayDir, "srv", "tls", "agent key.pem")
	if fi, err := os.Stat(want); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("server key at the configured path: %v %v", fi, err)
	}
	if files[2].Path != want {
		t.Errorf("reported %s, want %s", files[2].Path, want)
	}
	r.Paths.ClientCA = "relative/ca.pem"
	if _, err := GenerateTLS(r); err == nil || !strings.Contains(err.Error(), "relative/ca.pem") {
		t.Errorf("a relative guest path: %v", err)
	}
}

func TestGenerateSSH(t *testing.T) {
	dir := t.TempDir()
	r := SSHRequest{
		PrivateKeyPath:     filepath.Join(dir, "state", "ssh", "id_ed25519"),
		AuthorizedKeysPath: filepath.Join(dir, "overlay", "root", ".ssh", "authorized_keys"),
	}
	// Someone's own key is already authorized; it must stay.
	own := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvYtO3Xl4VQhNQ7sJZ8y7DLk1o0Vxq8w5bqP2jv9x1f someone@laptop\n"
	if err := os.MkdirAll(filepath.Dir(r.AuthorizedKeysPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(r.AuthorizedKeysPath, []byte(own), 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := GenerateSSH(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("files %v", files)
	}
	for p, mode := range map[string]os.FileMode{r.PrivateKeyPath: 0o600, r.AuthorizedKeysPath: 0o600,
		filepath.Dir(r.AuthorizedKeysPath): 0o700, filepath.Dir(r.PrivateKeyPath): 0o700} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v (want mode %v)", p, err, mode)
		}
	}
	signer, err := ssh.ParsePrivateKey(mustRead(t, r.PrivateKeyPath))
	if err != nil {
		t.Fatal(err)
	}
	if signer.PublicKey().Type() != ssh.KeyAlgoED25519 {
		t.Errorf("key type %s", signer.PublicKey().Type())
	}
	auth := string(mustRead(t, r.AuthorizedKeysPath))
	if !strings.HasPrefix(auth, own) {
		t.Errorf("the existing authorized key was not kept:\n%s", auth)
	}
	checkAuthorized := func(s ssh.Signer) {
		t.Helper()
		n := 0
		for rest := []byte(mustRead(t, r.AuthorizedKeysPath)); len(rest) > 0; {
			pk, comment, _, r2, err := ssh.ParseAuthorizedKey(rest)
			if err != nil {
				break
			}
			rest = r2
			if comment == SSHKeyComment {
				n++
				if !bytes.Equal(pk.Marshal(), s.PublicKey().Marshal()) {
					t.Error("authorized_keys holds a cube-hal key that is not the current one")
				}
			}
		}
		if n != 1 {
			t.Errorf("%d cube-hal keys in authorized_keys, want 1", n)
		}
	}
	checkAuthorized(signer)

	// OpenSSH itself reads the private key and derives the same public key.
	if kg, err := exec.LookPath("ssh-keygen"); err != nil {
		testenv.Missing(t, "ssh-keygen (openssh-client) to read the key back")
	} else {
		out, err := exec.Command(kg, "-y", "-f", r.PrivateKeyPath).Output()
		if err != nil {
			t.Fatalf("ssh-keygen -y: %v", err)
		}
		pub, _, _, _, err := ssh.ParseAuthorizedKey(out)
		if err != nil || !bytes.Equal(pub.Marshal(), signer.PublicKey().Marshal()) {
			t.Errorf("ssh-keygen derives another public key: %s (%v)", out, err)
		}
	}

	// A second run refuses; --force replaces cube-hal's key and keeps the other.
	_, err = GenerateSSH(r)
	var ee *ExistsError
	if !errors.As(err, &ee) || len(ee.Paths) != 2 {
		t.Fatalf("second run: %v, want ExistsError for the key pair", err)
	}
	r.Force = true
	if _, err := GenerateSSH(r); err != nil {
		t.Fatal(err)
	}
	signer2, err := ssh.ParsePrivateKey(mustRead(t, r.PrivateKeyPath))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(signer2.PublicKey().Marshal(), signer.PublicKey().Marshal()) {
		t.Error("--force kept the old key")
	}
	checkAuthorized(signer2)
	if !strings.HasPrefix(string(mustRead(t, r.AuthorizedKeysPath)), own) {
		t.Error("--force dropped the other authorized key")
	}
}
