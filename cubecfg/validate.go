package cubecfg

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Problem is one thing wrong with a configuration: the option at fault, a
// message that names it and says what is wrong, and what to do about it
// when the message does not say.
type Problem struct {
	Symbol  string // the option's symbol (or Choice* identifier)
	Message string // e.g. "Agent Port: 70000 is not in 1-65535"
	// Hint is what to do, shared by the problems of one cause: every
	// certificate file missing from the overlay has CertsHint. A list of
	// problems gives each hint once (Hints), after the messages; one
	// problem shown alone gives its hint after its message (Text).
	Hint string
}

// CertsHint is what to do when files the certificate options name are not
// in the overlay.
const CertsHint = "run 'cube-hal certs' for development certificates, or set the Agent CA URL"

func (p Problem) Error() string { return p.Symbol + ": " + p.Text() }

// Text is the message, then the hint if there is one: what to show when
// the problem is shown alone.
func (p Problem) Text() string {
	if p.Hint == "" {
		return p.Message
	}
	return p.Message + "; " + p.Hint
}

// Hints are the distinct hints of ps, in the order they first appear: say
// them once under a list of the problems' messages.
func Hints(ps []Problem) []string {
	var hs []string
	for _, p := range ps {
		if p.Hint != "" && !slices.Contains(hs, p.Hint) {
			hs = append(hs, p.Hint)
		}
	}
	return hs
}

// Validate checks the Cube options of a configuration and the files they
// name in the rootfs overlay. It returns every problem found (nil when
// there is none): the options' own checks in menu order, then the
// certificate files. The TUI marks each field with them; `cube-hal build`
// refuses to start a build that would fail or produce an agent that cannot
// start.
//
// get is described in the package documentation. Options of a package that
// is not enabled are not checked. What is checked:
//   - each value with its option's Check (ranges, URLs, host, paths, text);
//   - a choice has a selected member, and the custom backend has a URL;
//   - with an Agent CA URL: it is https, and the certs token is set;
//   - without one: the four certificate files exist under overlayDir at the
//     configured paths, parse as PEM certificates (or a private key), and
//     the server key belongs to the server certificate. A missing file's
//     problem has CertsHint as its Hint.
func Validate(get func(symbol string) string, overlayDir string) []Problem {
	var ps []Problem
	add := func(sym, label string, err error) {
		if err != nil {
			p := Problem{Symbol: sym, Message: label + ": " + err.Error()}
			if errors.Is(err, fs.ErrNotExist) {
				p.Hint = CertsHint
			}
			ps = append(ps, p)
		}
	}
	for _, o := range options {
		if o.Kind == Bool || !o.Enabled(get) {
			continue
		}
		if o.Kind == Choice {
			if o.Selected(get) == "" {
				add(o.Symbol, o.Label, errors.New("no entry selected"))
			}
			continue
		}
		v := get(o.Symbol)
		if o.Symbol == SymTargetURL && v == "" {
			add(o.Symbol, o.Label, errors.New("required with the custom backend"))
			continue
		}
		if o.Check != nil {
			add(o.Symbol, o.Label, o.Check(v))
		}
	}
	if get(SymAgent) != "y" {
		return ps
	}
	caURL := get(SymCAURL)
	if caURL != "" {
		if get(SymCertsToken) == "" { // its text was checked with the other values
			add(SymCertsToken, "Certs Token", ValidateToken(caURL, ""))
		}
		return ps
	}
	for _, sym := range []string{SymServerCA, SymServerCert, SymClientCA} {
		o, _ := Lookup(sym)
		if p := get(sym); p == "" {
			add(sym, o.Label, errors.New("empty, but without an Agent CA URL the file must be in the image"))
		} else if ValidateGuestPath(p) == nil {
			add(sym, o.Label, ValidateCertFile(overlayDir, p))
		}
	}
	keyPath := get(SymServerKey)
	if keyPath == "" {
		add(SymServerKey, "Server Key File", errors.New("empty, but without an Agent CA URL the file must be in the image"))
	} else if ValidateGuestPath(keyPath) == nil {
		if err := ValidateKeyFile(overlayDir, keyPath); err != nil {
			add(SymServerKey, "Server Key File", err)
		} else if certPath := get(SymServerCert); certPath != "" && ValidateCertFile(overlayDir, certPath) == nil {
			add(SymServerKey, "Server Key File", validatePair(overlayDir, certPath, keyPath))
		}
	}
	return ps
}

// ValidatePort checks an agent port: a decimal integer in 1-65535.
func ValidatePort(v string) error { return checkInt(v, 1, 65535) }

// ValidateVMPL checks an SEV-SNP VM privilege level: 0-3.
func ValidateVMPL(v string) error { return checkInt(v, 0, 3) }

func checkInt(v string, lo, hi int) error {
	if v == "" {
		return fmt.Errorf("empty; enter a number from %d to %d", lo, hi)
	}
	n, err := strconv.Atoi(v)
	if err != nil || strings.HasPrefix(v, "+") {
		return fmt.Errorf("%q is not a number; enter one from %d to %d", v, lo, hi)
	}
	if n < lo || n > hi {
		return fmt.Errorf("%d is not in %d-%d", n, lo, hi)
	}
	return nil
}

// ValidateHost checks the address the agent listens on: an IPv4 or IPv6
// address (0.0.0.0 and :: listen everywhere) or a DNS host name. An IPv6
// address goes without brackets: the agent adds them to listen, and the
// value also goes into the server certificate as is.
//
// A value of digits and dots only is read as an IPv4 address and must be
// one: "10.0.0.300" or "1.2.3" are valid host names by the letter of
// RFC 1123, but no resolver looks them up as names (some read "1.2.3" as
// 1.2.0.3), so they are typos to report, not names.
func ValidateHost(v string) error {
	if v == "" {
		return errors.New("empty; use 0.0.0.0 to listen on every interface")
	}
	if net.ParseIP(v) != nil {
		return nil
	}
	if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") && net.ParseIP(v[1:len(v)-1]) != nil {
		return fmt.Errorf("%q: give the IPv6 address without brackets", v)
	}
	if strings.Trim(v, "0123456789.") == "" {
		return checkIPv4(v)
	}
	if strings.Contains(v, ":") {
		return fmt.Errorf("%q is not an IPv6 address (nor an IPv4 address or a host name)", v)
	}
	if err := checkHostname(v); err != nil {
		return fmt.Errorf("%q is neither an IP address nor a host name (%v)", v, err)
	}
	return nil
}

// checkIPv4 says what is wrong with v, made of digits and dots only and
// refused by net.ParseIP, as an IPv4 address.
func checkIPv4(v string) error {
	parts := strings.Split(v, ".")
	if slices.Contains(parts, "") {
		return fmt.Errorf("%q: an IPv4 address has no empty part (a stray dot)", v)
	}
	if len(parts) != 4 {
		return fmt.Errorf("%q: an IPv4 address has 4 parts (like 10.0.0.1), not %d", v, len(parts))
	}
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		switch {
		case err != nil || n > 255:
			return fmt.Errorf("%q: %s is not an IPv4 octet (0-255)", v, p)
		case len(p) > 1 && p[0] == '0':
			return fmt.Errorf("%q: %s has a leading zero, which some tools read as octal; write %d", v, p, n)
		}
	}
	return fmt.Errorf("%q is not an IPv4 address", v)
}

// checkHostname applies RFC 1123: dot-separated labels of letters, digits
// and hyphens, each 1-63 long and not starting or ending with a hyphen.
func checkHostname(h string) error {
	if len(h) > 253 {
		return errors.New("longer than 253 characters")
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		switch {
		case label == "":
			return errors.New("empty label")
		case len(label) > 63:
			return errors.New("a label is longer than 63 characters")
		case label[0] == '-' || label[len(label)-1] == '-':
			return errors.New("a label starts or ends with '-'")
		}
		for _, c := range label {
			if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return fmt.Errorf("character %q not allowed", c)
			}
		}
	}
	return nil
}

// ValidateURL checks an absolute http:// or https:// URL with a host.
func ValidateURL(v string) error {
	if err := ValidateText(v); err != nil {
		return err
	}
	u, err := url.Parse(v)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", v, errors.Unwrap(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: the URL must start with http:// or https://", v)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%q: the URL has no host", v)
	}
	if p := u.Port(); p != "" {
		if err := ValidatePort(p); err != nil {
			return fmt.Errorf("%q: port %v", v, err)
		}
	}
	return nil
}

// ValidateBackendURL checks the custom LLM backend URL (http or https).
func ValidateBackendURL(v string) error {
	if v == "" {
		return nil // required only with the custom backend: Validate says so
	}
	return ValidateURL(v)
}

// ValidateCAURL checks the Agent CA URL: empty (no CA), or an https:// URL,
// since the certs token travels to it.
func ValidateCAURL(v string) error {
	if v == "" {
		return nil
	}
	if err := ValidateURL(v); err != nil {
		return err
	}
	if !strings.HasPrefix(strings.ToLower(v), "https://") {
		return fmt.Errorf("%q: the CA URL must be https:// (the certs token is sent to it)", v)
	}
	return nil
}

// ValidateToken checks that the certs token is set when a CA URL is, and
// that it fits in the agent's environment file.
func ValidateToken(caURL, token string) error {
	if caURL != "" && token == "" {
		return errors.New("required when the Agent CA URL is set")
	}
	return ValidateText(token)
}

// ValidateText checks a free-text value: valid UTF-8 (systemd ignores an
// environment file line that is not) and no control characters.
func ValidateText(v string) error {
	if !utf8.ValidString(v) {
		return errors.New("not valid UTF-8")
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return fmt.Errorf("contains the control character %U", r)
		}
	}
	return nil
}

// ValidateNonEmptyText is ValidateText for a value that must be set.
func ValidateNonEmptyText(v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("empty")
	}
	return ValidateText(v)
}

// ValidateGuestPath checks a file path inside the VM: absolute and clean
// (no "..", no doubled or trailing slash).
func ValidateGuestPath(v string) error {
	if v == "" {
		return nil // Validate says when a path is required
	}
	if err := ValidateText(v); err != nil {
		return err
	}
	if !strings.HasPrefix(v, "/") {
		return fmt.Errorf("%q: give an absolute path inside the VM, like /etc/cube/certs/server.crt", v)
	}
	if path.Clean(v) != v || strings.HasSuffix(v, "/") {
		return fmt.Errorf("%q is not a clean path (expected %s)", v, path.Clean(v))
	}
	return nil
}

// OverlayPath is where the file at guestPath comes from in the overlay.
func OverlayPath(overlayDir, guestPath string) string {
	return filepath.Join(overlayDir, filepath.FromSlash(strings.TrimPrefix(guestPath, "/")))
}

// ValidateCertFile checks that guestPath exists in the overlay and holds at
// least one PEM certificate, and nothing else. A missing file's error
// matches fs.ErrNotExist (CertsHint says what to do).
func ValidateCertFile(overlayDir, guestPath string) error {
	file := OverlayPath(overlayDir, guestPath)
	data, err := os.ReadFile(file)
	if err != nil {
		return missing(file, err)
	}
	n := 0
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return fmt.Errorf("%s: holds a PEM %q block, expected certificates only", file, b.Type)
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return fmt.Errorf("%s: certificate %d does not parse: %v", file, n+1, err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("%s: no PEM certificate in it", file)
	}
	return nil
}

// ValidateKeyFile checks that guestPath exists in the overlay and holds one
// PEM private key (PKCS#8, SEC 1 EC or PKCS#1 RSA). A missing file's error
// matches fs.ErrNotExist (CertsHint says what to do).
func ValidateKeyFile(overlayDir, guestPath string) error {
	file := OverlayPath(overlayDir, guestPath)
	data, err := os.ReadFile(file)
	if err != nil {
		return missing(file, err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		return fmt.Errorf("%s: no PEM private key in it", file)
	}
	var perr error
	switch b.Type {
	case "PRIVATE KEY":
		_, perr = x509.ParsePKCS8PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		_, perr = x509.ParseECPrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		_, perr = x509.ParsePKCS1PrivateKey(b.Bytes)
	default:
		return fmt.Errorf("%s: holds a PEM %q block, expected a private key", file, b.Type)
	}
	if perr != nil {
		return fmt.Errorf("%s: the private key does not parse: %v", file, perr)
	}
	return nil
}

func validatePair(overlayDir, certPath, keyPath string) error {
	certPEM, err1 := os.ReadFile(OverlayPath(overlayDir, certPath))
	keyPEM, err2 := os.ReadFile(OverlayPath(overlayDir, keyPath))
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return fmt.Errorf("%s does not belong to the server certificate %s: %v",
			OverlayPath(overlayDir, keyPath), OverlayPath(overlayDir, certPath), err)
	}
	return nil
}

// missing is a file that could not be read: "FILE is missing" when it does
// not exist, an error that still matches fs.ErrNotExist so that callers
// can add CertsHint (once, for all the files missing).
func missing(file string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return missingFile{file, err}
	}
	return err
}

type missingFile struct {
	file string
	err  error
}

func (m missingFile) Error() string { return m.file + " is missing" }
func (m missingFile) Unwrap() error { return m.err }

// ValidateOllamaModels checks the custom model list: names separated by
// commas or white space, each name[:tag] of letters, digits and . _ - /,
// starting with a letter or digit.
func ValidateOllamaModels(v string) error {
	if err := ValidateText(v); err != nil {
		return err
	}
	for _, m := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		name, tag, hasTag := strings.Cut(m, ":")
		if name == "" || hasTag && (tag == "" || strings.Contains(tag, ":")) || !modelChars(m) || !alnum(m[0]) {
			return fmt.Errorf("%q is not a model name (name[:tag], e.g. llama3.2:3b)", m)
		}
	}
	return nil
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }

func modelChars(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._:/-", c)) {
			return false
		}
	}
	return true
}

// ValidateGPUMemory checks vLLM's GPU memory fraction: a number in (0, 1].
func ValidateGPUMemory(v string) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || strings.ContainsAny(v, "eExXpP+-_ ") || strings.EqualFold(v, "nan") || strings.Contains(strings.ToLower(v), "inf") {
		return fmt.Errorf("%q is not a decimal number; enter one in (0, 1], e.g. 0.85", v)
	}
	if f <= 0 || f > 1 {
		return fmt.Errorf("%s is not in (0, 1]", v)
	}
	return nil
}

// ValidateMaxModelLen checks vLLM's maximum sequence length: a positive
// decimal integer.
func ValidateMaxModelLen(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || strings.HasPrefix(v, "+") || strings.HasPrefix(v, "0") {
		return fmt.Errorf("%q is not a positive integer", v)
	}
	if n <= 0 {
		return fmt.Errorf("%d is not positive", n)
	}
	return nil
}
