package provision

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"halab/lab"
	"halab/lab/labtest"
)

// The vip step asks the VIP itself, never a proxy from the environment:
// with HTTP_PROXY set, a proxy that answers "node1" for everything must
// neither be asked nor make the step succeed. The VIP is in TEST-NET-1,
// where nothing answers.
func TestWaitVIPIgnoresHTTPProxy(t *testing.T) {
	var asked atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		w.Write([]byte("node1\n"))
	}))
	defer proxy.Close()
	for _, k := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"} {
		t.Setenv(k, proxy.URL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")

	fl := newFakeLab(t, "corosync", func(c *lab.Config) {
		c.VIP.Address = "192.0.2.20"
		c.Nodes[0].IP, c.Nodes[1].IP = "192.0.2.11", "192.0.2.12"
	})
	// The service runs on node1 alone, so only the VIP's answer is missing.
	for i, n := range fl.nodes {
		code := 3
		if i == 0 {
			code = 0
		}
		n.OnCommand(InitScriptPath(fl.lab.Cfg.Service.Name), func(labtest.Call) (lab.Result, error) {
			return labtest.Exit(code, ""), nil
		})
	}
	p, err := New(fl.lab, fl.runners(), Options{Out: &fl.out, VIPTimeout: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, detail, err := p.waitVIP(ctx)
	if n := asked.Load(); n > 0 {
		t.Errorf("the proxy in HTTP_PROXY was asked %d times for the VIP", n)
	}
	if err == nil {
		t.Fatalf("waitVIP succeeded (%s) with nothing on the VIP", detail)
	}
	if !strings.Contains(err.Error(), "192.0.2.20") {
		t.Errorf("waitVIP error does not name the VIP: %v", err)
	}
}
