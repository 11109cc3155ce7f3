// Package cubecfg holds the Cube options of the Buildroot external tree
// (buildroot/package/{cube-agent,ollama,vllm}/Config.in) as a Go table, and
// the validation that the configurator TUI, `cube-hal build` and
// `cube-hal certs` share.
//
// The Kconfig files stay the source of truth for Buildroot; this table says
// what a Go program needs on top: which group an option belongs to on the
// screen, whether its value is a secret to mask, which environment variable
// of the agent it becomes, and how to check a value as the user types it. A
// test keeps the two in step (every option here exists in the tree with the
// same type, prompt and default).
//
// Using it:
//
//	for _, o := range cubecfg.Options() { ... o.Group, o.Label, o.Secret, o.Check(v) ... }
//	problems := cubecfg.Validate(engine.Get, workspace.OverlayDir)
//
// get(symbol) must return the symbol's effective value as Kconfig holds it:
// strings unquoted and unescaped, "y" for an enabled bool or the selected
// member of a choice, "" for n or an unset symbol. A .config read with
// ReadConfig provides exactly that (Values.Get), with Kconfig defaults for
// what a minimal defconfig leaves out.
package cubecfg

import "strings"

// Group is where an option is shown in the configurator.
type Group string

// The groups, in screen order.
const (
	GroupAgent Group = "Agent"
	GroupLLM   Group = "LLM backend"
	GroupTLS   Group = "Certificates and TLS"
)

// Kind is an option's Kconfig type.
type Kind int

// The kinds of options.
const (
	Bool   Kind = iota // "y" or ""
	String             // free text (checked by Check)
	Int                // decimal, within [Min, Max]
	Choice             // one of Choices is "y"
)

func (k Kind) String() string {
	switch k {
	case Bool:
		return "bool"
	case String:
		return "string"
	case Int:
		return "int"
	case Choice:
		return "choice"
	}
	return "unknown"
}

// Symbols of the Cube options, for callers that need one by name.
const (
	SymAgent         = "BR2_PACKAGE_CUBE_AGENT"
	SymInstanceID    = "BR2_PACKAGE_CUBE_AGENT_INSTANCE_ID"
	SymHost          = "BR2_PACKAGE_CUBE_AGENT_HOST"
	SymPort          = "BR2_PACKAGE_CUBE_AGENT_PORT"
	SymLogLevel      = "BR2_PACKAGE_CUBE_AGENT_LOG_LEVEL" // derived from the choice, no prompt
	SymLogDebug      = "BR2_PACKAGE_CUBE_AGENT_LOG_LEVEL_DEBUG"
	SymLogInfo       = "BR2_PACKAGE_CUBE_AGENT_LOG_LEVEL_INFO"
	SymLogWarn       = "BR2_PACKAGE_CUBE_AGENT_LOG_LEVEL_WARN"
	SymLogError      = "BR2_PACKAGE_CUBE_AGENT_LOG_LEVEL_ERROR"
	SymOSBuild       = "BR2_PACKAGE_CUBE_AGENT_OS_BUILD"
	SymOSDistro      = "BR2_PACKAGE_CUBE_AGENT_OS_DISTRO"
	SymOSType        = "BR2_PACKAGE_CUBE_AGENT_OS_TYPE"
	SymVMPL          = "BR2_PACKAGE_CUBE_AGENT_VMPL"
	SymBackendOllama = "BR2_PACKAGE_CUBE_AGENT_BACKEND_OLLAMA"
	SymBackendVLLM   = "BR2_PACKAGE_CUBE_AGENT_BACKEND_VLLM"
	SymBackendCustom = "BR2_PACKAGE_CUBE_AGENT_BACKEND_CUSTOM"
	SymTargetURL     = "BR2_PACKAGE_CUBE_AGENT_TARGET_URL"
	SymCAURL         = "BR2_PACKAGE_CUBE_AGENT_CA_URL"
	SymAttestedTLS   = "BR2_PACKAGE_CUBE_AGENT_ATTESTED_TLS"
	SymServerCA      = "BR2_PACKAGE_CUBE_AGENT_SERVER_CA_CERTS"
	SymServerCert    = "BR2_PACKAGE_CUBE_AGENT_SERVER_CERT"
	SymServerKey     = "BR2_PACKAGE_CUBE_AGENT_SERVER_KEY"
	SymClientCA      = "BR2_PACKAGE_CUBE_AGENT_CLIENT_CA_CERTS"
	SymCertsToken    = "BR2_PACKAGE_CUBE_AGENT_CERTS_TOKEN"
	SymCVMID         = "BR2_PACKAGE_CUBE_AGENT_CVM_ID"

	SymOllama             = "BR2_PACKAGE_OLLAMA"
	SymOllamaModels       = "BR2_PACKAGE_OLLAMA_MODELS"
	SymOllamaCustomModels = "BR2_PACKAGE_OLLAMA_CUSTOM_MODELS"
	SymOllamaGPU          = "BR2_PACKAGE_OLLAMA_GPU_SUPPORT"
	SymOllamaGPUNvidia    = "BR2_PACKAGE_OLLAMA_GPU_NVIDIA"
	SymOllamaGPUAMD       = "BR2_PACKAGE_OLLAMA_GPU_AMD"

	SymVLLM                = "BR2_PACKAGE_VLLM"
	SymVLLMPipSpec         = "BR2_PACKAGE_VLLM_PIP_SPEC"
	SymVLLMModel           = "BR2_PACKAGE_VLLM_MODEL"
	SymVLLMDownloadModel   = "BR2_PACKAGE_VLLM_DOWNLOAD_MODEL"
	SymVLLMGPUMemory       = "BR2_PACKAGE_VLLM_GPU_MEMORY"
	SymVLLMMaxModelLen     = "BR2_PACKAGE_VLLM_MAX_MODEL_LEN"
	SymVLLMCustomModelPath = "BR2_PACKAGE_VLLM_CUSTOM_MODEL_PATH"
)

// Choice identifiers. A Kconfig choice has no symbol of its own, so the
// table names each by its members' common prefix and a "*": these appear in
// Option.Symbol and Problem.Symbol, never in a .config.
const (
	ChoiceLogLevel  = "BR2_PACKAGE_CUBE_AGENT_LOG_LEVEL_*"
	ChoiceBackend   = "BR2_PACKAGE_CUBE_AGENT_BACKEND_*"
	ChoiceOllamaGPU = "BR2_PACKAGE_OLLAMA_GPU_*"
)

// Member is one entry of a choice.
type Member struct {
	Symbol string // e.g. BR2_PACKAGE_CUBE_AGENT_BACKEND_VLLM
	Label  string // its prompt, e.g. "vLLM"
}

// Option is one Cube option.
type Option struct {
	// Symbol is the Kconfig symbol; for a choice, its Choice* identifier.
	Symbol string
	// Package is the symbol of the package that must be enabled for the
	// option to exist (SymAgent, SymOllama, SymVLLM); empty for the
	// package options themselves.
	Package string
	// DependsOn is a further symbol that must be "y" for the option to be
	// shown and checked (the custom backend for its URL, GPU support for
	// the GPU type); empty when none.
	DependsOn string
	Group     Group
	Label     string // the Kconfig prompt
	Kind      Kind
	// Default is the Kconfig default as get() reports it: "y" or "" for a
	// bool, the text of a string, the decimal of an int, the default
	// member's symbol for a choice.
	Default string
	// Secret options are masked on screen and never logged.
	Secret bool
	// Env is the variable of /etc/cube/agent.env the option becomes, when
	// it becomes one (see buildroot/package/cube-agent/agent-env.sh).
	Env      string
	Min, Max int      // bounds of an Int
	Members  []Member // members of a Choice, in menu order
	// Check validates one value as the user types it (nil: anything goes).
	// Checks that need other options or files are in Validate.
	Check func(value string) error
}

// Options returns the Cube options in menu order. The slice is a fresh copy:
// callers may keep or modify it.
func Options() []Option {
	out := make([]Option, len(options))
	copy(out, options)
	for i := range out {
		out[i].Members = append([]Member(nil), options[i].Members...)
	}
	return out
}

// Lookup returns the option with the given symbol (or choice identifier).
// A choice member's symbol finds its choice.
func Lookup(symbol string) (Option, bool) {
	for _, o := range options {
		if o.Symbol == symbol {
			return o, true
		}
		for _, m := range o.Members {
			if m.Symbol == symbol {
				return o, true
			}
		}
	}
	return Option{}, false
}

// Selected returns the member of choice o that get reports as "y", or "".
func (o Option) Selected(get func(string) string) string {
	for _, m := range o.Members {
		if get(m.Symbol) == "y" {
			return m.Symbol
		}
	}
	return ""
}

// IsMember reports whether symbol is one of the choice's members.
func (o Option) IsMember(symbol string) bool {
	for _, m := range o.Members {
		if m.Symbol == symbol {
			return true
		}
	}
	return false
}

// Enabled reports whether the option is in effect under get: its package is
// enabled and what it depends on is set.
func (o Option) Enabled(get func(string) string) bool {
	if o.Package != "" && get(o.Package) != "y" {
		return false
	}
	return o.DependsOn == "" || get(o.DependsOn) == "y"
}

func agent(o Option) Option {
	o.Package = SymAgent
	if o.Env == "" && strings.HasPrefix(o.Symbol, "BR2_PACKAGE_CUBE_AGENT_") {
		o.Env = "UV_CUBE_AGENT_" + strings.TrimPrefix(o.Symbol, "BR2_PACKAGE_CUBE_AGENT_")
	}
	return o
}

var options = []Option{
	{Symbol: SymAgent, Group: GroupAgent, Label: "cube-agent", Kind: Bool, Default: ""},
	agent(Option{Symbol: SymInstanceID, Group: GroupAgent, Label: "Agent Instance ID", Kind: String,
		Default: "cube-agent-01", Check: ValidateText}),
	agent(Option{Symbol: SymCVMID, Group: GroupAgent, Label: "CVM ID", Kind: String,
		Default: "", Check: ValidateText}),
	agent(Option{Symbol: SymHost, Group: GroupAgent, Label: "Agent Host", Kind: String,
		Default: "0.0.0.0", Check: ValidateHost}),
	agent(Option{Symbol: SymPort, Group: GroupAgent, Label: "Agent Port", Kind: Int,
		Default: "7001", Min: 1, Max: 65535, Check: ValidatePort}),
	agent(Option{Symbol: ChoiceLogLevel, Group: GroupAgent, Label: "Log Level", Kind: Choice,
		Default: SymLogInfo, Env: "UV_CUBE_AGENT_LOG_LEVEL", Members: []Member{
			{SymLogDebug, "debug"}, {SymLogInfo, "info"}, {SymLogWarn, "warn"}, {SymLogError, "error"},
		}}),
	agent(Option{Symbol: SymOSBuild, Group: GroupAgent, Label: "Agent OS Build", Kind: String,
		Default: "UVC", Check: ValidateText}),
	agent(Option{Symbol: SymOSDistro, Group: GroupAgent, Label: "Agent OS Distro", Kind: String,
		Default: "UVC", Check: ValidateText}),
	agent(Option{Symbol: SymOSType, Group: GroupAgent, Label: "Agent OS Type", Kind: String,
		Default: "UVC", Check: ValidateText}),
	agent(Option{Symbol: SymVMPL, Group: GroupAgent, Label: "Agent VMPL", Kind: Int,
		Default: "2", Min: 0, Max: 3, Check: ValidateVMPL}),

	agent(Option{Symbol: ChoiceBackend, Group: GroupLLM, Label: "LLM Backend", Kind: Choice,
		Default: SymBackendOllama, Env: "UV_CUBE_AGENT_TARGET_URL", Members: []Member{
			{SymBackendOllama, "Ollama"}, {SymBackendVLLM, "vLLM"}, {SymBackendCustom, "Custom URL"},
		}}),
	agent(Option{Symbol: SymTargetURL, DependsOn: SymBackendCustom, Group: GroupLLM,
		Label: "Custom backend URL", Kind: String, Default: "", Check: ValidateBackendURL}),
	{Symbol: SymOllama, Group: GroupLLM, Label: "ollama", Kind: Bool, Default: ""},
	{Symbol: SymOllamaModels, Package: SymOllama, Group: GroupLLM, Label: "Install default models",
		Kind: Bool, Default: "y"},
	{Symbol: SymOllamaCustomModels, Package: SymOllama, Group: GroupLLM, Label: "Custom models to install",
		Kind: String, Default: "", Check: ValidateOllamaModels},
	{Symbol: SymOllamaGPU, Package: SymOllama, Group: GroupLLM, Label: "Enable GPU support", Kind: Bool, Default: ""},
	{Symbol: ChoiceOllamaGPU, Package: SymOllama, DependsOn: SymOllamaGPU, Group: GroupLLM, Label: "GPU Type",
		Kind: Choice, Default: SymOllamaGPUNvidia, Members: []Member{
			{SymOllamaGPUNvidia, "NVIDIA GPU"}, {SymOllamaGPUAMD, "AMD GPU (ROCm)"},
		}},
	{Symbol: SymVLLM, Group: GroupLLM, Label: "vllm", Kind: Bool, Default: ""},
	{Symbol: SymVLLMPipSpec, Package: SymVLLM, Group: GroupLLM, Label: "vLLM package to install",
		Kind: String, Default: "vllm", Check: ValidateNonEmptyText},
	{Symbol: SymVLLMModel, Package: SymVLLM, Group: GroupLLM, Label: "Model to use",
		Kind: String, Default: "Qwen/Qwen2.5-0.5B-Instruct", Check: ValidateNonEmptyText},
	{Symbol: SymVLLMDownloadModel, Package: SymVLLM, Group: GroupLLM, Label: "Download the model on first boot",
		Kind: Bool, Default: "y"},
	{Symbol: SymVLLMGPUMemory, Package: SymVLLM, Group: GroupLLM, Label: "GPU Memory Utilization",
		Kind: String, Default: "0.85", Check: ValidateGPUMemory},
	{Symbol: SymVLLMMaxModelLen, Package: SymVLLM, Group: GroupLLM, Label: "Maximum Model Length",
		Kind: String, Default: "1024", Check: ValidateMaxModelLen},
	{Symbol: SymVLLMCustomModelPath, Package: SymVLLM, Group: GroupLLM, Label: "Custom model path",
		Kind: String, Default: "", Check: ValidateText},

	agent(Option{Symbol: SymCAURL, Group: GroupTLS, Label: "Agent CA URL", Kind: String,
		Default: "", Check: ValidateCAURL}),
	agent(Option{Symbol: SymAttestedTLS, Group: GroupTLS, Label: "Enable Attested TLS", Kind: Bool,
		Default: "y"}),
	agent(Option{Symbol: SymServerCA, Group: GroupTLS, Label: "Server CA Certificates File", Kind: String,
		Default: "/etc/cube/certs/ca.pem", Check: ValidateGuestPath}),
	agent(Option{Symbol: SymServerCert, Group: GroupTLS, Label: "Server Certificate File", Kind: String,
		Default: "/etc/cube/certs/server.crt", Check: ValidateGuestPath}),
	agent(Option{Symbol: SymServerKey, Group: GroupTLS, Label: "Server Key File", Kind: String,
		Default: "/etc/cube/certs/server.key", Check: ValidateGuestPath}),
	agent(Option{Symbol: SymClientCA, Group: GroupTLS, Label: "Client CA Certificates File", Kind: String,
		Default: "/etc/cube/certs/client_ca.pem", Check: ValidateGuestPath}),
	agent(Option{Symbol: SymCertsToken, Group: GroupTLS, Label: "Certs Token", Kind: String,
		Default: "", Secret: true, Check: ValidateText}),
}
