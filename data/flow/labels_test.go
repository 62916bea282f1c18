package flow

import (
	"errors"
	"strings"
	"testing"

	"github.com/etchlab/etch/data"
)

func TestExampleRules(t *testing.T) {
	rules, err := LoadRules("../rules/example-rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l := &Labeler{Rules: rules}
	for _, tc := range []struct{ sni, service, category string }{
		{"r3---sn-4g5e6nsz.googlevideo.com", "YouTube", "Streaming"},
		{"mmg.whatsapp.net", "WhatsApp", "Chat"},
		{"WhatsApp.NET.", "WhatsApp", "Chat"},
		{"gateway.discord.gg", "Discord", "Chat"},
		{"cdn.discordapp.com", "Discord", "Chat"},
		{"imap.example.org", "Mail", "Email"},
		{"notwhatsapp.net", Unknown, Unknown},
		{"", Unknown, Unknown},
	} {
		r := data.Record{SNI: tc.sni}
		l.Label(&r)
		if r.Service != tc.service || r.Category != tc.category || r.Label != tc.sni {
			t.Errorf("%q → %q/%q label %q, want %q/%q", tc.sni, r.Service, r.Category, r.Label, tc.service, tc.category)
		}
	}
}

func TestLabelFrom(t *testing.T) {
	rules := mustRules(t, "rules:\n  - suffix: a.com\n    service: A\n    category: Web\n")
	for _, tc := range []struct{ from, sni, want string }{
		{LabelSNI, "x.a.com", "x.a.com"}, {LabelService, "x.a.com", "A"}, {LabelCategory, "x.a.com", "Web"},
		{LabelService, "b.com", Unknown},
	} {
		r := data.Record{SNI: tc.sni}
		(&Labeler{From: tc.from, Rules: rules}).Label(&r)
		if r.Label != tc.want {
			t.Errorf("from %s, %s: label %q, want %q", tc.from, tc.sni, r.Label, tc.want)
		}
	}
	var nilL *Labeler
	r := data.Record{SNI: "x"}
	nilL.Label(&r)
	if r.Label != "x" || r.Service != Unknown {
		t.Errorf("nil labeler: %+v", r)
	}
}

func TestRulesErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key", "rules:\n  - suffix: a.com\n    servise: A\n", "servise"},
		{"two matchers", "rules:\n  - suffix: a.com\n    glob: '*.b'\n    service: A\n", "exactly one"},
		{"no matcher", "rules:\n  - service: A\n", "exactly one"},
		{"bad regex", "rules:\n  - regex: '('\n    service: A\n", "rule 1"},
		{"no target", "rules:\n  - suffix: a.com\n", "no service"},
		{"bad glob", "rules:\n  - glob: '[a'\n    service: A\n", "glob"},
	} {
		_, err := ParseRules([]byte(tc.yaml))
		if !errors.Is(err, ErrRules) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want ErrRules mentioning %q", tc.name, err, tc.want)
		}
	}
}
