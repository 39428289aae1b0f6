package agentleak

// The security_mesh file as the replay writes it (see policy/testdata/domains.yaml for every
// key). Only what the replay sets is here.

type yamlFile struct {
	Mesh yamlMesh `yaml:"security_mesh"`
}

type yamlMesh struct {
	Global        yamlGlobal   `yaml:"global"`
	Roles         []string     `yaml:"roles,omitempty"`
	Domains       []yamlDomain `yaml:"domains"`
	Zones         []yamlZone   `yaml:"zones"`
	Agents        []yamlAgent  `yaml:"agents"`
	Segmentation  []yamlRule   `yaml:"segmentation"`
	DefaultAction string       `yaml:"default_action"`
	Enforcer      yamlEnforcer `yaml:"enforcer"`
}

type yamlGlobal struct {
	AuditScope string `yaml:"audit_scope"`
}

type yamlDomain struct {
	Name            string          `yaml:"name"`
	Tier            string          `yaml:"tier"`
	AllowedRoles    []string        `yaml:"allowed_roles"`
	AuditLevel      string          `yaml:"audit_level"`
	Match           yamlMatch       `yaml:"match"`
	SensitiveFields []yamlSensitive `yaml:"sensitive_fields,omitempty"`
	Detectors       []yamlDetector  `yaml:"detectors,omitempty"`
}

type yamlMatch struct {
	Destinations []string `yaml:"destinations"`
}

type yamlSensitive struct {
	Key    string `yaml:"key"`
	Action string `yaml:"action"`
}

type yamlDetector struct {
	Type     string   `yaml:"type"`
	Action   string   `yaml:"action"`
	Literals []string `yaml:"literals,omitempty"`
	Prefixes []string `yaml:"prefixes,omitempty"`
}

type yamlZone struct {
	Name  string   `yaml:"name"`
	Kind  string   `yaml:"kind,omitempty"`
	CIDRs []string `yaml:"cidrs"`
}

type yamlAgent struct {
	ID     string `yaml:"id"`
	Role   string `yaml:"role"`
	Zone   string `yaml:"zone"`
	Cgroup string `yaml:"cgroup"`
}

type yamlRule struct {
	From   string   `yaml:"from"`
	To     string   `yaml:"to"`
	Ports  []uint16 `yaml:"ports,flow"`
	Action string   `yaml:"action"`
}

type yamlEnforcer struct {
	Port   uint16 `yaml:"port"`
	Cgroup string `yaml:"cgroup"`
}
