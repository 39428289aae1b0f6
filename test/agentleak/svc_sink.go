package agentleak

import (
	"encoding/json"
	"io"
	"net/http"
)

// maxBody bounds what a service reads of one request.
const maxBody = 8 << 20

// sink is a service that keeps what it is sent and answers with a status and no body: the
// user-facing sink, the log collector, the artifact store.
type sink struct {
	inbox   *Inbox
	service string
	status  int
}

func (s sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	s.inbox.add(Delivery{Service: s.service, Method: r.Method, Path: r.URL.Path, Body: asRaw(body)})
	w.WriteHeader(s.status)
}

// memoryService stores each write in Redis under its path and answers 204.
type memoryService struct {
	inbox *Inbox
	store *memoryStore
}

func (m memoryService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	if err := m.store.set(r.Context(), r.URL.Path, body); err != nil {
		http.Error(w, "store: "+err.Error(), http.StatusBadGateway)
		return
	}
	m.inbox.add(Delivery{Service: "memory", Method: r.Method, Path: r.URL.Path, Body: asRaw(body)})
	w.WriteHeader(http.StatusNoContent)
}

// asRaw returns b when it is JSON, else b as a JSON string.
func asRaw(b []byte) json.RawMessage {
	if json.Valid(b) {
		return b
	}
	s, _ := json.Marshal(string(b))
	return s
}
