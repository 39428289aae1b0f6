package policy

// Action is what the enforcer does when a sensitive field or a detector finds something.
type Action string

// Actions of sensitive_fields and detectors.
const (
	// ActionBlock refuses the exchange (reason classification_block).
	ActionBlock Action = "block"
	// ActionRedact replaces what was found with a typed placeholder such as [redacted:ssn]
	// and lets the exchange go on.
	ActionRedact Action = "redact"
	// ActionAudit leaves the exchange unchanged and records the finding in the audit record.
	ActionAudit Action = "audit"
)

// actionNames are the spellings of Action.
func actionNames() []string {
	return []string{string(ActionBlock), string(ActionRedact), string(ActionAudit)}
}

// SensitiveField is one entry of a domain's sensitive_fields: a JSON key whose value, whatever
// its type, is sensitive wherever the key appears.
//
//	sensitive_fields:
//	  - {key: password, action: block}
type SensitiveField struct {
	Key    string // compared case-insensitively with every object key at any depth
	Action Action
}

// Detector types: the values of detectors[].type.
const (
	DetectorSSN         = "ssn"          // US social security numbers written AAA-GG-SSSS or AAA GG SSSS
	DetectorPaymentCard = "payment_card" // 13 to 19 digit card numbers that pass the Luhn check
	DetectorEmail       = "email"        // e-mail addresses
	DetectorPhone       = "phone"        // E.164 (+...) and separated US and European numbers
	DetectorIBAN        = "iban"         // IBANs with a valid mod-97 check
	DetectorCanary      = "canary"       // canary tokens: the detector's literals and prefixes
)

// DetectorTypes returns every detector type a policy may name.
func DetectorTypes() []string {
	return []string{DetectorSSN, DetectorPaymentCard, DetectorEmail, DetectorPhone, DetectorIBAN, DetectorCanary}
}

// Detector is one entry of a domain's detectors:
//
//	detectors:
//	  - {type: canary, action: block, literals: [mw-7f3a9c2e], prefixes: [CANARY_]}
//
// Literals and Prefixes are for the canary type only, which needs at least one of them, each
// at least MinCanaryLength characters: a literal is found wherever it appears, case-sensitively;
// a prefix is found with the letters, digits, _ and - that follow it.
type Detector struct {
	Type     string
	Action   Action
	Literals []string
	Prefixes []string
}

// MinCanaryLength is the shortest canary literal or prefix a policy may give: shorter ones
// would be found in ordinary text.
const MinCanaryLength = 4
