// The Stats columns; written out once from the schema table in README.md ("Flow schema").

package data

// Stats holds the reference study's per-direction flow statistics (see README, "Flow schema").
// Directions: Fwd is client→server, Bwd server→client, All both. Sizes are IP packet lengths,
// payloads transport payload lengths, inter-arrival times microseconds between consecutive packets
// of that direction (for All: of the flow). Percentiles use linear interpolation between closest
// ranks; Var is the population variance. Statistics with no packets are 0.
type Stats struct {
	SizeFwdCount   float64 `parquet:"size_fwd_count,uncompressed" json:"size_fwd_count"`
	SizeFwdP25     float64 `parquet:"size_fwd_p25,uncompressed" json:"size_fwd_p25"`
	SizeFwdP50     float64 `parquet:"size_fwd_p50,uncompressed" json:"size_fwd_p50"`
	SizeFwdP75     float64 `parquet:"size_fwd_p75,uncompressed" json:"size_fwd_p75"`
	SizeFwdMax     float64 `parquet:"size_fwd_max,uncompressed" json:"size_fwd_max"`
	SizeFwdMean    float64 `parquet:"size_fwd_mean,uncompressed" json:"size_fwd_mean"`
	SizeFwdVar     float64 `parquet:"size_fwd_var,uncompressed" json:"size_fwd_var"`
	IatFwdP25      float64 `parquet:"iat_fwd_p25,uncompressed" json:"iat_fwd_p25"`
	IatFwdP50      float64 `parquet:"iat_fwd_p50,uncompressed" json:"iat_fwd_p50"`
	IatFwdP75      float64 `parquet:"iat_fwd_p75,uncompressed" json:"iat_fwd_p75"`
	PayloadFwdP25  float64 `parquet:"payload_fwd_p25,uncompressed" json:"payload_fwd_p25"`
	PayloadFwdP50  float64 `parquet:"payload_fwd_p50,uncompressed" json:"payload_fwd_p50"`
	PayloadFwdP75  float64 `parquet:"payload_fwd_p75,uncompressed" json:"payload_fwd_p75"`
	PayloadFwdMax  float64 `parquet:"payload_fwd_max,uncompressed" json:"payload_fwd_max"`
	PayloadFwdMean float64 `parquet:"payload_fwd_mean,uncompressed" json:"payload_fwd_mean"`
	PayloadFwdVar  float64 `parquet:"payload_fwd_var,uncompressed" json:"payload_fwd_var"`
	SizeBwdCount   float64 `parquet:"size_bwd_count,uncompressed" json:"size_bwd_count"`
	SizeBwdP25     float64 `parquet:"size_bwd_p25,uncompressed" json:"size_bwd_p25"`
	SizeBwdP50     float64 `parquet:"size_bwd_p50,uncompressed" json:"size_bwd_p50"`
	SizeBwdP75     float64 `parquet:"size_bwd_p75,uncompressed" json:"size_bwd_p75"`
	SizeBwdMax     float64 `parquet:"size_bwd_max,uncompressed" json:"size_bwd_max"`
	SizeBwdMean    float64 `parquet:"size_bwd_mean,uncompressed" json:"size_bwd_mean"`
	SizeBwdVar     float64 `parquet:"size_bwd_var,uncompressed" json:"size_bwd_var"`
	IatBwdP25      float64 `parquet:"iat_bwd_p25,uncompressed" json:"iat_bwd_p25"`
	IatBwdP50      float64 `parquet:"iat_bwd_p50,uncompressed" json:"iat_bwd_p50"`
	IatBwdP75      float64 `parquet:"iat_bwd_p75,uncompressed" json:"iat_bwd_p75"`
	PayloadBwdP25  float64 `parquet:"payload_bwd_p25,uncompressed" json:"payload_bwd_p25"`
	PayloadBwdP50  float64 `parquet:"payload_bwd_p50,uncompressed" json:"payload_bwd_p50"`
	PayloadBwdP75  float64 `parquet:"payload_bwd_p75,uncompressed" json:"payload_bwd_p75"`
	PayloadBwdMax  float64 `parquet:"payload_bwd_max,uncompressed" json:"payload_bwd_max"`
	PayloadBwdMean float64 `parquet:"payload_bwd_mean,uncompressed" json:"payload_bwd_mean"`
	PayloadBwdVar  float64 `parquet:"payload_bwd_var,uncompressed" json:"payload_bwd_var"`
	SizeAllCount   float64 `parquet:"size_all_count,uncompressed" json:"size_all_count"`
	SizeAllP25     float64 `parquet:"size_all_p25,uncompressed" json:"size_all_p25"`
	SizeAllP50     float64 `parquet:"size_all_p50,uncompressed" json:"size_all_p50"`
	SizeAllP75     float64 `parquet:"size_all_p75,uncompressed" json:"size_all_p75"`
	SizeAllMax     float64 `parquet:"size_all_max,uncompressed" json:"size_all_max"`
	SizeAllMean    float64 `parquet:"size_all_mean,uncompressed" json:"size_all_mean"`
	SizeAllVar     float64 `parquet:"size_all_var,uncompressed" json:"size_all_var"`
	IatAllP25      float64 `parquet:"iat_all_p25,uncompressed" json:"iat_all_p25"`
	IatAllP50      float64 `parquet:"iat_all_p50,uncompressed" json:"iat_all_p50"`
	IatAllP75      float64 `parquet:"iat_all_p75,uncompressed" json:"iat_all_p75"`
	PayloadAllP25  float64 `parquet:"payload_all_p25,uncompressed" json:"payload_all_p25"`
	PayloadAllP50  float64 `parquet:"payload_all_p50,uncompressed" json:"payload_all_p50"`
	PayloadAllP75  float64 `parquet:"payload_all_p75,uncompressed" json:"payload_all_p75"`
	PayloadAllMax  float64 `parquet:"payload_all_max,uncompressed" json:"payload_all_max"`
	PayloadAllMean float64 `parquet:"payload_all_mean,uncompressed" json:"payload_all_mean"`
	PayloadAllVar  float64 `parquet:"payload_all_var,uncompressed" json:"payload_all_var"`
}

// StatNames lists the Stats columns in schema order.
var StatNames = [...]string{
	"size_fwd_count",
	"size_fwd_p25",
	"size_fwd_p50",
	"size_fwd_p75",
	"size_fwd_max",
	"size_fwd_mean",
	"size_fwd_var",
	"iat_fwd_p25",
	"iat_fwd_p50",
	"iat_fwd_p75",
	"payload_fwd_p25",
	"payload_fwd_p50",
	"payload_fwd_p75",
	"payload_fwd_max",
	"payload_fwd_mean",
	"payload_fwd_var",
	"size_bwd_count",
	"size_bwd_p25",
	"size_bwd_p50",
	"size_bwd_p75",
	"size_bwd_max",
	"size_bwd_mean",
	"size_bwd_var",
	"iat_bwd_p25",
	"iat_bwd_p50",
	"iat_bwd_p75",
	"payload_bwd_p25",
	"payload_bwd_p50",
	"payload_bwd_p75",
	"payload_bwd_max",
	"payload_bwd_mean",
	"payload_bwd_var",
	"size_all_count",
	"size_all_p25",
	"size_all_p50",
	"size_all_p75",
	"size_all_max",
	"size_all_mean",
	"size_all_var",
	"iat_all_p25",
	"iat_all_p50",
	"iat_all_p75",
	"payload_all_p25",
	"payload_all_p50",
	"payload_all_p75",
	"payload_all_max",
	"payload_all_mean",
	"payload_all_var",
}

// NumStats is the number of statistics columns.
const NumStats = len(StatNames)

// Vector writes the statistics into dst (len ≥ NumStats) in StatNames order and returns dst[:NumStats].
func (s *Stats) Vector(dst []float64) []float64 {
	dst = dst[:NumStats]
	dst[0] = s.SizeFwdCount
	dst[1] = s.SizeFwdP25
	dst[2] = s.SizeFwdP50
	dst[3] = s.SizeFwdP75
	dst[4] = s.SizeFwdMax
	dst[5] = s.SizeFwdMean
	dst[6] = s.SizeFwdVar
	dst[7] = s.IatFwdP25
	dst[8] = s.IatFwdP50
	dst[9] = s.IatFwdP75
	dst[10] = s.PayloadFwdP25
	dst[11] = s.PayloadFwdP50
	dst[12] = s.PayloadFwdP75
	dst[13] = s.PayloadFwdMax
	dst[14] = s.PayloadFwdMean
	dst[15] = s.PayloadFwdVar
	dst[16] = s.SizeBwdCount
	dst[17] = s.SizeBwdP25
	dst[18] = s.SizeBwdP50
	dst[19] = s.SizeBwdP75
	dst[20] = s.SizeBwdMax
	dst[21] = s.SizeBwdMean
	dst[22] = s.SizeBwdVar
	dst[23] = s.IatBwdP25
	dst[24] = s.IatBwdP50
	dst[25] = s.IatBwdP75
	dst[26] = s.PayloadBwdP25
	dst[27] = s.PayloadBwdP50
	dst[28] = s.PayloadBwdP75
	dst[29] = s.PayloadBwdMax
	dst[30] = s.PayloadBwdMean
	dst[31] = s.PayloadBwdVar
	dst[32] = s.SizeAllCount
	dst[33] = s.SizeAllP25
	dst[34] = s.SizeAllP50
	dst[35] = s.SizeAllP75
	dst[36] = s.SizeAllMax
	dst[37] = s.SizeAllMean
	dst[38] = s.SizeAllVar
	dst[39] = s.IatAllP25
	dst[40] = s.IatAllP50
	dst[41] = s.IatAllP75
	dst[42] = s.PayloadAllP25
	dst[43] = s.PayloadAllP50
	dst[44] = s.PayloadAllP75
	dst[45] = s.PayloadAllMax
	dst[46] = s.PayloadAllMean
	dst[47] = s.PayloadAllVar
	return dst
}

// SetVector sets the statistics from v (len ≥ NumStats) in StatNames order.
func (s *Stats) SetVector(v []float64) {
	_ = v[NumStats-1]
	s.SizeFwdCount = v[0]
	s.SizeFwdP25 = v[1]
	s.SizeFwdP50 = v[2]
	s.SizeFwdP75 = v[3]
	s.SizeFwdMax = v[4]
	s.SizeFwdMean = v[5]
	s.SizeFwdVar = v[6]
	s.IatFwdP25 = v[7]
	s.IatFwdP50 = v[8]
	s.IatFwdP75 = v[9]
	s.PayloadFwdP25 = v[10]
	s.PayloadFwdP50 = v[11]
	s.PayloadFwdP75 = v[12]
	s.PayloadFwdMax = v[13]
	s.PayloadFwdMean = v[14]
	s.PayloadFwdVar = v[15]
	s.SizeBwdCount = v[16]
	s.SizeBwdP25 = v[17]
	s.SizeBwdP50 = v[18]
	s.SizeBwdP75 = v[19]
	s.SizeBwdMax = v[20]
	s.SizeBwdMean = v[21]
	s.SizeBwdVar = v[22]
	s.IatBwdP25 = v[23]
	s.IatBwdP50 = v[24]
	s.IatBwdP75 = v[25]
	s.PayloadBwdP25 = v[26]
	s.PayloadBwdP50 = v[27]
	s.PayloadBwdP75 = v[28]
	s.PayloadBwdMax = v[29]
	s.PayloadBwdMean = v[30]
	s.PayloadBwdVar = v[31]
	s.SizeAllCount = v[32]
	s.SizeAllP25 = v[33]
	s.SizeAllP50 = v[34]
	s.SizeAllP75 = v[35]
	s.SizeAllMax = v[36]
	s.SizeAllMean = v[37]
	s.SizeAllVar = v[38]
	s.IatAllP25 = v[39]
	s.IatAllP50 = v[40]
	s.IatAllP75 = v[41]
	s.PayloadAllP25 = v[42]
	s.PayloadAllP50 = v[43]
	s.PayloadAllP75 = v[44]
	s.PayloadAllMax = v[45]
	s.PayloadAllMean = v[46]
	s.PayloadAllVar = v[47]
}
