package datarobot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Reason classifies why a call to the API failed. The set is fixed and is
// part of the exporter's public contract (the reason label).
type Reason string

// The reasons, in the order they are documented.
const (
	ReasonUnauthorized Reason = "unauthorized" // 401: the token is missing, wrong or expired
	ReasonForbidden    Reason = "forbidden"    // 403: the token lacks the admin permission
	ReasonNotFound     Reason = "not_found"    // 404: no such endpoint (not a self-managed cluster, or a wrong URL)
	ReasonRateLimited  Reason = "rate_limited" // 429, or 503 with Retry-After
	ReasonServerError  Reason = "server_error" // any other 5xx
	ReasonTimeout      Reason = "timeout"      // no complete answer before the deadline
	ReasonConnection   Reason = "connection"   // DNS, refused, reset, TLS: no HTTP answer at all
	ReasonBadResponse  Reason = "bad_response" // an answer that is not the expected JSON, or any other status
)

// Reasons lists every Reason, so that counters can start at 0 for each.
var Reasons = []Reason{
	ReasonUnauthorized, ReasonForbidden, ReasonNotFound, ReasonRateLimited,
	ReasonServerError, ReasonTimeout, ReasonConnection, ReasonBadResponse,
}

// maxMessageLen bounds the upstream message kept in an Error.
const maxMessageLen = 200

// Error is every error the client returns.
type Error struct {
	Reason     Reason
	Method     string        // GET when empty
	Endpoint   string        // the API path called, such as "clusterLicense/"
	StatusCode int           // 0 when no HTTP answer arrived
	Message    string        // the upstream's own words, or what went wrong locally; never the token
	RetryAfter time.Duration // from Retry-After on 429/503, else 0
}

func (e *Error) Error() string {
	var b strings.Builder
	method := e.Method
	if method == "" {
		method = "GET"
	}
	fmt.Fprintf(&b, "%s %s: %s", method, e.Endpoint, e.Reason)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.StatusCode)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// ReasonOf returns the Reason of an error from this package, or
// ReasonConnection for anything else, such as a failure to read the token.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ReasonConnection
}

// statusReason maps a non-2xx status to a Reason.
func statusReason(code int, retryAfter time.Duration) Reason {
	switch {
	case code == http.StatusUnauthorized:
		return ReasonUnauthorized
	case code == http.StatusForbidden:
		return ReasonForbidden
	case code == http.StatusNotFound:
		return ReasonNotFound
	case code == http.StatusTooManyRequests:
		return ReasonRateLimited
	case code == http.StatusServiceUnavailable && retryAfter > 0:
		return ReasonRateLimited
	case code >= 500:
		return ReasonServerError
	default:
		return ReasonBadResponse
	}
}

// transportReason classifies an error from http.Client.Do or from reading
// the body.
func transportReason(err error) Reason {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return ReasonTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ReasonTimeout
	}
	return ReasonConnection
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		if s > 86400 {
			s = 86400
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// upstreamMessage extracts a readable message from an error body:
// {"message": ...}, {"detail": ...}, or the text itself, with white space
// folded and cut to maxMessageLen.
func upstreamMessage(body []byte) string {
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) == nil {
		for _, key := range []string{"message", "detail", "error"} {
			raw, ok := obj[key]
			if !ok {
				continue
			}
			var s string
			if json.Unmarshal(raw, &s) == nil {
				return clean(s)
			}
			return clean(string(raw))
		}
	}
	return clean(string(body))
}

// clean folds white space, drops control characters and cuts s short.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return truncate(strings.Join(strings.Fields(s), " "), maxMessageLen)
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
