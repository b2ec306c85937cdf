package fence

import (
	"bufio"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Entry is one line of the request log: who asked (the client
// certificate's subject and serial, never key material), from where, what
// for, and what came of it. The endpoint's own start and stop are entries
// too (Event set, no client).
type Entry struct {
	Time time.Time `json:"time"`
	// Event is "request", "handshake" (a TLS handshake the endpoint
	// refused: no certificate, another lab's, ...), "start" or "stop".
	Event  string `json:"event"`
	Remote string `json:"remote,omitempty"`
	// Client is the client certificate's subject, Serial its serial (hex).
	Client string `json:"client,omitempty"`
	Serial string `json:"serial,omitempty"`
	Method string `json:"method,omitempty"`
	Path   string `json:"path,omitempty"`
	// Target is the machine named in the request, Node the lab node it is.
	Target string `json:"target,omitempty"`
	Node   string `json:"node,omitempty"`
	// Action is version, list, inspect, kill, start or restart.
	Action string `json:"action,omitempty"`
	Status int    `json:"status,omitempty"`
	// Result is "ok", "refused: WHY" or "error: WHY".
	Result string `json:"result"`
	// Power is the machine's power state the endpoint reported or left:
	// on, off, or unknown.
	Power string `json:"power,omitempty"`
	// TookMS is how long the endpoint took (the power action included).
	TookMS int64  `json:"took_ms"`
	Addr   string `json:"addr,omitempty"`
	PID    int    `json:"pid,omitempty"`
}

// RequestLogName is the request log's file name in the fence directory.
const RequestLogName = "requests.log"

// Log appends entries to the request log as JSON lines. Writes are
// serialised; each is one write(2) on an O_APPEND file, so that lines of a
// killed endpoint are never torn.
type Log struct {
	mu sync.Mutex
	f  *os.File
	// now is the clock (tests fix it).
	now func() time.Time
}

// OpenLog opens (creating, 0600) the request log in dir.
func OpenLog(dir string) (*Log, error) {
	f, err := os.OpenFile(filepath.Join(dir, RequestLogName), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	return &Log{f: f, now: time.Now}, nil
}

// Write appends one entry, stamping its time if unset.
func (l *Log) Write(e Entry) error {
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	e.Time = e.Time.UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err = l.f.Write(append(b, '\n'))
	return err
}

func (l *Log) Close() error { return l.f.Close() }

// ReadLog reads every entry of dir's request log (none when it does not
// exist). A line that does not parse is an error naming it.
func ReadLog(dir string) ([]Entry, error) {
	f, err := os.Open(filepath.Join(dir, RequestLogName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Entry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return out, &LogError{Line: n, Err: err}
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// LogError is a request log line that is not an entry.
type LogError struct {
	Line int
	Err  error
}

func (e *LogError) Error() string {
	return RequestLogName + ": line " + strconv.Itoa(e.Line) + ": " + e.Err.Error()
}
