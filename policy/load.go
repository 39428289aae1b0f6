package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"
)

// Load reads and parses the policy file at path. A file that cannot be read gives a wrapped
// *fs.PathError; a file with problems gives Errors.
func Load(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load policy: %w", err)
	}
	return Parse(path, data)
}

// Parse reads and validates a security_mesh policy. name is the file name used in messages and
// Policy.Source. When anything is wrong, the error is Errors, listing every problem in file order.
func Parse(name string, data []byte) (*Policy, error) {
	p := &problems{file: name}
	var d *draft
	if root := readDocument(p, data); root != nil {
		if mesh := meshNode(p, root); mesh != nil {
			d = parseMesh(p, mesh)
			validate(p, d)
		}
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	pol := d.policy
	pol.Source = name
	return &pol, nil
}

// readDocument returns the root node of the single YAML document in data, or nil after
// reporting why there is none.
func readDocument(p *problems, data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.at(1, 0, "empty policy file; expected a security_mesh mapping")
		} else {
			p.syntax(err)
		}
		return nil
	}
	checkNoMoreDocuments(p, dec)
	root := &doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			p.at(max(doc.Line, 1), doc.Column, "empty policy file; expected a security_mesh mapping")
			return nil
		}
		root = doc.Content[0]
	}
	if isNull(root) {
		p.at(max(root.Line, 1), root.Column, "empty policy file; expected a security_mesh mapping")
		return nil
	}
	return root
}

// checkNoMoreDocuments reports a second document with content; empty ones ("---" at the end
// of a file) are harmless.
func checkNoMoreDocuments(p *problems, dec *yaml.Decoder) {
	for {
		var extra yaml.Node
		err := dec.Decode(&extra)
		switch {
		case errors.Is(err, io.EOF):
			return
		case err != nil:
			p.syntax(err)
			return
		case len(extra.Content) > 0 && !isNull(extra.Content[0]):
			p.node(&extra, "a policy file holds one YAML document; remove this second one")
			return
		}
	}
}

// meshNode returns the value of the one top-level key, security_mesh.
func meshNode(p *problems, root *yaml.Node) *yaml.Node {
	top, ok := p.object(root, "", "security_mesh")
	if !ok {
		return nil
	}
	if v := top.vals["security_mesh"]; v != nil {
		return v
	}
	if k := top.keys["security_mesh"]; k != nil {
		p.node(k, "security_mesh is empty; expected a mapping of global, domains and the other sections")
		return nil
	}
	p.node(root, "missing security_mesh: a policy file is one mapping with the key security_mesh")
	return nil
}
