package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// RevokeFunc revokes an agent (policy id or SPIFFE id) and returns the SPIFFE id revoked.
type RevokeFunc func(ctx context.Context, agent string) (string, error)

// Revoked is the answer to an identity revoke.
type Revoked struct {
	SPIFFEID string `json:"spiffe_id"`
}

// WithRevoke makes s serve POST /v1/identity/revoke?agent=<id> with f.
func (s *Server) WithRevoke(f RevokeFunc) *Server {
	s.revoke = f
	return s
}

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if s.revoke == nil {
		http.Error(w, "identity revoke is not served by this daemon", http.StatusNotImplemented)
		return
	}
	agent := r.URL.Query().Get("agent")
	if agent == "" {
		http.Error(w, "agent is required", http.StatusBadRequest)
		return
	}
	id, err := s.revoke(r.Context(), agent)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	s.log.Info("agent revoked by the operator", "agent", id)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(Revoked{SPIFFEID: id})
}

// Revoke asks the daemon to revoke agent; it returns the SPIFFE id revoked.
func (c *Client) Revoke(ctx context.Context, agent string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		"http://meshwarden/v1/identity/revoke?agent="+url.QueryEscape(agent), nil)
	if err != nil {
		return "", err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("connect to the daemon at %s: %w", c.socket, unwrapURL(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if resp.StatusCode == http.StatusForbidden {
			return "", fmt.Errorf("%s: %w", c.socket, ErrNotRoot)
		}
		return "", fmt.Errorf("revoke %s: %s: %s", agent, resp.Status, strings.TrimSpace(string(msg)))
	}
	var out Revoked
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", fmt.Errorf("revoke %s: read answer: %w", agent, err)
	}
	return out.SPIFFEID, nil
}
