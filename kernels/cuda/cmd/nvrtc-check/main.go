//go:build cuda

package main

import (
	"fmt"
	"os"
	"time"

	"gorgonia.org/cu/nvrtc"

	"github.com/etchlab/etch/kernels/cuda/cusrc"
)

func main() {
	archs := os.Args[1:]
	if len(archs) == 0 {
		fmt.Fprintln(os.Stderr, "usage: nvrtc-check ARCH... (e.g. compute_80 compute_90)")
		os.Exit(2)
	}
	maj, minor, err := nvrtc.Version()
	if err != nil {
		fmt.Fprintf(os.Stderr, "nvrtc-check: %v\n", err)
		os.Exit(1)
	}
	bad := 0
	for _, arch := range archs {
		for _, src := range cusrc.Sources() {
			start := time.Now()
			ptx, log, err := cusrc.Compile(src, arch)
			switch {
			case err != nil:
				fmt.Fprintf(os.Stderr, "FAIL %v\n", err)
				bad++
			case log != "":
				fmt.Fprintf(os.Stderr, "FAIL nvrtc %s (%s): diagnostics:\n%s\n", src.Name, arch, log)
				bad++
			default:
				fmt.Printf("ok   %-16s %-10s %6d bytes of PTX  %.2fs\n", src.Name, arch, len(ptx), time.Since(start).Seconds())
			}
		}
	}
	if bad > 0 {
		fmt.Fprintf(os.Stderr, "nvrtc-check: %d compilation(s) failed (NVRTC %d.%d)\n", bad, maj, minor)
		os.Exit(1)
	}
	fmt.Printf("nvrtc-check: %d source(s) × %d arch(s) clean (NVRTC %d.%d)\n", len(cusrc.Sources()), len(archs), maj, minor)
}
