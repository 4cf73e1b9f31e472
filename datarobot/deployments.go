package datarobot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// DeploymentsPageSize and DeploymentsMaxPages bound the page-by-page count
// of deployments, when DataRobot does not send totalCount.
const (
	DeploymentsPageSize = 100
	DeploymentsMaxPages = 50
)

// deploymentsPage is one page of GET deployments/.
type deploymentsPage struct {
	TotalCount *int64            `json:"totalCount"`
	Next       *string           `json:"next"`
	Data       []json.RawMessage `json:"data"`
}

func decodeDeploymentsPage(body []byte) (*deploymentsPage, error) {
	var p deploymentsPage
	if err := decodeObject(body, &p); err != nil {
		return nil, err
	}
	if p.Data == nil && p.TotalCount == nil {
		return nil, fmt.Errorf("neither data nor totalCount in the answer")
	}
	return &p, nil
}

// Deployments returns how many deployments the token can see: totalCount
// of GET deployments/?limit=1, or, when DataRobot does not send it, the
// deployments counted page by page (at most DeploymentsMaxPages pages of
// DeploymentsPageSize), following next only to DataRobot's own address.
func (c *Client) Deployments(ctx context.Context) (int64, error) {
	const ep = "deployments/"
	p, err := call(c, ctx, ep+"?limit=1", decodeDeploymentsPage)
	if err != nil {
		return 0, err
	}
	if p.TotalCount != nil {
		if *p.TotalCount < 0 {
			return 0, &Error{Reason: ReasonBadResponse, Endpoint: ep, StatusCode: http.StatusOK, Message: "negative totalCount"}
		}
		return *p.TotalCount, nil
	}
	next := fmt.Sprintf("%s?limit=%d&offset=0", ep, DeploymentsPageSize)
	var n int64
	for range DeploymentsMaxPages {
		p, err := call(c, ctx, next, decodeDeploymentsPage)
		if err != nil {
			return 0, err
		}
		n += int64(len(p.Data))
		if p.Next == nil || *p.Next == "" {
			return n, nil
		}
		if next, err = c.relative(*p.Next); err != nil {
			return 0, &Error{Reason: ReasonBadResponse, Endpoint: ep, StatusCode: http.StatusOK, Message: err.Error()}
		}
	}
	return 0, &Error{Reason: ReasonBadResponse, Endpoint: ep, StatusCode: http.StatusOK,
		Message: fmt.Sprintf("no totalCount, and more than %d pages of %d deployments", DeploymentsMaxPages, DeploymentsPageSize)}
}

// relative turns a next link into a path below the API base, refusing any
// other address: the token goes to DataRobot only.
func (c *Client) relative(link string) (string, error) {
	u, err := c.base.Parse(link)
	if err != nil {
		return "", fmt.Errorf("invalid next link: %v", err)
	}
	prefix := c.base.Path + "/"
	if u.Scheme != c.base.Scheme || u.Host != c.base.Host || !strings.HasPrefix(u.Path, prefix) {
		return "", fmt.Errorf("next link %q leaves %s", (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String(), c.redactedEP)
	}
	rel := strings.TrimPrefix(u.Path, prefix)
	if u.RawQuery != "" {
		rel += "?" + u.RawQuery
	}
	return rel, nil
}
