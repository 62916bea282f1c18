// Package importers turns third-party flow datasets into etch flows files (schema v1):
//
//   - gcseq: the reference study's GCseq CSV (label, then numbers) in two layouts, signed100
//     (100 signed packet sizes) and study4x25 (4 blocks of 25: size, payload, IAT, direction);
//   - arff: Weka ARFF such as ISCX VPN-nonVPN 2016's time-based features; numeric attributes go
//     to the Extra column with their names in the footer, the class attribute to label and
//     category;
//   - csv: any CSV with a header, with the label, sequence and feature columns named by flags;
//   - cesnet: CESNET-QUIC22/TLS22 flows, from the CSV release (PPI column) or the preprocessed
//     JSON form of the cesnet-quic22-demo extract.
//
// The ARFF and CSV readers are hand-written on purpose: there is no maintained Go ARFF library,
// and encoding/csv is used for CSV itself; what is added is row-level validation with file:line
// errors. Every import writes through data.Create (temporary file, rename on success), so a
// failed import leaves nothing behind.
package importers
