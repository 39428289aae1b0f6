package policy

// Agent returns the agent with the given id.
func (p *Policy) Agent(id string) (Agent, bool) {
	for _, a := range p.Agents {
		if a.ID == id {
			return a, true
		}
	}
	return Agent{}, false
}

// ZoneName returns the name of the zone with the given id: WorldZone for 0, "" for an id no
// zone has.
func (p *Policy) ZoneName(id uint32) string {
	if id == 0 {
		return WorldZone
	}
	if i := int64(id) - 1; i < int64(len(p.Zones)) && p.Zones[i].ID == id {
		return p.Zones[i].Name
	}
	for _, z := range p.Zones {
		if z.ID == id {
			return z.Name
		}
	}
	return ""
}
