package fence

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The Docker Engine API versions the endpoint answers to. fence_docker
// puts --api-version in every path (/v1.41/containers/...); its default,
// 1.11, is below what current engines accept, and the endpoint refuses it
// as they do, so a configuration that forgets api_version fails here too.
const (
	APIVersion    = "1.41" // Docker 20.10, Debian 12's docker.io
	MinAPIVersion = "1.24"
)

// Power is what the endpoint needs of the lab's provider (lab.Provider
// has it): a hard power-off, a power-on, and the power state as the
// provider (not the node) sees it.
type Power interface {
	PowerOff(ctx context.Context, node string) error
	PowerOn(ctx context.Context, node string) error
	Running(ctx context.Context, node string) (bool, error)
}

// Machine is one of the lab's machines: its name as the provider calls it
// (what fence_docker asks for, through the cluster's host map) and the lab
// node it is.
type Machine struct {
	Name string `json:"name"`
	Node string `json:"node"`
}

// Server answers the fence agents. Only the lab's machines exist for it;
// every request, answered or refused, is a line in Log.
type Server struct {
	// Lab names the lab in messages.
	Lab      string
	Machines []Machine
	Power    Power
	Log      *Log
	// Refusing, when set and true, fails every request with 503: the fence
	// device failing on purpose.
	Refusing func() bool
	// OffTimeout bounds a power-off (or a power-state query), OnTimeout a
	// power-on. Power actions run to their end even when the client gave
	// up waiting: a fence that was asked for is carried out.
	OffTimeout, OnTimeout time.Duration

	mu      sync.Mutex
	locks   map[string]*sync.Mutex
	powerOn map[string]bool // power-ons in flight
	wg      sync.WaitGroup
}

const (
	defaultOffTimeout = time.Minute
	defaultOnTimeout  = 5 * time.Minute
	maxLoggedTarget   = 128
)

// Wait waits for the power-ons still in flight, at most d.
func (s *Server) Wait(d time.Duration) bool {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

func (s *Server) lock(machine string) *sync.Mutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locks == nil {
		s.locks = map[string]*sync.Mutex{}
	}
	if s.locks[machine] == nil {
		s.locks[machine] = &sync.Mutex{}
	}
	return s.locks[machine]
}

func (s *Server) timeouts() (off, on time.Duration) {
	off, on = s.OffTimeout, s.OnTimeout
	if off <= 0 {
		off = defaultOffTimeout
	}
	if on <= 0 {
		on = defaultOnTimeout
	}
	return off, on
}

func (s *Server) machine(name string) (Machine, bool) {
	for _, m := range s.Machines {
		if m.Name == name {
			return m, true
		}
	}
	return Machine{}, false
}

// A client is a node of this lab (OU node, CN one of the nodes) or halab on
// the host (OU host, CN halab), with a certificate of this lab's CA (the
// TLS layer checked that).
func (s *Server) clientOK(c *x509.Certificate) bool {
	switch {
	case slices.Equal(c.Subject.OrganizationalUnit, []string{ouHost}):
		return c.Subject.CommonName == HostClient
	case slices.Equal(c.Subject.OrganizationalUnit, []string{ouNode}):
		return slices.ContainsFunc(s.Machines, func(m Machine) bool { return m.Node == c.Subject.CommonName })
	}
	return false
}

var versionRe = regexp.MustCompile(`^/v([0-9]+)\.([0-9]+)(/.*)$`)

// apiError is Docker's error body.
type apiError struct {
	Message string `json:"message"`
}

// ServeHTTP answers one request and logs it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	e := Entry{Event: "request", Remote: r.RemoteAddr, Method: r.Method, Path: truncate(r.URL.RequestURI(), 2*maxLoggedTarget)}
	status, body := s.serve(r, &e)
	e.Status = status
	e.TookMS = time.Since(start).Milliseconds()
	w.Header().Set("Api-Version", APIVersion)
	w.Header().Set("Server", "halab-fence-endpoint")
	switch b := body.(type) {
	case nil:
		w.WriteHeader(status)
	case string:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprint(w, b)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(b)
	}
	if s.Log != nil {
		if err := s.Log.Write(e); err != nil {
			log.Printf("fence endpoint: request log: %v", err)
		}
	}
}

func refused(e *Entry, status int, why string) (int, any) {
	e.Result = "refused: " + why
	return status, apiError{Message: why}
}

func failed(e *Entry, status int, err error) (int, any) {
	e.Result = "error: " + err.Error()
	return status, apiError{Message: err.Error()}
}

// serve decides the answer, filling e.
func (s *Server) serve(r *http.Request, e *Entry) (int, any) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return refused(e, http.StatusForbidden, "a client certificate of this lab is required")
	}
	cert := r.TLS.PeerCertificates[0]
	e.Client, e.Serial = Subject(cert)
	if !s.clientOK(cert) {
		return refused(e, http.StatusForbidden, fmt.Sprintf("%s is not a client of lab %s", e.Client, s.Lab))
	}
	if s.Refusing != nil && s.Refusing() {
		return refused(e, http.StatusServiceUnavailable, "the fence endpoint of lab "+s.Lab+" refuses every request (set on purpose: halab fence-endpoint refuse off)")
	}
	path := r.URL.Path
	if m := versionRe.FindStringSubmatch(path); m != nil {
		v := m[1] + "." + m[2]
		if versionLess(m[1], m[2], MinAPIVersion) {
			return refused(e, http.StatusBadRequest, fmt.Sprintf("client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", v, MinAPIVersion))
		}
		if !versionLess(m[1], m[2], APIVersion) && v != APIVersion {
			return refused(e, http.StatusBadRequest, fmt.Sprintf("client version %s is too new. Maximum supported API version is %s", v, APIVersion))
		}
		path = m[3]
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case path == "/_ping":
		e.Action = "ping"
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			return refused(e, http.StatusMethodNotAllowed, "use GET")
		}
		e.Result = "ok"
		return http.StatusOK, "OK"
	case path == "/version":
		e.Action = "version"
		if r.Method != http.MethodGet {
			return refused(e, http.StatusMethodNotAllowed, "use GET")
		}
		e.Result = "ok"
		return http.StatusOK, map[string]string{
			"Version": "halab fence endpoint", "ApiVersion": APIVersion, "MinAPIVersion": MinAPIVersion, "Os": "linux",
		}
	case path == "/containers/json":
		e.Action = "list"
		if r.Method != http.MethodGet {
			return refused(e, http.StatusMethodNotAllowed, "use GET")
		}
		return s.list(r, e)
	case len(parts) == 3 && parts[0] == "containers":
		return s.container(r, e, parts[1], parts[2])
	}
	return refused(e, http.StatusNotFound, "page not found")
}

// versionLess: major.minor < v.
func versionLess(major, minor, v string) bool {
	vm, vn, _ := strings.Cut(v, ".")
	a, _ := strconv.Atoi(major)
	b, _ := strconv.Atoi(minor)
	c, _ := strconv.Atoi(vm)
	d, _ := strconv.Atoi(vn)
	return a < c || (a == c && b < d)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func power(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// list is GET /containers/json: the lab's machines only, in the shape
// fence_docker's list (and so its monitor) reads: Id, Names, Status.
func (s *Server) list(r *http.Request, e *Entry) (int, any) {
	off, _ := s.timeouts()
	type container struct {
		ID     string   `json:"Id"`
		Names  []string `json:"Names"`
		State  string   `json:"State"`
		Status string   `json:"Status"`
	}
	out := []container{}
	for _, m := range s.Machines {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), off)
		running, err := s.Power.Running(ctx, m.Node)
		cancel()
		if err != nil {
			return failed(e, http.StatusInternalServerError, fmt.Errorf("power state of %s: %w", m.Name, err))
		}
		c := container{ID: m.Name, Names: []string{"/" + m.Name}, State: "exited", Status: "Exited (137)"}
		if running {
			c.State, c.Status = "running", "Up"
		}
		out = append(out, c)
	}
	e.Result = "ok"
	return http.StatusOK, out
}

func (s *Server) container(r *http.Request, e *Entry, name, op string) (int, any) {
	e.Target = truncate(name, maxLoggedTarget)
	want := http.MethodPost
	switch op {
	case "json":
		e.Action, want = "inspect", http.MethodGet
	case "kill", "start", "restart":
		e.Action = op
	default:
		return refused(e, http.StatusNotFound, "page not found")
	}
	if r.Method != want {
		return refused(e, http.StatusMethodNotAllowed, "use "+want)
	}
	m, ok := s.machine(name)
	if !ok {
		// As Docker answers an unknown container; the lab's other
		// containers, and the host's, do not exist for a node.
		e.Result = fmt.Sprintf("refused: %q is not a machine of lab %s", e.Target, s.Lab)
		return http.StatusNotFound, apiError{Message: "No such container: " + e.Target}
	}
	e.Node = m.Node
	off, on := s.timeouts()
	// A power action runs to its end even if the client hangs up.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), off)
	defer cancel()
	switch op {
	case "json":
		running, err := s.Power.Running(ctx, m.Node)
		if err != nil {
			e.Power = "unknown"
			return failed(e, http.StatusInternalServerError, fmt.Errorf("power state of %s: %w", m.Name, err))
		}
		e.Power, e.Result = power(running), "ok"
		state := "exited"
		if running {
			state = "running"
		}
		return http.StatusOK, map[string]any{
			"Id": m.Name, "Name": "/" + m.Name,
			"State": map[string]any{"Status": state, "Running": running},
		}
	case "kill":
		if sig := r.URL.Query().Get("signal"); sig != "" && sig != "KILL" && sig != "SIGKILL" && sig != "9" {
			return refused(e, http.StatusBadRequest, "signal "+truncate(sig, 16)+": the endpoint only cuts power (KILL)")
		}
		return s.kill(ctx, e, m)
	case "start":
		return s.start(ctx, e, m, on)
	default: // restart
		if status, body := s.kill(ctx, e, m); status != http.StatusNoContent && status != http.StatusConflict {
			return status, body
		}
		return s.start(ctx, e, m, on)
	}
}

// kill powers the machine off, under its lock; a machine already off is
// Docker's 409.
func (s *Server) kill(ctx context.Context, e *Entry, m Machine) (int, any) {
	l := s.lock(m.Name)
	l.Lock()
	defer l.Unlock()
	running, err := s.Power.Running(ctx, m.Node)
	if err != nil {
		e.Power = "unknown"
		return failed(e, http.StatusInternalServerError, fmt.Errorf("power state of %s: %w", m.Name, err))
	}
	if !running {
		e.Power, e.Result = "off", "ok: already off"
		return http.StatusConflict, apiError{Message: "Container " + m.Name + " is not running"}
	}
	if err := s.Power.PowerOff(ctx, m.Node); err != nil {
		e.Power = "unknown"
		return failed(e, http.StatusInternalServerError, fmt.Errorf("power-off %s: %w", m.Name, err))
	}
	e.Power, e.Result = "off", "ok"
	return http.StatusNoContent, nil
}

// start powers the machine on in the background and answers at once:
// booting (a `vagrant up`) outlasts fence_docker's request timeout, and
// the agent polls the power state until the machine runs. A machine
// already on is Docker's 304.
func (s *Server) start(ctx context.Context, e *Entry, m Machine, timeout time.Duration) (int, any) {
	s.mu.Lock()
	if s.powerOn[m.Name] {
		s.mu.Unlock()
		e.Power, e.Result = "off", "ok: power-on already under way"
		return http.StatusNoContent, nil
	}
	if s.powerOn == nil {
		s.powerOn = map[string]bool{}
	}
	s.powerOn[m.Name] = true
	s.mu.Unlock()
	launched := false
	defer func() {
		if !launched {
			s.mu.Lock()
			delete(s.powerOn, m.Name)
			s.mu.Unlock()
		}
	}()
	running, err := s.Power.Running(ctx, m.Node)
	if err != nil {
		e.Power = "unknown"
		return failed(e, http.StatusInternalServerError, fmt.Errorf("power state of %s: %w", m.Name, err))
	}
	if running {
		e.Power, e.Result = "on", "ok: already on"
		return http.StatusNotModified, nil
	}
	launched = true
	s.wg.Add(1)
	client, serial := e.Client, e.Serial
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.powerOn, m.Name)
			s.mu.Unlock()
		}()
		l := s.lock(m.Name)
		l.Lock()
		defer l.Unlock()
		begin := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		done := Entry{Event: "power-on", Client: client, Serial: serial, Target: m.Name, Node: m.Node, Action: "start", Result: "ok", Power: "on"}
		if err := s.Power.PowerOn(ctx, m.Node); err != nil {
			done.Result, done.Power = "error: power-on "+m.Name+": "+err.Error(), "unknown"
		}
		done.TookMS = time.Since(begin).Milliseconds()
		if s.Log != nil {
			if err := s.Log.Write(done); err != nil {
				log.Printf("fence endpoint: request log: %v", err)
			}
		}
	}()
	e.Power, e.Result = "off", "ok: power-on started"
	return http.StatusNoContent, nil
}
