package data

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"testing"
)

// TestEncoderMatchesLoad checks that encoding records one at a time gives exactly the rows Load
// reads from a file of the same records, for several feature selections and truncations.
func TestEncoderMatchesLoad(t *testing.T) {
	recs := genRecords(300, 12, []string{"a", "b", "c"})
	for i := range recs {
		recs[i].QUIC = i%3 == 0
		recs[i].BytesPerS = math.Pi * float64(i) * 1e7 // not exact in float32
		recs[i].PayloadBytesBwd = int64(i) << 40
	}
	path := filepath.Join(t.TempDir(), "f.parquet")
	writeFile(t, path, Meta{SeqLen: 12}, recs)
	for _, tc := range []struct {
		name string
		opts LoadOptions
	}{
		{"stats", LoadOptions{Features: []string{GroupStats}}},
		{"mixed", LoadOptions{Features: []string{"duration_s", GroupSeqIAT, "quic", GroupStats, GroupSeqSize, "bytes_per_s", "payload_bytes_bwd", "syn"}}},
		{"seq-truncated", LoadOptions{Features: []string{GroupSeqDir, GroupSeqSize}, Packets: 5}},
		{"one-channel", LoadOptions{Features: []string{GroupSeqSize}, Packets: 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Load(context.Background(), path, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			e, err := NewEncoder(d.TabNames, d.SeqChannels, d.SeqLen)
			if err != nil {
				t.Fatal(err)
			}
			if e.TabDim() != d.TabDim() || e.SeqDim() != d.SeqDim() {
				t.Fatalf("dims %d/%d, dataset %d/%d", e.TabDim(), e.SeqDim(), d.TabDim(), d.SeqDim())
			}
			tab, seq := make([]float32, e.TabDim()), make([]float32, e.SeqDim())
			for r := range d.N {
				for j := range seq {
					seq[j] = 12345 // must be overwritten
				}
				e.Encode(&recs[d.Index[r]], tab, seq)
				wantTab := d.Tab[r*d.TabDim() : (r+1)*d.TabDim()]
				wantSeq := d.Seq[r*d.SeqDim() : (r+1)*d.SeqDim()]
				for j := range tab {
					if math.Float32bits(tab[j]) != math.Float32bits(wantTab[j]) {
						t.Fatalf("row %d %s: %v, Load %v", r, d.TabNames[j], tab[j], wantTab[j])
					}
				}
				for j := range seq {
					if seq[j] != wantSeq[j] {
						t.Fatalf("row %d seq value %d: %v, Load %v", r, j, seq[j], wantSeq[j])
					}
				}
			}
		})
	}
}

func TestEncoderErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		tab, seq []string
		n        int
	}{
		{"string column", []string{"sni"}, nil, 0},
		{"unknown", []string{"nope"}, nil, 0},
		{"extra", []string{"mean_fiat"}, nil, 0},
		{"channel", nil, []string{"seq_bytes"}, 4},
		{"no length", nil, []string{GroupSeqSize}, 0},
	} {
		if _, err := NewEncoder(tc.tab, tc.seq, tc.n); !errors.Is(err, ErrSchema) {
			t.Errorf("%s: err %v, want ErrSchema", tc.name, err)
		}
	}
}

func TestEncoderPads(t *testing.T) {
	e, err := NewEncoder(nil, []string{GroupSeqSize, GroupSeqDir}, 4)
	if err != nil {
		t.Fatal(err)
	}
	seq := []float32{9, 9, 9, 9, 9, 9, 9, 9}
	e.Encode(&Record{SeqSize: []int32{100, -60}, SeqDir: []int32{1, -1}}, nil, seq)
	want := []float32{100, 1, -60, -1, 0, 0, 0, 0}
	for i := range want {
		if seq[i] != want[i] {
			t.Fatalf("seq %v, want %v", seq, want)
		}
	}
}
