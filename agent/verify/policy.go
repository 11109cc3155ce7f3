package verify

import (
	"encoding/json"
	"fmt"
	"os"

	sevabi "github.com/google/go-sev-guest/abi"
	sevcheck "github.com/google/go-sev-guest/proto/check"
	sevvalidate "github.com/google/go-sev-guest/validate"
	tdxcheck "github.com/google/go-tdx-guest/proto/checkconfig"
	tdxvalidate "github.com/google/go-tdx-guest/validate"
	"google.golang.org/protobuf/encoding/protojson"
)

// Policy is what evidence must satisfy beyond a valid signature.
type Policy struct {
	// Measurement is the expected launch measurement (SNP MEASUREMENT or TDX
	// MRTD, 48 bytes); nil leaves it unchecked (and says so).
	Measurement []byte
	// MeasurementSource says where Measurement came from, for the summary
	// ("--measurement", "policy file x.json", "computed from images in DIR").
	MeasurementSource string
	// VMPL is the SEV-SNP privilege level the report must carry; nil leaves
	// it unchecked.
	VMPL *int
	// HostData is the SEV-SNP HOST_DATA the report must carry (32 bytes).
	HostData []byte
	// AllowDebug accepts a guest whose policy (SNP) or TD attributes (TDX)
	// allow debugging. Off: a debuggable guest fails.
	AllowDebug bool
	// SNP holds further go-sev-guest validate options (from a policy file);
	// nil uses built-in defaults (SMT allowed, no provisional firmware).
	SNP *sevvalidate.Options
	// TDX holds further go-tdx-guest validate options (from a policy file).
	TDX *tdxvalidate.Options
	// File is the policy file the options came from ("" if none).
	File string
}

// LoadPolicy reads a policy file: protojson of go-sev-guest's check.Config
// (SNP) or go-tdx-guest's checkconfig.Config (TDX), the formats Cocos and
// Cube use. Unknown fields (such as Cocos' pcr_values) are ignored; the
// root_of_trust section is ignored too, since trust anchors are chosen by
// Roots. A measurement, VMPL and host data in the file become the
// corresponding Policy fields.
func LoadPolicy(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	var probe struct {
		Policy map[string]json.RawMessage `json:"policy"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("policy %s: not JSON: %v", path, err)
	}
	if probe.Policy == nil {
		return nil, fmt.Errorf("policy %s: no \"policy\" object (want go-sev-guest check.Config or go-tdx-guest checkconfig.Config JSON)", path)
	}
	um := protojson.UnmarshalOptions{DiscardUnknown: true}
	_, hdr := probe.Policy["header_policy"]
	_, body := probe.Policy["td_quote_body_policy"]
	_, hdr2 := probe.Policy["headerPolicy"]
	_, body2 := probe.Policy["tdQuoteBodyPolicy"]
	pol := &Policy{File: path}
	if hdr || body || hdr2 || body2 {
		var c tdxcheck.Config
		if err := um.Unmarshal(data, &c); err != nil {
			return nil, fmt.Errorf("policy %s (TDX): %v", path, err)
		}
		o, err := tdxvalidate.PolicyToOptions(c.GetPolicy())
		if err != nil {
			return nil, fmt.Errorf("policy %s (TDX): %v", path, err)
		}
		if len(o.TdQuoteBodyOptions.MrTd) > 0 {
			pol.Measurement, pol.MeasurementSource = o.TdQuoteBodyOptions.MrTd, "policy "+path
		}
		pol.TDX = o
		return pol, nil
	}
	var c sevcheck.Config
	if err := um.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("policy %s (SNP): %v", path, err)
	}
	o, err := sevvalidate.PolicyToOptions(c.GetPolicy())
	if err != nil {
		return nil, fmt.Errorf("policy %s (SNP): %v", path, err)
	}
	if len(o.Measurement) > 0 {
		pol.Measurement, pol.MeasurementSource = o.Measurement, "policy "+path
	}
	if o.VMPL != nil {
		v := *o.VMPL
		pol.VMPL = &v
	}
	pol.HostData = o.HostData
	if gp, err := sevabi.ParseSnpPolicy(c.GetPolicy().GetPolicy()); err == nil && gp.Debug {
		pol.AllowDebug = true
	}
	pol.SNP = o
	return pol, nil
}

// Merge overlays p's explicitly set fields on base (flags over a file).
func (p Policy) Merge(over Policy) Policy {
	if over.Measurement != nil {
		p.Measurement, p.MeasurementSource = over.Measurement, over.MeasurementSource
	}
	if over.VMPL != nil {
		p.VMPL = over.VMPL
	}
	if over.HostData != nil {
		p.HostData = over.HostData
	}
	if over.AllowDebug {
		p.AllowDebug = true
	}
	return p
}
