// Package browser opens a page in headless Chromium and says what a
// person would see: how many scenario sections and timelines it has,
// whether the browser logged an error (console, exception, failed load,
// content-security violation), whether the page fetched anything, and a
// PNG screenshot of the whole page. It drives Chromium over the DevTools
// protocol on a pipe (--remote-debugging-pipe): no port is opened, no
// library needed.
package browser

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Find returns the Chromium to use: $HALAB_CHROMIUM, else the first of
// chromium, chromium-browser, google-chrome on PATH.
func Find() (string, error) {
	if v := os.Getenv("HALAB_CHROMIUM"); v != "" {
		p, err := exec.LookPath(v)
		if err != nil {
			return "", fmt.Errorf("HALAB_CHROMIUM=%s: %w", v, err)
		}
		return p, nil
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium found (chromium, chromium-browser, google-chrome or $HALAB_CHROMIUM): install it with apt-get install chromium (.ci/deps does)")
}

// Flags are Chromium's flags: headless, no sandbox (root in containers),
// no GPU, and none of the background traffic (updates, sync, QUIC).
var Flags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
	"--remote-debugging-pipe",
}

// Width is the window width the page is opened and captured at.
const Width = 1280

// Result is what the browser saw.
type Result struct {
	Title     string
	Sections  int // section.scenario
	Timelines int // svg.timeline
	// Errors are console errors, uncaught exceptions, log entries of
	// level error (failed loads, content-security violations).
	Errors []string
	// Fetched are the URLs the page requested besides itself.
	Fetched []string
	Height  int // of the whole page, px
	PNG     string
}

// Shot says where to save a screenshot (no screenshot when Path is
// empty) and how much of the page: its top Height pixels (0: all).
type Shot struct {
	Path   string
	Height int
}

// Check opens page (a local file) in the Chromium at bin, waits for it to
// load, and takes the screenshot shot asks for.
func Check(ctx context.Context, bin, page string, shot Shot) (*Result, error) {
	abs, err := filepath.Abs(page)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, err
	}
	pageURL := (&url.URL{Scheme: "file", Path: abs}).String()
	profile, err := os.MkdirTemp("", "halab-chromium-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(profile)

	// fd 3: Chromium reads our commands; fd 4: it writes its answers.
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		cmdR.Close()
		cmdW.Close()
		return nil, err
	}
	args := append(append([]string{}, Flags...), "--user-data-dir="+profile, fmt.Sprintf("--window-size=%d,1000", Width), "about:blank")
	cmd := exec.Command(bin, args...)
	cmd.ExtraFiles = []*os.File{cmdR, outW}
	var stderr strings.Builder
	cmd.Stderr = &limitWriter{w: &stderr, n: 64 << 10}
	if err := cmd.Start(); err != nil {
		cmdR.Close()
		cmdW.Close()
		outR.Close()
		outW.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	cmdR.Close()
	outW.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	c := newConn(cmdW, outR)
	defer func() {
		c.close()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		outR.Close()
	}()

	res, err := c.check(ctx, pageURL, shot)
	if err != nil {
		select {
		case werr := <-exited:
			exited <- werr
			return nil, fmt.Errorf("%s exited (%v): %w; its stderr: %s", bin, werr, err, lastLines(stderr.String(), 5))
		default:
		}
		return nil, fmt.Errorf("%s: %w", bin, err)
	}
	c.call(ctx, "", "Browser.close", nil, nil)
	return res, nil
}

func (c *conn) check(ctx context.Context, pageURL string, shot Shot) (*Result, error) {
	var target struct{ TargetID string }
	if err := c.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		return nil, err
	}
	var att struct{ SessionID string }
	if err := c.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att); err != nil {
		return nil, err
	}
	s := att.SessionID
	res := &Result{}
	loaded := make(chan struct{}, 1)
	c.on(s, func(method string, params json.RawMessage) {
		c.mu.Lock()
		defer c.mu.Unlock()
		switch method {
		case "Page.loadEventFired":
			select {
			case loaded <- struct{}{}:
			default:
			}
		case "Runtime.consoleAPICalled":
			var p struct {
				Type string
				Args []struct {
					Value       any
					Description string
				}
			}
			json.Unmarshal(params, &p)
			if p.Type == "error" || p.Type == "assert" {
				var parts []string
				for _, a := range p.Args {
					if a.Value != nil {
						parts = append(parts, fmt.Sprint(a.Value))
					} else {
						parts = append(parts, a.Description)
					}
				}
				res.Errors = append(res.Errors, "console."+p.Type+": "+strings.Join(parts, " "))
			}
		case "Runtime.exceptionThrown":
			var p struct {
				ExceptionDetails struct {
					Text      string
					Exception struct{ Description string }
				}
			}
			json.Unmarshal(params, &p)
			res.Errors = append(res.Errors, "exception: "+p.ExceptionDetails.Text+" "+p.ExceptionDetails.Exception.Description)
		case "Log.entryAdded":
			var p struct {
				Entry struct{ Level, Source, Text, URL string }
			}
			json.Unmarshal(params, &p)
			if p.Entry.Level == "error" {
				res.Errors = append(res.Errors, fmt.Sprintf("%s: %s %s", p.Entry.Source, p.Entry.Text, p.Entry.URL))
			}
		case "Network.requestWillBeSent":
			var p struct{ Request struct{ URL string } }
			json.Unmarshal(params, &p)
			if u := p.Request.URL; u != pageURL && !strings.HasPrefix(u, "data:") && u != "about:blank" {
				res.Fetched = append(res.Fetched, u)
			}
		case "Network.loadingFailed":
			var p struct{ ErrorText string }
			json.Unmarshal(params, &p)
			res.Errors = append(res.Errors, "load failed: "+p.ErrorText)
		}
	})
	for _, m := range []string{"Page.enable", "Runtime.enable", "Log.enable", "Network.enable"} {
		if err := c.call(ctx, s, m, nil, nil); err != nil {
			return nil, err
		}
	}
	var nav struct{ ErrorText string }
	if err := c.call(ctx, s, "Page.navigate", map[string]any{"url": pageURL}, &nav); err != nil {
		return nil, err
	}
	if nav.ErrorText != "" {
		return nil, fmt.Errorf("opening %s: %s", pageURL, nav.ErrorText)
	}
	select {
	case <-loaded:
	case <-ctx.Done():
		return nil, fmt.Errorf("%s did not finish loading: %w", pageURL, ctx.Err())
	}

	var ev struct {
		Result struct{ Value string }
	}
	expr := `JSON.stringify({title: document.title, sections: document.querySelectorAll("section.scenario").length,
		timelines: document.querySelectorAll("svg.timeline").length, height: document.documentElement.scrollHeight})`
	if err := c.call(ctx, s, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &ev); err != nil {
		return nil, err
	}
	var dom struct {
		Title               string
		Sections, Timelines int
		Height              int
	}
	if err := json.Unmarshal([]byte(ev.Result.Value), &dom); err != nil {
		return nil, fmt.Errorf("reading the page: %w", err)
	}
	c.mu.Lock()
	res.Title, res.Sections, res.Timelines, res.Height = dom.Title, dom.Sections, dom.Timelines, dom.Height
	c.mu.Unlock()

	if png := shot.Path; png != "" {
		h := max(dom.Height, 200)
		if shot.Height > 0 {
			h = min(h, shot.Height)
		}
		if err := c.call(ctx, s, "Emulation.setDeviceMetricsOverride", map[string]any{"width": Width, "height": h, "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
			return nil, err
		}
		var shot struct{ Data string }
		if err := c.call(ctx, s, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
			"clip": map[string]any{"x": 0, "y": 0, "width": Width, "height": h, "scale": 1}}, &shot); err != nil {
			return nil, err
		}
		data, err := base64.StdEncoding.DecodeString(shot.Data)
		if err != nil {
			return nil, fmt.Errorf("screenshot: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(png), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(png, data, 0o644); err != nil {
			return nil, err
		}
		res.PNG = png
	}
	// Let late events (a failed load after the load event) arrive.
	c.call(ctx, s, "Runtime.evaluate", map[string]any{"expression": "1"}, nil)
	c.mu.Lock()
	defer c.mu.Unlock()
	out := *res
	out.Errors = append([]string(nil), res.Errors...)
	out.Fetched = append([]string(nil), res.Fetched...)
	return &out, nil
}

// conn is a DevTools protocol connection over Chromium's pipe: JSON
// messages, each ended by a NUL byte.
type conn struct {
	w      io.WriteCloser
	mu     sync.Mutex // guards the handlers' results
	wmu    sync.Mutex
	pmu    sync.Mutex
	nextID int
	wait   map[int]chan reply
	events map[string]func(string, json.RawMessage)
	done   chan struct{}
	err    error
}

type reply struct {
	Result json.RawMessage
	Error  *struct {
		Code    int
		Message string
	}
}

func newConn(w io.WriteCloser, r io.Reader) *conn {
	c := &conn{w: w, wait: map[int]chan reply{}, events: map[string]func(string, json.RawMessage){}, done: make(chan struct{})}
	go c.read(bufio.NewReaderSize(r, 1<<20))
	return c
}

func (c *conn) read(r *bufio.Reader) {
	defer close(c.done)
	for {
		msg, err := r.ReadBytes(0)
		if err != nil {
			c.pmu.Lock()
			c.err = fmt.Errorf("the DevTools pipe closed: %w", err)
			c.pmu.Unlock()
			return
		}
		var m struct {
			ID        int
			Method    string
			Params    json.RawMessage
			SessionID string
			Result    json.RawMessage
			Error     *struct {
				Code    int
				Message string
			}
		}
		if json.Unmarshal(msg[:len(msg)-1], &m) != nil {
			continue
		}
		c.pmu.Lock()
		if m.ID != 0 {
			ch := c.wait[m.ID]
			delete(c.wait, m.ID)
			c.pmu.Unlock()
			if ch != nil {
				ch <- reply{Result: m.Result, Error: m.Error}
			}
			continue
		}
		h := c.events[m.SessionID]
		c.pmu.Unlock()
		if h != nil {
			h(m.Method, m.Params)
		}
	}
}

func (c *conn) on(session string, h func(string, json.RawMessage)) {
	c.pmu.Lock()
	c.events[session] = h
	c.pmu.Unlock()
}

// call sends a command (to a session, or to the browser when session is
// empty) and decodes its result into out.
func (c *conn) call(ctx context.Context, session, method string, params map[string]any, out any) error {
	c.pmu.Lock()
	if c.err != nil {
		err := c.err
		c.pmu.Unlock()
		return err
	}
	c.nextID++
	id := c.nextID
	ch := make(chan reply, 1)
	c.wait[id] = ch
	c.pmu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	_, err = c.w.Write(append(data, 0))
	c.wmu.Unlock()
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			return fmt.Errorf("%s: %s (%d)", method, r.Error.Message, r.Error.Code)
		}
		if out != nil {
			return json.Unmarshal(r.Result, out)
		}
		return nil
	case <-c.done:
		c.pmu.Lock()
		defer c.pmu.Unlock()
		return fmt.Errorf("%s: %w", method, c.err)
	case <-ctx.Done():
		return fmt.Errorf("%s: no answer: %w", method, ctx.Err())
	}
}

func (c *conn) close() { c.w.Close() }

type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return len(p), nil
	}
	q := p
	if len(q) > l.n {
		q = q[:l.n]
	}
	l.n -= len(q)
	l.w.Write(q)
	return len(p), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
