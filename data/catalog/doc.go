// Package catalog lists public encrypted-traffic datasets (where to get them, their size, licence,
// SHA-256 and the importer that reads them) and downloads them into a cache: resumable (HTTP
// Range), verified against the recorded SHA-256, never left half-written.
//
// Downloads are hand-written on net/http (a few dozen lines) rather than a download library:
// what matters here, resuming a .part file and verifying before renaming, is simple to state and
// test against net/http/httptest.
package catalog
