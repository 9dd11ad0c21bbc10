package deploy_test

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
)

// pulumiPath returns the PATH directories of the Pulumi CLI and the
// kubernetes provider plugin built by tests/tools/build-pulumi.sh, or the
// reason they are not usable.
func pulumiPath(root string) (string, error) {
	script := filepath.Join(root, "tests", "tools", "build-pulumi.sh")
	out, err := exec.Command(script, "--print-path").Output()
	if err != nil {
		return "", fmt.Errorf("%s --print-path: %w", script, err)
	}
	dirs := strings.TrimSpace(string(out))
	for _, want := range []string{"pulumi", "pulumi-resource-kubernetes"} {
		found := false
		for _, d := range filepath.SplitList(dirs) {
			if st, err := os.Stat(filepath.Join(d, want)); err == nil && !st.IsDir() {
				found = true
			}
		}
		if !found {
			return "", fmt.Errorf("%s not built in %s; run tests/tools/build-pulumi.sh", want, dirs)
		}
	}
	return dirs, nil
}

// pulumiCommand is the CLI in the first PATH directory holding it.
func pulumiCommand(t *testing.T, dirs string) auto.PulumiCommand {
	t.Helper()
	for _, d := range filepath.SplitList(dirs) {
		if _, err := os.Stat(filepath.Join(d, "pulumi")); err == nil {
			cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: filepath.Dir(d), SkipVersionCheck: true})
			if err != nil {
				t.Fatal(err)
			}
			return cmd
		}
	}
	t.Fatalf("no pulumi in %s", dirs)
	return nil
}

// step is one resource step seen in an engine event stream.
type step struct {
	Op           apitype.OpType
	Type         string
	URN          string
	Diffs        []string
	DetailedDiff []string
}

func (s step) String() string {
	return fmt.Sprintf("%s %s diffs=%v detailed=%v", s.Op, s.URN, s.Diffs, s.DetailedDiff)
}

// stepRecorder collects the resource steps of one operation from its engine
// events. Use events() as the EventStreams channel, then steps() afterwards.
type stepRecorder struct {
	ch   chan events.EngineEvent
	done chan struct{}
	mu   sync.Mutex
	all  []step
	diag []string
}

func newStepRecorder() *stepRecorder {
	r := &stepRecorder{ch: make(chan events.EngineEvent), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for e := range r.ch {
			r.record(e)
		}
	}()
	return r
}

func (r *stepRecorder) record(e events.EngineEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d := e.DiagnosticEvent; d != nil && (d.Severity == "error" || d.Severity == "warning") {
		r.diag = append(r.diag, d.Severity+": "+strings.TrimSpace(d.Message))
	}
	var m *apitype.StepEventMetadata
	switch {
	case e.ResourcePreEvent != nil:
		m = &e.ResourcePreEvent.Metadata
	default:
		return
	}
	s := step{Op: m.Op, Type: m.Type, URN: m.URN, Diffs: m.Diffs}
	for k := range m.DetailedDiff {
		s.DetailedDiff = append(s.DetailedDiff, k)
	}
	sort.Strings(s.DetailedDiff)
	r.all = append(r.all, s)
}

// wait blocks until the event stream is closed (the Automation API closes it
// when the operation ends).
func (r *stepRecorder) wait() { <-r.done }

// changes returns every step that is not "same" (nor a read).
func (r *stepRecorder) changes() []step {
	r.wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []step
	for _, s := range r.all {
		if s.Op != apitype.OpSame && s.Op != apitype.OpRead {
			out = append(out, s)
		}
	}
	return out
}

func (r *stepRecorder) diagnostics() []string {
	r.wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.diag...)
}

// lineWriter sends whole lines to t.Log and keeps a copy of everything.
type lineWriter struct {
	t   *testing.T
	mu  sync.Mutex
	buf strings.Builder
	all strings.Builder
}

var _ io.Writer = (*lineWriter)(nil)

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(p)
	w.buf.Write(p)
	s := w.buf.String()
	for {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			break
		}
		w.t.Log(s[:i])
		s = s[i+1:]
	}
	w.buf.Reset()
	w.buf.WriteString(s)
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}
