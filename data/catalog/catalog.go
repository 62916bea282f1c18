package catalog

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// File is one downloadable file of a dataset.
type File struct {
	// Name is the file name in the cache directory (may contain '/': a subdirectory).
	Name string
	// URL is where the file is downloaded from.
	URL string
	// Size in bytes; 0 when not known.
	Size int64
	// SHA256 is the hex SHA-256 of the file; "" when no trustworthy value is known, in which case
	// a download needs AllowUnverified and the hash of the first download is pinned in the cache.
	SHA256 string
}

// Entry is one dataset of the catalogue.
type Entry struct {
	Name     string
	Title    string
	Homepage string
	Licence  string
	// Importer names the etch importer and its flags, e.g. "arff" or "gcseq --layout study4x25";
	// empty when etch cannot read the files as distributed (Notes says what to do).
	Importer string
	Files    []File
	Notes    string
}

// Size returns the total size of the entry's files and whether every size is known.
func (e *Entry) Size() (int64, bool) {
	var n int64
	known := true
	for _, f := range e.Files {
		n += f.Size
		known = known && f.Size > 0
	}
	return n, known
}

// ErrUnknown reports a dataset name that is not in the catalogue.
var ErrUnknown = errors.New("no such dataset in the catalogue")

// ErrNoDownload reports a catalogue entry that has no public download.
var ErrNoDownload = errors.New("no public download")

const wdwatson = "https://raw.githubusercontent.com/wdwatson2/research/c55744f1563305633d5dd6865cf557d780946ae5/datasets/"

// Catalogue returns the datasets etch knows, sorted by name. SHA-256 values were computed from
// byte-identical copies (same size as upstream at the pinned commit) in the project's shared
// data; where no such copy exists the hash is left empty rather than guessed.
func Catalogue() []Entry {
	es := []Entry{
		{
			Name:     "iscxvpn2016",
			Title:    "ISCX VPN-nonVPN 2016, time-based features, 15 s windows (ARFF)",
			Homepage: "https://www.unb.ca/cic/datasets/vpn.html",
			Licence:  "Canadian Institute for Cybersecurity (UNB): free for research, cite Draper-Gil et al., ICISSP 2016",
			Importer: "arff",
			Files: []File{
				{"Scenario A1/TimeBasedFeatures-Dataset-15s-VPN.arff", wdwatson + "Scenario%20A1/TimeBasedFeatures-Dataset-15s-VPN.arff", 3587857, "8d324364dd8daaeef57b5dd476dc2995ecc9b84a88ea2fd8115ca1778b83ab24"},
				{"Scenario A2/TimeBasedFeatures-Dataset-15s-NO-VPN.arff", wdwatson + "Scenario%20A2/TimeBasedFeatures-Dataset-15s-NO-VPN.arff", 1597903, "f1cd826d3008ebab77bc341bbc8574659bc7e328a14077f4813578da3be842a2"},
				{"Scenario A2/TimeBasedFeatures-Dataset-15s-VPN.arff", wdwatson + "Scenario%20A2/TimeBasedFeatures-Dataset-15s-VPN.arff", 1826826, "4a9c9a424066da9641c322744c872758cb157b4111896eb71f2bb14ca0761d99"},
				{"Scenario B/TimeBasedFeatures-Dataset-15s-AllinOne.arff", wdwatson + "Scenario%20B/TimeBasedFeatures-Dataset-15s-AllinOne.arff", 3587741, "4d5a53bfdb1b03dc4af9788503b45e92cf4cc6aa1c4b0b8486274c45f20c7702"},
				{"Scenario B/TimeBasedFeatures-Dataset-15s.arff", wdwatson + "Scenario%20B/TimeBasedFeatures-Dataset-15s.arff", 3626982, "267c2ab06e5493b0ef134e8a974debc21a8d921f114bf7056b049a3307ad989d"},
			},
			Notes: "Mirror of the official ARFF files in github.com/wdwatson2/research (pinned commit). " +
				"Scenario A1: VPN vs non-VPN; A2: 7 categories; B: 7 categories (AllinOne) or 14 classes. " +
				"The time-based features are known to carry capture artefacts: treat scores as optimistic.",
		},
		{
			Name:     "cesnet-quic22-demo",
			Title:    "CESNET-QUIC22 sample: 150 flows, 10 apps × 15, 30-packet PPI + 45 statistics (JSON)",
			Homepage: "https://github.com/mehulbasu/quic-classifier",
			Licence:  "data from CESNET-QUIC22 (CC BY 4.0, cite Luxemburk et al., Data in Brief 2023); the extract's repository has no licence",
			Importer: "cesnet",
			Files: []File{
				{"demo_traces.json", "https://raw.githubusercontent.com/mehulbasu/quic-classifier/36f8f919668490c41477d3407c55ffc7845991da/demo/demo_traces.json", 364115, "6a3e581e2df2cde696c1291d74937b4261e8cbb476cfddf50fd5da9bdd2f428f"},
			},
		},
		{
			Name:     "cesnet-quic22",
			Title:    "CESNET-QUIC22: 153M QUIC flows, 4 weeks (31.10.-27.11.2022) of the CESNET2 backbone, 89 GB uncompressed",
			Homepage: "https://zenodo.org/record/7409924",
			Licence:  "CC BY 4.0 (cite Luxemburk et al., Data in Brief 2023)",
			Files: []File{
				{"CESNET-QUIC22.h5", "https://liberouter.org/datazoo/download?bucket=cesnet-quic22&file=CESNET-QUIC22.h5", 0, ""},
			},
			Notes: "The Zenodo record (v1 above; newer versions exist) has the CSV release; the URL here is the HDF5 " +
				"database that cesnet-datazoo downloads. Neither size nor SHA-256 is recorded here. etch does not read " +
				"HDF5: import the Zenodo CSV release (or a cesnet-datazoo dataframe export) with `etch data import --format cesnet`.",
		},
		{
			Name:     "cesnet-tls22",
			Title:    "CESNET-TLS22: TLS flows from the CESNET2 backbone, 2 weeks (W-2021-40, W-2021-41)",
			Homepage: "https://github.com/CESNET/cesnet-datazoo",
			Licence:  "not recorded here: see the dataset's record (its sibling CESNET-QUIC22 is CC BY 4.0)",
			Files: []File{
				{"CESNET-TLS22.h5", "https://liberouter.org/datazoo/download?bucket=cesnet-tls22&file=CESNET-TLS22.h5", 0, ""},
			},
			Notes: "Same distribution and import route as cesnet-quic22.",
		},
		{
			Name:     "gcseq25",
			Title:    "Bayat et al. 2021 GCseq25: first packets (size, payload, IAT, direction; 4×25) labelled by SNI",
			Homepage: "https://github.com/niloofarbayat/NetworkClassification",
			Licence:  "unknown (the repository has no licence file)",
			Importer: "gcseq --layout study4x25",
			Notes: "The study's CSV is not in its public repository or any public mirror etch knows; " +
				"import your own copy with `etch data import --format gcseq --layout study4x25`.",
		},
		{
			Name:     "gcstats",
			Title:    "Bayat et al. 2021 GCstats: per-flow statistics labelled by SNI",
			Homepage: "https://github.com/niloofarbayat/NetworkClassification",
			Licence:  "unknown (the repository has no licence file)",
			Importer: "csv",
			Notes:    "Not publicly downloadable (see gcseq25); import a copy with `etch data import --format csv --label-col <SNI column>`.",
		},
	}
	sort.Slice(es, func(i, j int) bool { return es[i].Name < es[j].Name })
	return es
}

// Lookup returns the catalogue entry called name (case-insensitive).
func Lookup(name string) (Entry, error) {
	var names []string
	for _, e := range Catalogue() {
		if strings.EqualFold(e.Name, name) {
			return e, nil
		}
		names = append(names, e.Name)
	}
	return Entry{}, fmt.Errorf("%w: %q (known: %s)", ErrUnknown, name, strings.Join(names, ", "))
}
