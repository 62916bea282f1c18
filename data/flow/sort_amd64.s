//go:build amd64 && !purego

#include "textflag.h"

// Bitonic sorting networks over 16 int32 lanes per ZMM register (AVX-512F); see sort_amd64.go.
// A stage pairs lane i with lane i^j (VPERMD by the index vector xorJ) and keeps the minimum or
// the maximum of the pair as its 16-bit mask says (VPBLENDMD; bit set = maximum).

// Index vectors: lane i -> i^1, i^2, i^4, i^8, and 15-i (reversal).
DATA xor1<>+0(SB)/4, $1
DATA xor1<>+4(SB)/4, $0
DATA xor1<>+8(SB)/4, $3
DATA xor1<>+12(SB)/4, $2
DATA xor1<>+16(SB)/4, $5
DATA xor1<>+20(SB)/4, $4
DATA xor1<>+24(SB)/4, $7
DATA xor1<>+28(SB)/4, $6
DATA xor1<>+32(SB)/4, $9
DATA xor1<>+36(SB)/4, $8
DATA xor1<>+40(SB)/4, $11
DATA xor1<>+44(SB)/4, $10
DATA xor1<>+48(SB)/4, $13
DATA xor1<>+52(SB)/4, $12
DATA xor1<>+56(SB)/4, $15
DATA xor1<>+60(SB)/4, $14
GLOBL xor1<>(SB), RODATA|NOPTR, $64
DATA xor2<>+0(SB)/4, $2
DATA xor2<>+4(SB)/4, $3
DATA xor2<>+8(SB)/4, $0
DATA xor2<>+12(SB)/4, $1
DATA xor2<>+16(SB)/4, $6
DATA xor2<>+20(SB)/4, $7
DATA xor2<>+24(SB)/4, $4
DATA xor2<>+28(SB)/4, $5
DATA xor2<>+32(SB)/4, $10
DATA xor2<>+36(SB)/4, $11
DATA xor2<>+40(SB)/4, $8
DATA xor2<>+44(SB)/4, $9
DATA xor2<>+48(SB)/4, $14
DATA xor2<>+52(SB)/4, $15
DATA xor2<>+56(SB)/4, $12
DATA xor2<>+60(SB)/4, $13
GLOBL xor2<>(SB), RODATA|NOPTR, $64
DATA xor4<>+0(SB)/4, $4
DATA xor4<>+4(SB)/4, $5
DATA xor4<>+8(SB)/4, $6
DATA xor4<>+12(SB)/4, $7
DATA xor4<>+16(SB)/4, $0
DATA xor4<>+20(SB)/4, $1
DATA xor4<>+24(SB)/4, $2
DATA xor4<>+28(SB)/4, $3
DATA xor4<>+32(SB)/4, $12
DATA xor4<>+36(SB)/4, $13
DATA xor4<>+40(SB)/4, $14
DATA xor4<>+44(SB)/4, $15
DATA xor4<>+48(SB)/4, $8
DATA xor4<>+52(SB)/4, $9
DATA xor4<>+56(SB)/4, $10
DATA xor4<>+60(SB)/4, $11
GLOBL xor4<>(SB), RODATA|NOPTR, $64
DATA xor8<>+0(SB)/4, $8
DATA xor8<>+4(SB)/4, $9
DATA xor8<>+8(SB)/4, $10
DATA xor8<>+12(SB)/4, $11
DATA xor8<>+16(SB)/4, $12
DATA xor8<>+20(SB)/4, $13
DATA xor8<>+24(SB)/4, $14
DATA xor8<>+28(SB)/4, $15
DATA xor8<>+32(SB)/4, $0
DATA xor8<>+36(SB)/4, $1
DATA xor8<>+40(SB)/4, $2
DATA xor8<>+44(SB)/4, $3
DATA xor8<>+48(SB)/4, $4
DATA xor8<>+52(SB)/4, $5
DATA xor8<>+56(SB)/4, $6
DATA xor8<>+60(SB)/4, $7
GLOBL xor8<>(SB), RODATA|NOPTR, $64
DATA rev16<>+0(SB)/4, $15
DATA rev16<>+4(SB)/4, $14
DATA rev16<>+8(SB)/4, $13
DATA rev16<>+12(SB)/4, $12
DATA rev16<>+16(SB)/4, $11
DATA rev16<>+20(SB)/4, $10
DATA rev16<>+24(SB)/4, $9
DATA rev16<>+28(SB)/4, $8
DATA rev16<>+32(SB)/4, $7
DATA rev16<>+36(SB)/4, $6
DATA rev16<>+40(SB)/4, $5
DATA rev16<>+44(SB)/4, $4
DATA rev16<>+48(SB)/4, $3
DATA rev16<>+52(SB)/4, $2
DATA rev16<>+56(SB)/4, $1
DATA rev16<>+60(SB)/4, $0
GLOBL rev16<>(SB), RODATA|NOPTR, $64

// STAGE applies one compare-exchange stage to R (T1, T2 clobbered); K1 holds the stage's mask.
#define STAGE(R, IDX, T1, T2) \
	VPERMD    R, IDX, T1; \
	VPMINSD   T1, R, T2; \
	VPMAXSD   T1, R, T1; \
	VPBLENDMD T1, T2, K1, R

#define MASK(M) MOVL $M, AX; KMOVW AX, K1

// MINMAX leaves the lane-wise minimum of A and B in A and the maximum in B (T clobbered).
#define MINMAX(A, B, T) \
	VPMINSD   B, A, T; \
	VPMAXSD   B, A, B; \
	VMOVDQA32 T, A

// func sortNetAVX512(x *int32, n int)
// Sorts x[:n] ascending, 2 <= n <= 64. Lanes past n are loaded as MaxInt32, which sorts last, and
// only the first n lanes are stored.
TEXT ·sortNetAVX512(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	// Lane masks: K2..K5 cover x[0:16] ... x[48:64] within n.
	MOVQ $-1, DX
	CMPQ CX, $64
	JEQ  masks
	MOVQ $1, DX
	SHLQ CX, DX
	DECQ DX
masks:
	KMOVW DX, K2
	SHRQ  $16, DX
	KMOVW DX, K3
	SHRQ  $16, DX
	KMOVW DX, K4
	SHRQ  $16, DX
	KMOVW DX, K5
	MOVL         $0x7fffffff, AX
	VPBROADCASTD AX, Z29
	VMOVDQU32    xor1<>(SB), Z24
	VMOVDQU32    xor2<>(SB), Z25
	VMOVDQU32    xor4<>(SB), Z26
	VMOVDQU32    xor8<>(SB), Z27
	VMOVDQU32    rev16<>(SB), Z28
	VMOVDQA32    Z29, Z0
	VMOVDQU32    (DI), K2, Z0
	CMPQ CX, $16
	JGT  more16
	MASK(0x6666)
	STAGE(Z0, Z24, Z4, Z5)
	MASK(0x3c3c)
	STAGE(Z0, Z25, Z4, Z5)
	MASK(0x5a5a)
	STAGE(Z0, Z24, Z4, Z5)
	MASK(0x0ff0)
	STAGE(Z0, Z26, Z4, Z5)
	MASK(0x33cc)
	STAGE(Z0, Z25, Z4, Z5)
	MASK(0x55aa)
	STAGE(Z0, Z24, Z4, Z5)
	MASK(0xff00)
	STAGE(Z0, Z27, Z4, Z5)
	MASK(0xf0f0)
	STAGE(Z0, Z26, Z4, Z5)
	MASK(0xcccc)
	STAGE(Z0, Z25, Z4, Z5)
	MASK(0xaaaa)
	STAGE(Z0, Z24, Z4, Z5)
	VMOVDQU32 Z0, K2, (DI)
	VZEROUPPER
	RET

more16:
	VMOVDQA32 Z29, Z1
	VMOVDQU32 64(DI), K3, Z1
	CMPQ CX, $32
	JGT  more32
	MASK(0x6666)
	STAGE(Z0, Z24, Z4, Z5)
	STAGE(Z1, Z24, Z4, Z5)
	MASK(0x3c3c)
	STAGE(Z0, Z25, Z4, Z5)
	STAGE(Z1, Z25, Z4, Z5)
	MASK(0x5a5a)
	STAGE(Z0, Z24, Z4, Z5)
	STAGE(Z1, Z24, Z4, Z5)
	MASK(0x0ff0)
	STAGE(Z0, Z26, Z4, Z5)
	STAGE(Z1, Z26, Z4, Z5)
	MASK(0x33cc)
	STAGE(Z0, Z25, Z4, Z5)
	STAGE(Z1, Z25, Z4, Z5)
	MASK(0x55aa)
	STAGE(Z0, Z24, Z4, Z5)
	STAGE(Z1, Z24, Z4, Z5)
	MASK(0xff00)
	STAGE(Z0, Z27, Z4, Z5)
	STAGE(Z1, Z27, Z4, Z5)
	MASK(0xf0f0)
	STAGE(Z0, Z26, Z4, Z5)
	STAGE(Z1, Z26, Z4, Z5)
	MASK(0xcccc)
	STAGE(Z0, Z25, Z4, Z5)
	STAGE(Z1, Z25, Z4, Z5)
	MASK(0xaaaa)
	STAGE(Z0, Z24, Z4, Z5)
	STAGE(Z1, Z24, Z4, Z5)
	VPERMD Z1, Z28, Z1
	MINMAX(Z0, Z1, Z6)
	MASK(0xff00)
	STAGE(Z0, Z27, Z4, Z5)
	STAGE(Z1, Z27, Z4, Z5)
	MASK(0xf0f0)
	STAGE(Z0, Z26, Z4, Z5)
	STAGE(Z1, Z26, Z4, Z5)
	MASK(0xcccc)
	STAGE(Z0, Z25, Z4, Z5)
	STAGE(Z1, Z25, Z4, Z5)
	MASK(0xaaaa)
	STAGE(Z0, Z24, Z4, Z5)
	STAGE(Z1, Z24, Z4, Z5)
	VMOVDQU32 Z0, (DI)
	VMOVDQU32 Z1, K3, 64(DI)
	VZEROUPPER
	RET

more32:
	VMOVDQA32 Z29, Z2
	VMOVDQU32 128(DI), K4, Z2
	VMOVDQA32 Z29, Z3
	VMOVDQU32 192(DI), K5, Z3
	MASK(0x6666)
	STAGE(Z0, Z24, Z4, Z5)
	STAGE(Z1, Z24, Z4, Z5)
	STAGE(Z2, Z24, Z4, Z5)
	STAGE(Z3, Z24, Z4, Z5)
	MASK(0x3c3c)
	STAGE(Z0, Z25, Z4, Z5)
	STAGE(Z1, Z25, Z4, Z5)
	STAGE(Z2, Z25, Z4, Z5)
	STAGE(Z3, Z25, Z4, Z5)
	MASK(0x5a5a)
	STAGE(Z0, Z24, Z4, Z5)
	STAGE(Z1, Z24, Z4, Z5)
	STAGE(Z2, Z24, Z4, Z5)
	STAGE(Z3, Z24, Z4, Z5)
	MASK(0x0ff0)
	STAGE(Z0, Z26, Z4, Z5)
	STAGE(Z1, Z26, Z4, Z5)
	STAGE(Z2, Z26, Z4, Z5)
	STAGE(Z3, Z26, Z4, Z5)
	MASK(0x33cc)
	STAGE(Z0, Z25, Z4, Z5)
	STAGE(Z1, Z25, Z4, Z5)
	STAGE(Z2, Z25, Z4, Z5)
	STAGE(Z3, Z25, Z4, Z5)
	MASK(0x55aa)
	STAGE(Z0, Z24, Z4, Z5)
	STAGE(Z1, Z24, Z4, Z5)
	STAGE(Z2, Z24, Z4, Z5)
	STAGE(Z3, Z24, Z4, Z5)
	MASK(0xff00)
	STAGE(Z0, Z27, Z4, Z5)
	STAGE(Z1, Z27, Z4, Z5)
	STAGE(Z2, Z27, Z4, Z5)
	STAGE(Z3, Z27, Z4, Z5)
	MASK(0xf0f0)
	STAGE(Z0, Z26, Z4, Z5)
	STAGE(Z1, Z26, Z4, Z5)
	STAGE(Z2, Z26, Z4, Z5)
	STAGE(Z3, Z26, Z4, Z5)
	MASK(0xcccc)
	STAGE(Z0, Z25, Z4, Z5)
	STAGE(Z1, Z25, Z4, Z5)
	STAGE(Z2, Z25, Z4, Z5)
	STAGE(Z3, Z25, Z4, Z5)
	MASK(0xaaaa)
	STAGE(Z0, Z24, Z4, Z5)
	STAGE(Z1, Z24, Z4, Z5)
	STAGE(Z2, Z24, Z4, Z5)
	STAGE(Z3, Z24, Z4, Z5)
	// Two sorted 32s: (Z0, Z1) and (Z2, Z3).
	VPERMD Z1, Z28, Z1
	VPERMD Z3, Z28, Z3
	MINMAX(Z0, Z1, Z6)
	MINMAX(Z2, Z3, Z7)
	MASK(0xff00)
	STAGE(Z0, Z27, Z4, Z5)
	STAGE(Z1, Z27, Z4, Z5)
	STAGE(Z2, Z27, Z4, Z5)
	STAGE(Z3, Z27, Z4, Z5)
	MASK(0xf0f0)
	STAGE(Z0, Z26, Z4, Z5)
	STAGE(Z1, Z26, Z4, Z5)
	STAGE(Z2, Z26, Z4, Z5)
	STAGE(Z3, Z26, Z4, Z5)
	MASK(0xcccc)
	STAGE(Z0, Z25, Z4, Z5)
	STAGE(Z1, Z25, Z4, Z5)
	STAGE(Z2, Z25, Z4, Z5)
	STAGE(Z3, Z25, Z4, Z5)
	MASK(0xaaaa)
	STAGE(Z0, Z24, Z4, Z5)
	STAGE(Z1, Z24, Z4, Z5)
	STAGE(Z2, Z24, Z4, Z5)
	STAGE(Z3, Z24, Z4, Z5)
	// Merge them: the first against the reversed second, then half-clean each 32.
	VPERMD Z2, Z28, Z2
	VPERMD Z3, Z28, Z3
	MINMAX(Z0, Z3, Z6)
	MINMAX(Z1, Z2, Z7)
	MINMAX(Z0, Z1, Z6)
	MINMAX(Z3, Z2, Z7)
	MASK(0xff00)
	STAGE(Z0, Z27, Z4, Z5)
	STAGE(Z1, Z27, Z4, Z5)
	STAGE(Z3, Z27, Z4, Z5)
	STAGE(Z2, Z27, Z4, Z5)
	MASK(0xf0f0)
	STAGE(Z0, Z26, Z4, Z5)
	STAGE(Z1, Z26, Z4, Z5)
	STAGE(Z3, Z26, Z4, Z5)
	STAGE(Z2, Z26, Z4, Z5)
	MASK(0xcccc)
	STAGE(Z0, Z25, Z4, Z5)
	STAGE(Z1, Z25, Z4, Z5)
	STAGE(Z3, Z25, Z4, Z5)
	STAGE(Z2, Z25, Z4, Z5)
	MASK(0xaaaa)
	STAGE(Z0, Z24, Z4, Z5)
	STAGE(Z1, Z24, Z4, Z5)
	STAGE(Z3, Z24, Z4, Z5)
	STAGE(Z2, Z24, Z4, Z5)
	VMOVDQU32 Z0, (DI)
	VMOVDQU32 Z1, 64(DI)
	VMOVDQU32 Z3, K4, 128(DI)
	VMOVDQU32 Z2, K5, 192(DI)
	VZEROUPPER
	RET
