package runner

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// Progress is told what a run is doing. Implementations must be safe for concurrent use.
type Progress interface {
	// Begin is called once with the number of trials and how many of them come from the cache.
	Begin(total, cached int)
	// TrialStarted is called as a trial starts.
	TrialStarted(id string)
	// Unit reports a model's training progress in a trial (epochs, trees).
	Unit(trial, model string, done, total int, unit string)
	// TrialDone is called as a trial finishes (or fails).
	TrialDone(r *TrialResult)
	// End is called once when the run is over.
	End()
}

// NewProgress returns a progress display on w: a redrawn bar (trials, the running models'
// epochs, ETA) when tty is true, plain lines otherwise.
func NewProgress(w io.Writer, tty bool) Progress {
	return &display{w: w, tty: tty, running: map[string]string{}, now: time.Now}
}

type display struct {
	mu                  sync.Mutex
	w                   io.Writer
	tty                 bool
	total, cached, done int
	failed              int
	start               time.Time
	running             map[string]string // trial → "model epoch 3/20"
	lastDraw            time.Time
	now                 func() time.Time
}

func (d *display) Begin(total, cached int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.total, d.cached, d.done = total, cached, cached
	d.start = d.now()
	if !d.tty {
		fmt.Fprintf(d.w, "%d trial(s), %d from cache, %d to run\n", total, cached, total-cached)
		return
	}
	d.draw(true)
}

func (d *display) TrialStarted(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.running[id] = "starting"
	if !d.tty {
		fmt.Fprintf(d.w, "trial %s started\n", id)
		return
	}
	d.draw(true)
}

func (d *display) Unit(trial, model string, done, total int, unit string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.running[trial] = fmt.Sprintf("%s %s %d/%d", model, unit, done, total)
	if !d.tty {
		// Plain output stays readable: one line per tenth of a model's training.
		if total > 0 && (done == total || done%max(1, total/10) == 0) {
			fmt.Fprintf(d.w, "trial %s: %s %s %d/%d\n", trial, model, unit, done, total)
		}
		return
	}
	d.draw(false)
}

func (d *display) TrialDone(r *TrialResult) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.done++
	delete(d.running, r.Trial.ID)
	if r.Failed() {
		d.failed++
	}
	line := fmt.Sprintf("trial %s finished in %.1fs (%d/%d)%s", r.Trial.ID, r.Seconds, d.done, d.total, summary(r))
	if d.tty {
		fmt.Fprintf(d.w, "\r\033[K%s\n", line)
		d.draw(true)
		return
	}
	fmt.Fprintln(d.w, line)
}

func (d *display) End() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.tty {
		fmt.Fprint(d.w, "\r\033[K")
	}
	fmt.Fprintf(d.w, "%d/%d trial(s) done, %d failed, %s\n", d.done, d.total, d.failed, d.now().Sub(d.start).Round(time.Second))
}

// draw redraws the bar; unforced draws are limited to ten a second.
func (d *display) draw(force bool) {
	now := d.now()
	if !force && now.Sub(d.lastDraw) < 100*time.Millisecond {
		return
	}
	d.lastDraw = now
	const width = 24
	frac := 0.0
	if d.total > 0 {
		frac = float64(d.done) / float64(d.total)
	}
	n := int(frac * width)
	bar := strings.Repeat("█", n) + strings.Repeat("░", width-n)
	eta := "?"
	if ran := d.done - d.cached; ran > 0 {
		per := now.Sub(d.start) / time.Duration(ran)
		eta = (per * time.Duration(d.total-d.done)).Round(time.Second).String()
	}
	ids := make([]string, 0, len(d.running))
	for id := range d.running {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var parts []string
	for _, id := range ids {
		parts = append(parts, id+": "+d.running[id])
	}
	status := strings.Join(parts, ", ")
	if len(status) > 60 {
		status = status[:57] + "..."
	}
	fmt.Fprintf(d.w, "\r\033[K%s %d/%d trials  ETA %s  %s", bar, d.done, d.total, eta, status)
}

func summary(r *TrialResult) string {
	if r.Failed() {
		return ": FAILED: " + firstLine(r.Trial.Error)
	}
	names := make([]string, 0, len(r.Trial.Models))
	for n := range r.Trial.Models {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %.3f", n, r.Trial.Models[n].Accuracy))
	}
	if len(parts) == 0 {
		return ""
	}
	return ": accuracy " + strings.Join(parts, ", ")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// noProgress discards everything.
type noProgress struct{}

func (noProgress) Begin(int, int)                        {}
func (noProgress) TrialStarted(string)                   {}
func (noProgress) Unit(string, string, int, int, string) {}
func (noProgress) TrialDone(*TrialResult)                {}
func (noProgress) End()                                  {}
