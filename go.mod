module github.com/meshwarden/meshwarden

go 1.26.0

require (
	github.com/cilium/ebpf v0.22.0
	go.yaml.in/yaml/v3 v3.0.6
	golang.org/x/sys v0.50.0
)

tool github.com/cilium/ebpf/cmd/bpf2go
