// Package config reads the cube-agent's settings from the environment and
// /etc/cube/agent.env, using the upstream Cube agent's variable names
// (UV_CUBE_AGENT_*, AGENT_VMPL, AGENT_OS_*) so an image configured for the
// upstream agent runs this one unchanged.
//
// Every invalid value is reported as an *Error naming the variable. Secret
// values (the certs token) are held in a Secret, which prints as
// "[redacted]" in logs, errors and %v output.
package config

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Prefix is the upstream agent's environment prefix.
const Prefix = "UV_CUBE_AGENT_"

// DefaultEnvFile is where the Cube Buildroot package writes the settings.
const DefaultEnvFile = "/etc/cube/agent.env"

// TSMMode selects where attestation evidence comes from.
type TSMMode string

// TSM modes.
const (
	// TSMAuto uses configfs-tsm when the kernel offers it and otherwise runs
	// without attestation (POST /attestation answers 503).
	TSMAuto TSMMode = "auto"
	// TSMConfigFS requires configfs-tsm: the agent refuses to start without it.
	TSMConfigFS TSMMode = "configfs"
	// TSMFake signs reports with go-sev-guest's published test keys. For
	// development only; they verify only against test roots.
	TSMFake TSMMode = "fake"
	// TSMNone disables attestation.
	TSMNone TSMMode = "none"
)

// Config is the agent's whole configuration.
type Config struct {
	// Upstream-compatible settings.
	InstanceID    string     // UV_CUBE_AGENT_INSTANCE_ID (random UUID when empty)
	Host          string     // UV_CUBE_AGENT_HOST
	Port          int        // UV_CUBE_AGENT_PORT
	LogLevel      slog.Level // UV_CUBE_AGENT_LOG_LEVEL
	TargetURL     *url.URL   // UV_CUBE_AGENT_TARGET_URL: the LLM backend
	OSBuild       string     // AGENT_OS_BUILD
	OSDistro      string     // AGENT_OS_DISTRO
	OSType        string     // AGENT_OS_TYPE
	VMPL          uint       // AGENT_VMPL or UV_CUBE_AGENT_VMPL: SNP report privilege level
	CAURL         *url.URL   // UV_CUBE_AGENT_CA_URL (nil: no CA enrolment)
	AttestedTLS   bool       // UV_CUBE_AGENT_ATTESTED_TLS
	ServerCACerts string     // UV_CUBE_AGENT_SERVER_CA_CERTS: CA chain served after the server cert
	ServerCert    string     // UV_CUBE_AGENT_SERVER_CERT
	ServerKey     string     // UV_CUBE_AGENT_SERVER_KEY
	ClientCACerts string     // UV_CUBE_AGENT_CLIENT_CA_CERTS: enables mTLS
	CertsToken    Secret     // UV_CUBE_AGENT_CERTS_TOKEN
	CVMID         string     // UV_CUBE_AGENT_CVM_ID (alias UV_CUBE_AGENT_ENTITY_ID)

	// cube-hal additions.
	TSM               TSMMode       // UV_CUBE_AGENT_TSM
	FakeMeasurement   []byte        // UV_CUBE_AGENT_FAKE_MEASUREMENT (hex, 48 bytes)
	StateDir          string        // UV_CUBE_AGENT_STATE_DIR: CVM ID and CA-issued certificate
	MaxBodyBytes      int64         // UV_CUBE_AGENT_MAX_BODY_BYTES: proxied request bodies
	MaxAttestations   int           // UV_CUBE_AGENT_MAX_ATTESTATIONS: reports generated at once
	AttestationQueue  int           // UV_CUBE_AGENT_ATTESTATION_QUEUE: requests waiting beyond that
	ReadHeaderTimeout time.Duration // UV_CUBE_AGENT_READ_HEADER_TIMEOUT
	ReadTimeout       time.Duration // UV_CUBE_AGENT_READ_TIMEOUT
	IdleTimeout       time.Duration // UV_CUBE_AGENT_IDLE_TIMEOUT
	CATimeout         time.Duration // UV_CUBE_AGENT_CA_TIMEOUT: total time for CA enrolment retries
	CertTTL           time.Duration // UV_CUBE_AGENT_CERT_TTL: lifetime asked of the CA

	// EnvFile is the file the settings were read from ("" if none).
	EnvFile string
	// EnvFileNote explains why the default env file was skipped, if it was.
	EnvFileNote string
}

// Error is an invalid setting.
type Error struct {
	Var string // the environment variable at fault
	Msg string // what is wrong, never the secret value itself
}

func (e *Error) Error() string { return e.Var + ": " + e.Msg }

func errf(name, format string, args ...any) *Error {
	return &Error{Var: name, Msg: fmt.Sprintf(format, args...)}
}

// Secret is a value that must never be printed.
type Secret struct{ v string }

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{v: s} }

// Reveal returns the value, for the one place that sends it.
func (s Secret) Reveal() string { return s.v }

// IsSet reports whether the value is non-empty.
func (s Secret) IsSet() bool { return s.v != "" }

// String implements fmt.Stringer without the value.
func (s Secret) String() string {
	if s.v == "" {
		return ""
	}
	return "[redacted]"
}

// GoString implements fmt.GoStringer without the value.
func (s Secret) GoString() string { return "config.Secret(" + s.String() + ")" }

// LogValue implements slog.LogValuer without the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText implements encoding.TextMarshaler without the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Defaults.
const (
	DefaultPort              = 7001 // what the Cube image and cube-hal's port forward use
	DefaultTargetURL         = "http://localhost:11434"
	DefaultStateDir          = "/var/lib/cube"
	DefaultMaxBodyBytes      = 32 << 20
	DefaultMaxAttestations   = 8
	DefaultAttestationQueue  = 64
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultCATimeout         = 2 * time.Minute
	DefaultCertTTL           = 365 * 24 * time.Hour
)

// Lookup finds an environment variable, like os.LookupEnv.
type Lookup func(string) (string, bool)

// Load reads the configuration. env is consulted first (normally
// os.LookupEnv); then the env file named by UV_CUBE_AGENT_ENV_FILE (default
// /etc/cube/agent.env, skipped silently when absent). Empty values count as
// unset, as in the upstream agent.
func Load(env Lookup) (*Config, error) {
	file := DefaultEnvFile
	explicit := false
	if v, ok := env(Prefix + "ENV_FILE"); ok {
		file, explicit = v, true
	}
	fileVars := map[string]string{}
	cfg := &Config{}
	if file != "" {
		data, err := os.ReadFile(file)
		switch {
		case err == nil:
			fileVars, err = ParseEnvFile(file, data)
			if err != nil {
				return nil, errf(Prefix+"ENV_FILE", "%v", err)
			}
			cfg.EnvFile = file
		case errors.Is(err, fs.ErrNotExist) && !explicit:
		case errors.Is(err, fs.ErrPermission) && !explicit:
			// Run as an unprivileged user under systemd, which already put
			// the file's settings in the environment.
			cfg.EnvFileNote = fmt.Sprintf("%s not readable (%v); using the environment only", file, err)
		default:
			return nil, errf(Prefix+"ENV_FILE", "%v", err)
		}
	}
	// get returns the first of names set in the environment, else in the
	// file. A name set but empty in the environment means unset and hides
	// the file's value (the environment wins). Values are returned as
	// written; fill trims where blanks cannot matter (numbers, URLs, enums).
	get := func(names ...string) (string, string) {
		for _, n := range names {
			if v, ok := env(n); ok && strings.TrimSpace(v) != "" {
				return n, v
			}
		}
		for _, n := range names {
			if _, ok := env(n); ok {
				return n, ""
			}
		}
		for _, n := range names {
			if v := fileVars[n]; strings.TrimSpace(v) != "" {
				return n, v
			}
		}
		return names[0], ""
	}
	if err := cfg.fill(get); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (c *Config) fill(raw func(...string) (string, string)) error {
	var err error
	p := func(s string) string { return Prefix + s }
	// get trims: for numbers, URLs, names and switches, surrounding blanks
	// are noise. raw keeps free text (IDs, OS strings, paths, the token)
	// exactly as written.
	get := func(names ...string) (string, string) {
		n, v := raw(names...)
		return n, strings.TrimSpace(v)
	}

	_, c.InstanceID = raw(p("INSTANCE_ID"))
	if c.InstanceID == "" {
		c.InstanceID = uuid.NewString()
	}
	_, c.Host = get(p("HOST"))
	if c.Host == "" {
		c.Host = "0.0.0.0"
	}
	if strings.ContainsAny(c.Host, " /") {
		return errf(p("HOST"), "%q is not a host name or address", c.Host)
	}
	if n, v := get(p("PORT")); v == "" {
		c.Port = DefaultPort
	} else if c.Port, err = strconv.Atoi(v); err != nil || c.Port < 0 || c.Port > 65535 {
		return errf(n, "must be a port number 1..65535, got %q", v)
	}
	if n, v := get(p("LOG_LEVEL")); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(strings.ToLower(v))); err != nil {
			return errf(n, "must be debug, info, warn or error, got %q", v)
		}
	}
	n, v := get(p("TARGET_URL"))
	if v == "" {
		v = DefaultTargetURL
	}
	if c.TargetURL, err = parseHTTPURL(v); err != nil {
		return errf(n, "%v", err)
	}
	_, c.OSBuild = raw("AGENT_OS_BUILD", p("OS_BUILD"))
	_, c.OSDistro = raw("AGENT_OS_DISTRO", p("OS_DISTRO"))
	_, c.OSType = raw("AGENT_OS_TYPE", p("OS_TYPE"))
	for _, s := range []*string{&c.OSBuild, &c.OSDistro, &c.OSType} {
		if *s == "" {
			*s = "UVC"
		}
	}
	if n, v := get(p("VMPL"), "AGENT_VMPL"); v == "" {
		c.VMPL = 2
	} else if x, err := strconv.ParseUint(v, 10, 8); err != nil || x > 3 {
		return errf(n, "must be an SEV-SNP privilege level 0..3, got %q", v)
	} else {
		c.VMPL = uint(x)
	}
	if n, v := get(p("CA_URL")); v != "" {
		if c.CAURL, err = parseHTTPURL(v); err != nil {
			return errf(n, "%v", err)
		}
	}
	if n, v := get(p("ATTESTED_TLS")); v != "" {
		if c.AttestedTLS, err = strconv.ParseBool(v); err != nil {
			return errf(n, "must be true or false, got %q", v)
		}
	}
	_, c.ServerCACerts = raw(p("SERVER_CA_CERTS"))
	_, c.ServerCert = raw(p("SERVER_CERT"))
	_, c.ServerKey = raw(p("SERVER_KEY"))
	_, c.ClientCACerts = raw(p("CLIENT_CA_CERTS"))
	_, tok := raw(p("CERTS_TOKEN"))
	c.CertsToken = NewSecret(tok)
	_, c.CVMID = raw(p("CVM_ID"), p("ENTITY_ID"))

	if n, v := get(p("TSM")); v == "" {
		c.TSM = TSMAuto
	} else {
		switch m := TSMMode(strings.ToLower(v)); m {
		case TSMAuto, TSMConfigFS, TSMFake, TSMNone:
			c.TSM = m
		default:
			return errf(n, "must be auto, configfs, fake or none, got %q", v)
		}
	}
	if n, v := get(p("FAKE_MEASUREMENT")); v != "" {
		if c.TSM != TSMFake {
			return errf(n, "only applies with %sTSM=fake", Prefix)
		}
		b, err := hex.DecodeString(v)
		if err != nil || len(b) != 48 {
			return errf(n, "must be 96 hex digits (a 48-byte measurement)")
		}
		c.FakeMeasurement = b
	}
	if _, c.StateDir = raw(p("STATE_DIR")); c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}

	ints := []struct {
		name string
		dst  *int
		def  int
		min  int
	}{
		{"MAX_ATTESTATIONS", &c.MaxAttestations, DefaultMaxAttestations, 1},
		{"ATTESTATION_QUEUE", &c.AttestationQueue, DefaultAttestationQueue, 0},
	}
	for _, it := range ints {
		n, v := get(p(it.name))
		if v == "" {
			*it.dst = it.def
			continue
		}
		x, err := strconv.Atoi(v)
		if err != nil || x < it.min {
			return errf(n, "must be a whole number >= %d, got %q", it.min, v)
		}
		*it.dst = x
	}
	if n, v := get(p("MAX_BODY_BYTES")); v == "" {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	} else if c.MaxBodyBytes, err = strconv.ParseInt(v, 10, 64); err != nil || c.MaxBodyBytes < 1024 {
		return errf(n, "must be a byte count >= 1024, got %q", v)
	}
	durs := []struct {
		name string
		dst  *time.Duration
		def  time.Duration
	}{
		{"READ_HEADER_TIMEOUT", &c.ReadHeaderTimeout, DefaultReadHeaderTimeout},
		{"READ_TIMEOUT", &c.ReadTimeout, DefaultReadTimeout},
		{"IDLE_TIMEOUT", &c.IdleTimeout, DefaultIdleTimeout},
		{"CA_TIMEOUT", &c.CATimeout, DefaultCATimeout},
		{"CERT_TTL", &c.CertTTL, DefaultCertTTL},
	}
	for _, d := range durs {
		n, v := get(p(d.name))
		if v == "" {
			*d.dst = d.def
			continue
		}
		x, err := time.ParseDuration(v)
		if err != nil || x <= 0 {
			return errf(n, "must be a positive duration like 30s or 2m, got %q", v)
		}
		*d.dst = x
	}
	return c.check()
}

// check validates combinations of settings.
func (c *Config) check() error {
	p := func(s string) string { return Prefix + s }
	if c.CAURL != nil && !c.CertsToken.IsSet() {
		return errf(p("CERTS_TOKEN"), "required when %s is set", p("CA_URL"))
	}
	if c.CAURL == nil {
		if c.ServerCert != "" && c.ServerKey == "" {
			return errf(p("SERVER_KEY"), "required with %s", p("SERVER_CERT"))
		}
		if c.ServerKey != "" && c.ServerCert == "" {
			return errf(p("SERVER_CERT"), "required with %s", p("SERVER_KEY"))
		}
	}
	if c.ClientCACerts != "" && !c.TLS() {
		return errf(p("CLIENT_CA_CERTS"), "mutual TLS needs TLS: set %s and %s, %s, or %s=true",
			p("SERVER_CERT"), p("SERVER_KEY"), p("CA_URL"), p("ATTESTED_TLS"))
	}
	if c.AttestedTLS && c.TSM == TSMNone {
		return errf(p("ATTESTED_TLS"), "attested TLS needs a TSM, but %s=none", p("TSM"))
	}
	for name, path := range map[string]string{
		"SERVER_CA_CERTS": c.ServerCACerts, "CLIENT_CA_CERTS": c.ClientCACerts,
		"SERVER_CERT": c.ServerCert, "SERVER_KEY": c.ServerKey,
	} {
		if path == "" || (c.CAURL != nil && (name == "SERVER_CERT" || name == "SERVER_KEY")) {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			return errf(p(name), "%v", err)
		}
	}
	return nil
}

// TLS reports whether the agent serves TLS at all.
func (c *Config) TLS() bool {
	return c.AttestedTLS || c.CAURL != nil || (c.ServerCert != "" && c.ServerKey != "")
}

// Addr is the listen address.
func (c *Config) Addr() string {
	host := c.Host
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(c.Port)
}

func parseHTTPURL(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil {
		return nil, fmt.Errorf("not a URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("must be an http:// or https:// URL, got %q", v)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("has no host: %q", v)
	}
	return u, nil
}
