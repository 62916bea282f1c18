# Pairs `go test -bench` lines NAME/cpu and NAME/cuda (any -N suffix) and prints the GPU speedup.
$1 ~ /^Benchmark/ && $4 == "ns/op" {
    name = $1; sub(/-[0-9]+$/, "", name)
    n = split(name, p, "/"); be = p[n]; key = substr(name, 1, length(name) - length(be) - 1)
    if (be == "cpu" || be == "cuda") { t[key, be] = $3; if (!(key in seen)) { seen[key] = 1; order[++k] = key } }
}
END {
    for (i = 1; i <= k; i++) {
        key = order[i]
        if (t[key, "cpu"] && t[key, "cuda"]) printf "%-40s cpu %12.0f ns/op  cuda %12.0f ns/op  speedup %.1fx\n", key, t[key, "cpu"], t[key, "cuda"], t[key, "cpu"] / t[key, "cuda"]
    }
}
