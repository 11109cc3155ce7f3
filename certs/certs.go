// Package certs makes the development keys and certificates of a Cube HAL
// image with Go's crypto (ECDSA P-256) and golang.org/x/crypto/ssh:
//
//   - TLS (GenerateTLS): a development CA and the agent's server certificate
//     (SANs localhost, 127.0.0.1, ::1 and the configured agent host) with its
//     key, plus a client CA and one client certificate for mutual TLS. What
//     the VM needs goes into the rootfs overlay at the paths the
//     configuration names; the CA keys and the client certificate and key
//     stay on the host.
//   - SSH (GenerateSSH): the Ed25519 key pair cube-hal uses to reach the
//     guest, the private key in OpenSSH format on the host and the public key
//     added to the overlay's root/.ssh/authorized_keys.
//
// Private keys are written with mode 0600, every file atomically (temporary
// file and rename). Nothing is overwritten unless Force is set: an existing
// file is an *ExistsError listing them all, and nothing is written.
//
// These are development credentials for images you build and run yourself:
// the overlay is part of the image, so anyone holding the image holds the
// server key. Production deployments get certificates from Cube's CA
// (the agent's CA URL).
package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/ultravioletrs/cube-hal/internal/atomicfile"
)

// Paths are where the agent reads its TLS files inside the VM (absolute
// guest paths, the BR2_PACKAGE_CUBE_AGENT_{SERVER_CA_CERTS,SERVER_CERT,
// SERVER_KEY,CLIENT_CA_CERTS} options).
type Paths struct {
	ServerCA   string // CA certificate that issued the server certificate
	ServerCert string
	ServerKey  string
	ClientCA   string // CA certificate client certificates must chain to
}

// DefaultPaths are the options' defaults.
var DefaultPaths = Paths{
	ServerCA:   "/etc/cube/certs/ca.pem",
	ServerCert: "/etc/cube/certs/server.crt",
	ServerKey:  "/etc/cube/certs/server.key",
	ClientCA:   "/etc/cube/certs/client_ca.pem",
}

// TLSRequest says what GenerateTLS makes and where.
type TLSRequest struct {
	OverlayDir string // the rootfs overlay; guest paths are taken under it
	HostDir    string // host-side files: CA keys, client certificate and key
	Paths      Paths
	// Host is the agent's configured listen address; it is added to the
	// server certificate's SANs unless it is a wildcard (0.0.0.0, ::).
	Host     string
	Force    bool          // overwrite existing files
	Validity time.Duration // of the leaf certificates; 0 means 825 days
	Now      time.Time     // zero means time.Now()
}

// File is one file written.
type File struct {
	Path string
	Mode os.FileMode
	What string // e.g. "server certificate (in the image)"
}

// ExistsError is returned, before anything is written, when files that
// would be written exist already and Force is not set.
type ExistsError struct{ Paths []string }

func (e *ExistsError) Error() string {
	return "would overwrite " + strings.Join(e.Paths, ", ")
}

// Host-side file names in TLSRequest.HostDir.
const (
	HostCACert       = "ca.pem"
	HostCAKey        = "ca.key"
	HostClientCACert = "client_ca.pem"
	HostClientCAKey  = "client_ca.key"
	HostClientCert   = "client.crt"
	HostClientKey    = "client.key"
)

// overlayPath maps a guest path to its place in the overlay.
func overlayPath(overlay, guest string) string {
	return filepath.Join(overlay, filepath.FromSlash(strings.TrimPrefix(guest, "/")))
}

type plannedFile struct {
	File
	data []byte
}

// GenerateTLS makes the development CA, server certificate and key, client
// CA and client certificate, and writes them. It returns the files written,
// in a stable order.
func GenerateTLS(r TLSRequest) ([]File, error) {
	for name, p := range map[string]string{"server CA": r.Paths.ServerCA, "server certificate": r.Paths.ServerCert,
		"server key": r.Paths.ServerKey, "client CA": r.Paths.ClientCA} {
		if !strings.HasPrefix(p, "/") {
			return nil, fmt.Errorf("%s path %q: not an absolute path inside the VM", name, p)
		}
	}
	if r.OverlayDir == "" || r.HostDir == "" {
		return nil, errors.New("overlay and host directories must be set")
	}
	now := r.Now
	if now.IsZero() {
		now = time.Now()
	}
	validity := r.Validity
	if validity == 0 {
		validity = 825 * 24 * time.Hour
	}

	ca, caKey, err := newCA("Cube HAL development CA", now)
	if err != nil {
		return nil, err
	}
	clientCA, clientCAKey, err := newCA("Cube HAL development client CA", now)
	if err != nil {
		return nil, err
	}
	serverTmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "cube-agent", Organization: []string{"cube-hal development"}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	addSAN(serverTmpl, r.Host)
	server, serverKey, err := newLeaf(serverTmpl, ca, caKey, now, validity)
	if err != nil {
		return nil, err
	}
	client, clientKey, err := newLeaf(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "cube-hal", Organization: []string{"cube-hal development"}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, clientCA, clientCAKey, now, validity)
	if err != nil {
		return nil, err
	}

	if err := os.MkdirAll(r.HostDir, 0o700); err != nil { // it holds the CA keys
		return nil, err
	}
	var plan []plannedFile
	add := func(path string, mode os.FileMode, what string, data []byte) {
		plan = append(plan, plannedFile{File{path, mode, what}, data})
	}
	keyPEM := func(k *ecdsa.PrivateKey) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			panic(err) // P-256 keys always marshal
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	certPEM := func(c *x509.Certificate) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	o := r.OverlayDir
	add(overlayPath(o, r.Paths.ServerCA), 0o644, "server CA certificate (in the image)", certPEM(ca))
	add(overlayPath(o, r.Paths.ServerCert), 0o644, "server certificate (in the image)", certPEM(server))
	add(overlayPath(o, r.Paths.ServerKey), 0o600, "server key (in the image)", keyPEM(serverKey))
	add(overlayPath(o, r.Paths.ClientCA), 0o644, "client CA certificate (in the image)", certPEM(clientCA))
	h := r.HostDir
	add(filepath.Join(h, HostCACert), 0o644, "server CA certificate (host: verify the agent)", certPEM(ca))
	add(filepath.Join(h, HostCAKey), 0o600, "server CA key (host)", keyPEM(caKey))
	add(filepath.Join(h, HostClientCACert), 0o644, "client CA certificate (host)", certPEM(clientCA))
	add(filepath.Join(h, HostClientCAKey), 0o600, "client CA key (host)", keyPEM(clientCAKey))
	add(filepath.Join(h, HostClientCert), 0o644, "client certificate (host: mutual TLS)", certPEM(client))
	add(filepath.Join(h, HostClientKey), 0o600, "client key (host)", keyPEM(clientKey))
	return writeAll(plan, r.Force)
}

// Outputs lists the files GenerateTLS writes (and refuses to overwrite).
func (r TLSRequest) Outputs() []string {
	o, h := r.OverlayDir, r.HostDir
	return []string{
		overlayPath(o, r.Paths.ServerCA), overlayPath(o, r.Paths.ServerCert),
		overlayPath(o, r.Paths.ServerKey), overlayPath(o, r.Paths.ClientCA),
		filepath.Join(h, HostCACert), filepath.Join(h, HostCAKey),
		filepath.Join(h, HostClientCACert), filepath.Join(h, HostClientCAKey),
		filepath.Join(h, HostClientCert), filepath.Join(h, HostClientKey),
	}
}

// Existing returns those of paths that exist.
func Existing(paths ...string) []string {
	var out []string
	for _, p := range paths {
		if _, err := os.Lstat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// addSAN adds the configured agent host to a server certificate: an IP
// address as an IP SAN, a name as a DNS SAN; wildcards and what is already
// there are skipped.
func addSAN(c *x509.Certificate, host string) {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" {
		return
	}
	if ip := net.ParseIP(host); ip != nil {
		if ip.IsUnspecified() {
			return
		}
		for _, have := range c.IPAddresses {
			if have.Equal(ip) {
				return
			}
		}
		c.IPAddresses = append(c.IPAddresses, ip)
		return
	}
	for _, have := range c.DNSNames {
		if strings.EqualFold(have, host) {
			return
		}
	}
	c.DNSNames = append(c.DNSNames, host)
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func keyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(der) // RFC 5280 4.2.1.2 method 1 (an identifier, not a security function)
	return sum[:], nil
}

func newCA(name string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, nil, err
	}
	skid, err := keyID(&key.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"cube-hal development"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		SubjectKeyId:          skid,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("creating %s: %w", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

func newLeaf(tmpl, ca *x509.Certificate, caKey *ecdsa.PrivateKey, now time.Time, validity time.Duration) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	if tmpl.SerialNumber, err = serial(); err != nil {
		return nil, nil, err
	}
	if tmpl.SubjectKeyId, err = keyID(&key.PublicKey); err != nil {
		return nil, nil, err
	}
	tmpl.NotBefore = now.Add(-time.Hour) // tolerate a guest clock slightly behind
	tmpl.NotAfter = now.Add(validity)
	tmpl.BasicConstraintsValid = true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("creating the %s certificate: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

// SSHRequest says where GenerateSSH puts cube-hal's SSH key pair.
type SSHRequest struct {
	PrivateKeyPath     string // e.g. workspace SSHKeyFile(); <path>.pub gets the public key
	AuthorizedKeysPath string // <overlay>/root/.ssh/authorized_keys
	Force              bool
}

// SSHKeyComment marks cube-hal's key in authorized_keys, so a new key
// replaces the old one and keys added by hand stay.
const SSHKeyComment = "cube-hal"

// Outputs lists the files GenerateSSH refuses to overwrite: the key pair.
// (authorized_keys is merged, never refused.)
func (r SSHRequest) Outputs() []string {
	return []string{r.PrivateKeyPath, r.PrivateKeyPath + ".pub"}
}

// GenerateSSH makes an Ed25519 key pair: the private key (OpenSSH format,
// 0600) and the public key on the host, and the public key in the overlay's
// authorized_keys (0600, directory 0700), where it replaces an earlier
// cube-hal key and keeps every other line.
func GenerateSSH(r SSHRequest) ([]File, error) {
	if r.PrivateKeyPath == "" || r.AuthorizedKeysPath == "" {
		return nil, errors.New("SSH key and authorized_keys paths must be set")
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, SSHKeyComment)
	if err != nil {
		return nil, fmt.Errorf("encoding the SSH key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	authLine := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))) + " " + SSHKeyComment + "\n"

	var kept []string
	existing, err := os.ReadFile(r.AuthorizedKeysPath)
	switch {
	case err == nil:
		for _, l := range strings.Split(strings.TrimRight(string(existing), "\n"), "\n") {
			if _, comment, _, _, perr := ssh.ParseAuthorizedKey([]byte(l)); perr == nil && comment == SSHKeyComment {
				continue // the previous cube-hal key
			}
			if strings.TrimSpace(l) != "" {
				kept = append(kept, l+"\n")
			}
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	plan := []plannedFile{
		{File{r.PrivateKeyPath, 0o600, "SSH private key (host)"}, pem.EncodeToMemory(block)},
		{File{r.PrivateKeyPath + ".pub", 0o644, "SSH public key (host)"}, []byte(authLine)},
	}
	if err := os.MkdirAll(filepath.Dir(r.PrivateKeyPath), 0o700); err != nil {
		return nil, err
	}
	files, err := writeAll(plan, r.Force)
	if err != nil {
		return nil, err
	}
	auth := plannedFile{File{r.AuthorizedKeysPath, 0o600, "authorized_keys for root (in the image)"},
		[]byte(strings.Join(append(kept, authLine), ""))}
	if err := os.MkdirAll(filepath.Dir(r.AuthorizedKeysPath), 0o700); err != nil {
		return files, err
	}
	if err := os.Chmod(filepath.Dir(r.AuthorizedKeysPath), 0o700); err != nil {
		return files, err
	}
	if err := atomicfile.WriteFile(auth.Path, auth.data, auth.Mode); err != nil {
		return files, err
	}
	return append(files, auth.File), nil
}

// writeAll writes every planned file, refusing first, without writing
// anything, when one exists and force is false.
func writeAll(plan []plannedFile, force bool) ([]File, error) {
	if !force {
		var paths []string
		for _, p := range plan {
			paths = append(paths, p.Path)
		}
		if exist := Existing(paths...); len(exist) > 0 {
			return nil, &ExistsError{Paths: exist}
		}
	}
	var done []File
	for _, p := range plan {
		if err := os.MkdirAll(filepath.Dir(p.Path), 0o755); err != nil {
			return done, err
		}
		if err := atomicfile.WriteFile(p.Path, p.data, p.Mode); err != nil {
			return done, err
		}
		done = append(done, p.File)
	}
	return done, nil
}
