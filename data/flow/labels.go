package flow

import (
	"errors"
	"fmt"
	"os"
	"path"
	"regexp"
	"strings"

	"github.com/etchlab/etch/data"
	"github.com/goccy/go-yaml"
)

// Unknown is the service and category of flows that no label rule matched.
const Unknown = "unknown"

// ErrRules reports an invalid label rules file.
var ErrRules = errors.New("bad label rules")

// Label sources: which value a record's Label column takes.
const (
	LabelSNI      = "sni"      // the SNI (hashed when SNI hashing is on); empty without TLS
	LabelService  = "service"  // the matching rule's service, else "unknown"
	LabelCategory = "category" // the matching rule's category, else "unknown"
)

// Rule maps server names to a service and a category. Exactly one of Suffix, Glob and Regex is
// set. Suffix matches the name itself and its subdomains ("googlevideo.com" matches
// "r1.googlevideo.com"); Glob is a shell pattern over the whole name ("*" also crosses dots);
// Regex is a Go regular expression that must match the whole name. Names are compared in lower
// case.
type Rule struct {
	Suffix   string `yaml:"suffix"`
	Glob     string `yaml:"glob"`
	Regex    string `yaml:"regex"`
	Service  string `yaml:"service"`
	Category string `yaml:"category"`

	re *regexp.Regexp
}

// rulesFile is the YAML layout of a label rules file.
type rulesFile struct {
	Rules []Rule `yaml:"rules"`
}

// Labeler sets a record's Label, Service and Category. A nil *Labeler labels with the SNI and
// sets Service and Category to "unknown".
type Labeler struct {
	// From is LabelSNI (default), LabelService or LabelCategory.
	From  string
	Rules []Rule
}

// LoadRules reads a label rules file (YAML, strict: unknown keys are errors, reported with
// their line).
func LoadRules(file string) ([]Rule, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("label rules: %w", err)
	}
	rules, err := ParseRules(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return rules, nil
}

// ParseRules parses the YAML text of a label rules file.
func ParseRules(b []byte) ([]Rule, error) {
	var rf rulesFile
	if err := yaml.UnmarshalWithOptions(b, &rf, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrRules, yaml.FormatError(err, false, false))
	}
	for i := range rf.Rules {
		r := &rf.Rules[i]
		n := 0
		for _, s := range []string{r.Suffix, r.Glob, r.Regex} {
			if s != "" {
				n++
			}
		}
		if n != 1 {
			return nil, fmt.Errorf("%w: rule %d: want exactly one of suffix, glob, regex", ErrRules, i+1)
		}
		if r.Service == "" && r.Category == "" {
			return nil, fmt.Errorf("%w: rule %d: no service or category", ErrRules, i+1)
		}
		r.Suffix = strings.TrimPrefix(strings.ToLower(r.Suffix), ".")
		r.Glob = strings.ToLower(r.Glob)
		if r.Glob != "" {
			if _, err := path.Match(r.Glob, ""); err != nil {
				return nil, fmt.Errorf("%w: rule %d: glob %q: %w", ErrRules, i+1, r.Glob, err)
			}
		}
		if r.Regex != "" {
			re, err := regexp.Compile("^(?:" + r.Regex + ")$")
			if err != nil {
				return nil, fmt.Errorf("%w: rule %d: %w", ErrRules, i+1, err)
			}
			r.re = re
		}
		if r.Service == "" {
			r.Service = Unknown
		}
		if r.Category == "" {
			r.Category = Unknown
		}
	}
	return rf.Rules, nil
}

// Match returns the first rule that matches name, or nil.
func (l *Labeler) Match(name string) *Rule {
	if l == nil || name == "" {
		return nil
	}
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	for i := range l.Rules {
		r := &l.Rules[i]
		switch {
		case r.Suffix != "":
			if name == r.Suffix || strings.HasSuffix(name, "."+r.Suffix) {
				return r
			}
		case r.Glob != "":
			if ok, _ := path.Match(r.Glob, name); ok {
				return r
			}
		case r.re != nil:
			if r.re.MatchString(name) {
				return r
			}
		}
	}
	return nil
}

// Label sets rec's Label, Service and Category from its (clear) SNI.
func (l *Labeler) Label(rec *data.Record) {
	rec.Service, rec.Category = Unknown, Unknown
	if r := l.Match(rec.SNI); r != nil {
		rec.Service, rec.Category = r.Service, r.Category
	}
	from := LabelSNI
	if l != nil && l.From != "" {
		from = l.From
	}
	switch from {
	case LabelService:
		rec.Label = rec.Service
	case LabelCategory:
		rec.Label = rec.Category
	default:
		rec.Label = rec.SNI
	}
}

func (l *Labeler) from() string {
	if l == nil || l.From == "" {
		return LabelSNI
	}
	return l.From
}

func (l *Labeler) count() int {
	if l == nil {
		return 0
	}
	return len(l.Rules)
}
