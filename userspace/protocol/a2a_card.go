package protocol

import "strings"

// AgentCard is what the parser reads of an A2A agent card (served at
// /.well-known/agent-card.json, /.well-known/agent.json before v0.3, or by
// GetExtendedAgentCard). The card's whole JSON stays in the body's document.
type AgentCard struct {
	Name        string
	Description string
	// URL is the v0.3 preferred endpoint; Interfaces are 1.0's supportedInterfaces (and v0.3's
	// additionalInterfaces) URLs.
	URL             string
	Interfaces      []string
	Version         string
	ProtocolVersion string
	Skills          []AgentSkill
}

// AgentSkill is one skill an agent card declares.
type AgentSkill struct {
	ID, Name, Description string
	Tags                  []string
}

// agentCard reads an agent card into b.Card and one KindAgentCard message whose text is the card's
// descriptions (where a poisoned card would hide instructions).
func (bb *builder) agentCard(v Value) {
	c := &AgentCard{Name: v.Get("name").Str(), Description: v.Get("description").Str(), URL: v.Get("url").Str(),
		Version: v.Get("version").Str(), ProtocolVersion: v.Get("protocolVersion").Str()}
	for _, key := range []string{"supportedInterfaces", "additionalInterfaces"} {
		for _, i := range v.Get(key).Elements() {
			c.Interfaces = append(c.Interfaces, i.Get("url").Str())
			if c.ProtocolVersion == "" {
				c.ProtocolVersion = i.Get("protocolVersion").Str()
			}
		}
	}
	texts := []string{c.Description}
	for _, s := range v.Get("skills").Elements() {
		sk := AgentSkill{ID: s.Get("id").Str(), Name: s.Get("name").Str(), Description: s.Get("description").Str()}
		for _, t := range s.Get("tags").Elements() {
			sk.Tags = append(sk.Tags, t.Str())
		}
		c.Skills = append(c.Skills, sk)
		texts = append(texts, sk.Description)
		for _, e := range s.Get("examples").Elements() {
			texts = append(texts, e.Str())
		}
	}
	bb.b.Card = c
	bb.add(Message{Kind: KindAgentCard, Value: v, Name: c.Name, Text: strings.TrimSpace(strings.Join(texts, "\n"))})
}
