// Package evidence holds attestation evidence as it travels between the
// in-guest agent and the verifier: the platform it came from, the raw bytes
// the TSM produced, and the wire encoding both sides agree on.
//
// The wire format is the upstream Cube agent's, so that an existing
// cube-proxy keeps working against this agent:
//
//   - AMD SEV-SNP: a serialized go-sev-guest sevsnp.Attestation protobuf
//     (the 1184-byte ATTESTATION_REPORT plus the certificate chain the
//     platform handed out, if any).
//   - Intel TDX: the raw TD quote (version 4) exactly as the TSM returned it.
//
// Both can also be rendered as protojson for humans (the upstream to_json
// request flag). The agent additionally labels its responses with the
// headers below, so a verifier need not guess the platform; Parse can still
// tell the two apart from the bytes alone, for agents that do not send them.
package evidence

import (
	"encoding/binary"
	"errors"
	"fmt"

	sevabi "github.com/google/go-sev-guest/abi"
	sevpb "github.com/google/go-sev-guest/proto/sevsnp"
	tdxabi "github.com/google/go-tdx-guest/abi"
	tdxpb "github.com/google/go-tdx-guest/proto/tdx"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Platform names a confidential-computing technology.
type Platform string

// The platforms the agent serves evidence for.
const (
	SNP Platform = "snp" // AMD SEV-SNP
	TDX Platform = "tdx" // Intel TDX
)

// ParsePlatform accepts "snp" or "tdx" (as in --mode).
func ParsePlatform(s string) (Platform, error) {
	switch Platform(s) {
	case SNP, TDX:
		return Platform(s), nil
	}
	return "", fmt.Errorf("unknown platform %q (want snp or tdx)", s)
}

// Response headers the agent sets on POST /attestation. They are additions
// to the upstream API; clients that ignore them see the upstream format.
const (
	// HeaderPlatform carries "snp" or "tdx".
	HeaderPlatform = "X-Cube-Attestation-Platform"
	// HeaderFormat names the body's encoding (one of the Format* values).
	HeaderFormat = "X-Cube-Attestation-Format"
	// HeaderFake is "true" when a development fake TSM produced the
	// evidence: it verifies only against test roots, never AMD's or Intel's.
	HeaderFake = "X-Cube-Attestation-Fake"
)

// Formats named in HeaderFormat.
const (
	FormatSNPProto  = "sevsnp.Attestation+proto"
	FormatSNPJSON   = "sevsnp.Attestation+json"
	FormatTDXQuote  = "tdx.QuoteV4"
	FormatTDXJSON   = "tdx.QuoteV4+json"
	ReportDataSize  = 64 // bytes of caller data bound into a report or quote
	UpstreamNonceSz = 32 // the upstream API's (vTPM) nonce size
)

// Evidence is one attestation report or quote, as produced by a TSM.
type Evidence struct {
	Platform Platform
	// Report is the SNP ATTESTATION_REPORT (1184 bytes) or the TDX quote.
	Report []byte
	// CertTable is the SNP certificate table (configfs auxblob, in AMD's GUID
	// table format), empty when the host provides none. Unused for TDX.
	CertTable []byte
	// Fake marks evidence signed by a test-only key chain.
	Fake bool
}

// SNPAttestation converts SNP evidence into go-sev-guest's protobuf. When the
// certificate table has no VCEK, productFMS (CPUID 1 EAX, masked) is recorded
// so a verifier can still find the right AMD product line.
func (e *Evidence) SNPAttestation(productFMS uint32) (*sevpb.Attestation, error) {
	if e.Platform != SNP {
		return nil, fmt.Errorf("evidence is %s, not snp", e.Platform)
	}
	if len(e.Report) != sevabi.ReportSize {
		return nil, fmt.Errorf("SNP report is %d bytes, want %d", len(e.Report), sevabi.ReportSize)
	}
	table := e.CertTable
	if productFMS != 0 {
		var err error
		table, err = sevabi.ExtendPlatformCertTable(e.CertTable, &sevabi.ExtraPlatformInfo{
			Size:      sevabi.ExtraPlatformInfoV0Size,
			Cpuid1Eax: productFMS,
		})
		if err != nil {
			return nil, fmt.Errorf("SNP certificate table: %w", err)
		}
	}
	return reportCertsToProto(e.Report, table)
}

// reportCertsToProto is abi.ReportCertsToProto without its side effect:
// go-sev-guest logs a warning through the process-wide google/logger when
// the table has no VCEK, and in cube-hal that logger writes to stdout
// (go-tdx-guest initialises it so), which would corrupt --json output.
func reportCertsToProto(report, table []byte) (*sevpb.Attestation, error) {
	r, err := sevabi.ReportToProto(report)
	if err != nil {
		return nil, fmt.Errorf("SNP report: %w", err)
	}
	certs := new(sevabi.CertTable)
	if err := certs.Unmarshal(table); err != nil {
		return nil, fmt.Errorf("SNP certificate table: %w", err)
	}
	chain := &sevpb.CertificateChain{Extras: map[string][]byte{}}
	for _, e := range certs.Entries {
		switch e.GUID.String() {
		case sevabi.VcekGUID:
			chain.VcekCert = e.RawCert
		case sevabi.VlekGUID:
			chain.VlekCert = e.RawCert
		case sevabi.AskGUID:
			chain.AskCert = e.RawCert
		case sevabi.ArkGUID:
			chain.ArkCert = e.RawCert
		default:
			chain.Extras[e.GUID.String()] = e.RawCert
		}
	}
	return &sevpb.Attestation{Report: r, CertificateChain: chain}, nil
}

// Marshal encodes the evidence in the upstream wire format and returns the
// body and its format name.
func (e *Evidence) Marshal(productFMS uint32) ([]byte, string, error) {
	switch e.Platform {
	case SNP:
		att, err := e.SNPAttestation(productFMS)
		if err != nil {
			return nil, "", err
		}
		b, err := proto.Marshal(att)
		if err != nil {
			return nil, "", fmt.Errorf("encode SNP attestation: %w", err)
		}
		return b, FormatSNPProto, nil
	case TDX:
		return append([]byte(nil), e.Report...), FormatTDXQuote, nil
	}
	return nil, "", fmt.Errorf("unknown platform %q", e.Platform)
}

// MarshalProtoJSON encodes the evidence as protojson (the upstream to_json form).
func (e *Evidence) MarshalProtoJSON(productFMS uint32) ([]byte, string, error) {
	switch e.Platform {
	case SNP:
		att, err := e.SNPAttestation(productFMS)
		if err != nil {
			return nil, "", err
		}
		b, err := protojson.Marshal(att)
		return b, FormatSNPJSON, err
	case TDX:
		q, err := TDXQuote(e.Report)
		if err != nil {
			return nil, "", err
		}
		b, err := protojson.Marshal(q)
		return b, FormatTDXJSON, err
	}
	return nil, "", fmt.Errorf("unknown platform %q", e.Platform)
}

// TDXQuote parses a raw TDX quote (version 4 is the only one in use).
// go-tdx-guest v0.3.1 can panic on a malformed quote (it trusts inner
// length fields); that becomes an error here, since the bytes come from
// the network.
func TDXQuote(raw []byte) (q4 *tdxpb.QuoteV4, err error) {
	defer func() {
		if r := recover(); r != nil {
			q4, err = nil, fmt.Errorf("TDX quote: malformed (%v)", r)
		}
	}()
	q, err := tdxabi.QuoteToProto(raw)
	if err != nil {
		return nil, fmt.Errorf("TDX quote: %w", err)
	}
	q4, ok := q.(*tdxpb.QuoteV4)
	if !ok {
		return nil, fmt.Errorf("TDX quote: unsupported format %T", q)
	}
	return q4, nil
}

// Parsed is evidence decoded on the verifier's side.
type Parsed struct {
	Platform Platform
	// SNP is set for SNP evidence.
	SNP *sevpb.Attestation
	// TDX and TDXRaw are set for TDX evidence.
	TDX    *tdxpb.QuoteV4
	TDXRaw []byte
}

// ReportData returns the 64 bytes of caller data bound into the evidence.
func (p *Parsed) ReportData() []byte {
	switch p.Platform {
	case SNP:
		return p.SNP.GetReport().GetReportData()
	case TDX:
		return p.TDX.GetTdQuoteBody().GetReportData()
	}
	return nil
}

// Measurement returns the launch measurement: SNP MEASUREMENT or TDX MRTD
// (48 bytes each).
func (p *Parsed) Measurement() []byte {
	switch p.Platform {
	case SNP:
		return p.SNP.GetReport().GetMeasurement()
	case TDX:
		return p.TDX.GetTdQuoteBody().GetMrTd()
	}
	return nil
}

// ErrUnrecognized is returned when bytes are neither SNP nor TDX evidence.
var ErrUnrecognized = errors.New("neither a TDX quote nor an SNP attestation")

// looksLikeTDXQuote checks the quote header: version 4, TEE type 0x81 (TDX).
func looksLikeTDXQuote(b []byte) bool {
	return len(b) > 8 && binary.LittleEndian.Uint16(b[0:2]) == 4 && binary.LittleEndian.Uint32(b[4:8]) == 0x81
}

// Parse decodes a wire-format body. platform may be empty to detect it from
// the bytes. A raw 1184-byte SNP report (as some tools return) is accepted
// too.
func Parse(platform Platform, body []byte) (*Parsed, error) {
	if platform == "" {
		if looksLikeTDXQuote(body) {
			platform = TDX
		} else {
			platform = SNP
		}
	}
	switch platform {
	case TDX:
		q, err := TDXQuote(body)
		if err != nil {
			return nil, err
		}
		return &Parsed{Platform: TDX, TDX: q, TDXRaw: append([]byte(nil), body...)}, nil
	case SNP:
		att := &sevpb.Attestation{}
		if err := proto.Unmarshal(body, att); err != nil || att.GetReport() == nil {
			// Not a protobuf: maybe a bare report followed by a cert table.
			if len(body) >= sevabi.ReportSize {
				a, rerr := reportCertsToProto(body[:sevabi.ReportSize], body[sevabi.ReportSize:])
				if rerr == nil {
					return &Parsed{Platform: SNP, SNP: a}, nil
				}
			}
			if err == nil {
				err = errors.New("no report in it")
			}
			return nil, fmt.Errorf("SNP attestation: %v (%w)", err, ErrUnrecognized)
		}
		if att.CertificateChain == nil {
			att.CertificateChain = &sevpb.CertificateChain{}
		}
		if att.CertificateChain.Extras == nil {
			att.CertificateChain.Extras = map[string][]byte{}
		}
		return &Parsed{Platform: SNP, SNP: att}, nil
	}
	return nil, fmt.Errorf("unknown platform %q", platform)
}
