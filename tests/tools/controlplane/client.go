package controlplane

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Client is a minimal REST client for the test API server, authenticated as a
// cluster admin. It speaks JSON; objects are plain maps or caller structs.
// Safe for concurrent use.
type Client struct {
	base string
	http *http.Client
}

// APIError is a non-2xx answer of the API server, carrying its message.
type APIError struct {
	Method, Path string
	Code         int
	Reason       string // metav1.Status reason, e.g. "NotFound"
	Message      string // the server's message
	retryAfter   int    // Retry-After seconds, 0 if absent
}

func (e *APIError) Error() string {
	return fmt.Sprintf("controlplane: %s %s: %d %s: %s", e.Method, e.Path, e.Code, e.Reason, e.Message)
}

// IsNotFound reports whether err is an API 404.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == http.StatusNotFound
}

// maxThrottled bounds how often Do repeats a request the API server refused
// with 429 (it did not process it: safe to repeat for every method).
const maxThrottled = 20

// Do sends body (JSON-encoded unless nil or []byte) to path and decodes a 2xx
// answer into out when out is non-nil. PATCH requests use a merge patch.
// A 429 answer (throttling, or "storage is (re)initializing" right after a
// CRD is installed) is retried after its Retry-After, at most 2s each time.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	var payload []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		payload = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return err
		}
		payload = j
	}
	for try := 1; ; try++ {
		err := c.do(ctx, method, path, payload, body != nil, out)
		var ae *APIError
		if try >= maxThrottled || !errors.As(err, &ae) || ae.Code != http.StatusTooManyRequests {
			return err
		}
		wait := time.Duration(ae.retryAfter) * time.Second
		if wait <= 0 || wait > 2*time.Second {
			wait = 2 * time.Second
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

func (c *Client) do(ctx context.Context, method, path string, payload []byte, hasBody bool, out any) error {
	var r io.Reader
	if hasBody {
		r = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if r != nil {
		ct := "application/json"
		if method == http.MethodPatch {
			ct = "application/merge-patch+json"
		}
		req.Header.Set("Content-Type", ct)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var st struct {
			Reason  string `json:"reason"`
			Message string `json:"message"`
		}
		if json.Unmarshal(data, &st) != nil || st.Message == "" {
			st.Message = strings.TrimSpace(string(data))
		}
		retryAfter, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return &APIError{Method: method, Path: path, Code: resp.StatusCode, Reason: st.Reason, Message: st.Message, retryAfter: retryAfter}
	}
	if out == nil {
		return nil
	}
	if b, ok := out.(*[]byte); ok {
		*b = data
		return nil
	}
	return json.Unmarshal(data, out)
}

// Get decodes the object at path into out.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	return c.Do(ctx, http.MethodGet, path, nil, out)
}

// Create posts obj to the collection at path.
func (c *Client) Create(ctx context.Context, path string, obj any) error {
	return c.Do(ctx, http.MethodPost, path, obj, nil)
}

// Delete deletes the object at path; a missing object is not an error.
func (c *Client) Delete(ctx context.Context, path string) error {
	err := c.Do(ctx, http.MethodDelete, path, nil, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// Condition is one entry of an object's status.conditions.
type Condition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// HasCondition reports whether conds has typ with status "True".
func HasCondition(conds []Condition, typ string) bool {
	for _, c := range conds {
		if c.Type == typ && c.Status == "True" {
			return true
		}
	}
	return false
}
