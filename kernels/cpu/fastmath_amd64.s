//go:build amd64 && !purego

#include "textflag.h"

// Constants of the Cephes expf polynomial (see fastmath.go), one float32 each, broadcast on use.
DATA expconst<>+0(SB)/4, $0x42b00000 // hi = 88.0
DATA expconst<>+4(SB)/4, $0xc2aeac4f // lo = -87.33654
DATA expconst<>+8(SB)/4, $0x3fb8aa3b // log2e = 1.4426950408889634
DATA expconst<>+12(SB)/4, $0x3f318000 // c1 = 0.693359375
DATA expconst<>+16(SB)/4, $0xb95e8083 // c2 = -0.00021219444
DATA expconst<>+20(SB)/4, $0x39506967 // p0 = 0.000198756915
DATA expconst<>+24(SB)/4, $0x3ab743ce // p1 = 0.0013981999507
DATA expconst<>+28(SB)/4, $0x3c088908 // p2 = 0.0083334519073
DATA expconst<>+32(SB)/4, $0x3d2aa9c1 // p3 = 0.041665795894
DATA expconst<>+36(SB)/4, $0x3e2aaaaa // p4 = 0.16666665459
DATA expconst<>+40(SB)/4, $0x3f000000 // p5 = 0.50000001201
DATA expconst<>+44(SB)/4, $0x3f800000 // one = 1.0
GLOBL expconst<>(SB), RODATA|NOPTR, $48

// func expRatioAVX512(dst, src *float32, n int, s, a, b float32)
// dst[i] = a/(1+exp(s·src[i])) + b, 16 lanes at a time (n a multiple of 16).
TEXT ·expRatioAVX512(SB), NOSPLIT, $0-36
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS s+24(FP), Z28
	VBROADCASTSS a+28(FP), Z29
	VBROADCASTSS b+32(FP), Z30
	VBROADCASTSS expconst<>+0(SB), Z16
	VBROADCASTSS expconst<>+4(SB), Z17
	VBROADCASTSS expconst<>+8(SB), Z18
	VBROADCASTSS expconst<>+12(SB), Z19
	VBROADCASTSS expconst<>+16(SB), Z20
	VBROADCASTSS expconst<>+20(SB), Z21
	VBROADCASTSS expconst<>+24(SB), Z22
	VBROADCASTSS expconst<>+28(SB), Z23
	VBROADCASTSS expconst<>+32(SB), Z24
	VBROADCASTSS expconst<>+36(SB), Z25
	VBROADCASTSS expconst<>+40(SB), Z26
	VBROADCASTSS expconst<>+44(SB), Z27
	SHRQ $4, CX
	JZ ratiodone
ratioloop:
	VMULPS (SI), Z28, Z0
	VMINPS Z16, Z0, Z0
	VMAXPS Z17, Z0, Z0
	VMULPS Z18, Z0, Z1
	VRNDSCALEPS $0, Z1, Z1
	VFNMADD231PS Z19, Z1, Z0
	VFNMADD231PS Z20, Z1, Z0
	VMOVAPS Z21, Z2
	VFMADD213PS Z22, Z0, Z2
	VFMADD213PS Z23, Z0, Z2
	VFMADD213PS Z24, Z0, Z2
	VFMADD213PS Z25, Z0, Z2
	VFMADD213PS Z26, Z0, Z2
	VMULPS Z0, Z0, Z3
	VFMADD213PS Z0, Z3, Z2
	VADDPS Z27, Z2, Z2
	VSCALEFPS Z1, Z2, Z2
	VADDPS Z27, Z2, Z2
	VDIVPS Z2, Z29, Z2
	VADDPS Z30, Z2, Z2
	VMOVUPS Z2, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ ratioloop
ratiodone:
	VZEROUPPER
	RET

// func expAVX512(dst, src *float32, n int)
// dst[i] = exp(src[i]), 16 lanes at a time (n a multiple of 16).
TEXT ·expAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS expconst<>+0(SB), Z16
	VBROADCASTSS expconst<>+4(SB), Z17
	VBROADCASTSS expconst<>+8(SB), Z18
	VBROADCASTSS expconst<>+12(SB), Z19
	VBROADCASTSS expconst<>+16(SB), Z20
	VBROADCASTSS expconst<>+20(SB), Z21
	VBROADCASTSS expconst<>+24(SB), Z22
	VBROADCASTSS expconst<>+28(SB), Z23
	VBROADCASTSS expconst<>+32(SB), Z24
	VBROADCASTSS expconst<>+36(SB), Z25
	VBROADCASTSS expconst<>+40(SB), Z26
	VBROADCASTSS expconst<>+44(SB), Z27
	SHRQ $4, CX
	JZ expdone
exploop:
	VMOVUPS (SI), Z0
	VMINPS Z16, Z0, Z0
	VMAXPS Z17, Z0, Z0
	VMULPS Z18, Z0, Z1
	VRNDSCALEPS $0, Z1, Z1
	VFNMADD231PS Z19, Z1, Z0
	VFNMADD231PS Z20, Z1, Z0
	VMOVAPS Z21, Z2
	VFMADD213PS Z22, Z0, Z2
	VFMADD213PS Z23, Z0, Z2
	VFMADD213PS Z24, Z0, Z2
	VFMADD213PS Z25, Z0, Z2
	VFMADD213PS Z26, Z0, Z2
	VMULPS Z0, Z0, Z3
	VFMADD213PS Z0, Z3, Z2
	VADDPS Z27, Z2, Z2
	VSCALEFPS Z1, Z2, Z2
	VMOVUPS Z2, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ exploop
expdone:
	VZEROUPPER
	RET
