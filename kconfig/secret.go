package kconfig

import "strings"

// SecretMask stands for the value of a secret symbol wherever this package
// shows one. It has a fixed length, so it says nothing about the secret.
const SecretMask = "********"

// MarkSecret marks symbols whose values are secrets (a token, a
// password). Wherever the package shows values, it shows SecretMask for
// theirs (an empty value stays empty): explanations (Explain, and the
// values printed next to symbols in dependency terms), Change.String,
// SetError, DiffEntry.String and the help text. Value, UserValue, the
// Change and DiffEntry fields and the files written keep the real value.
// Unknown names are ignored.
func (k *Kconfig) MarkSecret(names ...string) {
	for _, n := range names {
		if s := k.Find(n); s != nil {
			if k.secrets == nil {
				k.secrets = map[*Symbol]bool{}
			}
			k.secrets[s] = true
		}
	}
}

// Secret reports whether s was marked with MarkSecret.
func (s *Symbol) Secret() bool { return s.k.secrets[s] }

// MaskSecret is v as shown for a secret: SecretMask, or "" for "".
func MaskSecret(v string) string {
	if v == "" {
		return ""
	}
	return SecretMask
}

// shownValue is s's value as shown to a person (see MarkSecret).
func (k *Kconfig) shownValue(s *Symbol) string {
	v := k.valueText(s)
	if k.secrets[s] {
		return MaskSecret(v)
	}
	return v
}

// maskIn hides a secret value wherever it occurs in text.
func maskIn(text, secret string) string {
	if secret == "" {
		return text
	}
	return strings.ReplaceAll(text, secret, SecretMask)
}
