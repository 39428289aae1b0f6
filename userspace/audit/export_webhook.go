package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// WebhookOptions configure NewWebhookExporter.
type WebhookOptions struct {
	URL       string // http or https
	TokenFile string // file holding a bearer token, sent as "Authorization: Bearer <token>"; empty sends none
	Timeout   time.Duration
	Client    *http.Client // default: a client with Timeout per request
	Export    ExportOptions
}

// DefaultWebhookTimeout bounds one POST.
const DefaultWebhookTimeout = 10 * time.Second

// webhookSink POSTs each batch as a JSON array whose elements are the log's lines, byte for
// byte: a receiver that keeps each element's raw bytes can check the chain.
type webhookSink struct {
	url    string
	host   string // for errors and logs: the URL may carry secrets in its query
	token  string
	client *http.Client
}

// NewWebhookExporter exports the log's lines to an HTTP endpoint: each batch is one POST of
// Content-Type application/json whose body is a JSON array of records, each element exactly
// the record's line in the log. 2xx delivers the batch; a network error, 429 or 5xx is retried
// with backoff (Retry-After honoured); any other status gives the batch up. The token file is
// read once, here; the token and the payloads are never logged.
func NewWebhookExporter(opts WebhookOptions) (*Exporter, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("audit webhook: %q is no http or https URL", opts.URL)
	}
	s := &webhookSink{url: opts.URL, host: u.Host, client: opts.Client}
	if opts.TokenFile != "" {
		b, err := os.ReadFile(opts.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("audit webhook token: %w", err)
		}
		if s.token = strings.TrimSpace(string(b)); s.token == "" {
			return nil, fmt.Errorf("audit webhook token file %s is empty", opts.TokenFile)
		}
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultWebhookTimeout
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: opts.Timeout}
	}
	if opts.Export.Name == "" {
		opts.Export.Name = "webhook"
	}
	return NewExporter(s, opts.Export), nil
}

func (s *webhookSink) Send(ctx context.Context, lines [][]byte) error {
	n := 2
	for _, l := range lines {
		n += len(l) + 1
	}
	body := make([]byte, 0, n)
	body = append(body, '[')
	for i, l := range lines {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, l...)
	}
	body = append(body, ']')
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("audit webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "meshwarden-audit-export")
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text would repeat the URL, query and all
		}
		return Retryable(fmt.Errorf("post audit batch to %s: %w", s.host, err), 0)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return nil
	case c == http.StatusTooManyRequests || c >= 500:
		return Retryable(fmt.Errorf("post audit batch to %s: %s", s.host, resp.Status), retryAfter(resp.Header.Get("Retry-After"), time.Now()))
	default:
		return fmt.Errorf("post audit batch to %s: %s (not retried)", s.host, resp.Status)
	}
}

// retryAfter is how long a Retry-After header value (seconds or an HTTP date) asks to wait; 0
// when it asks nothing.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		return max(time.Duration(secs)*time.Second, 0)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
