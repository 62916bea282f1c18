//go:build amd64 && !purego

#include "textflag.h"

// Bitonic sorting networks over 16 int32 lanes per ZMM register (AVX-512F); see sort_amd64.go.
// A stage pairs lane i with lane i^j (VPERMD by the index vector for j) and keeps the minimum or
// the maximum of each pair as the stage's 16-bit mask says (VPBLENDMD; bit set = maximum). For
// the stage of block size k and distance j, lane i keeps the maximum when (i&j != 0) equals
// (i&k == 0): ascending blocks keep the maximum in their upper lane, descending ones in the lower.

// Index vectors in Z24-Z28: lane i -> i^1, i^2, i^4, i^8, and 15-i (reversal).
DATA xor1<>+0(SB)/8, $0x0000000000000001
DATA xor1<>+8(SB)/8, $0x0000000200000003
DATA xor1<>+16(SB)/8, $0x0000000400000005
DATA xor1<>+24(SB)/8, $0x0000000600000007
DATA xor1<>+32(SB)/8, $0x0000000800000009
DATA xor1<>+40(SB)/8, $0x0000000a0000000b
DATA xor1<>+48(SB)/8, $0x0000000c0000000d
DATA xor1<>+56(SB)/8, $0x0000000e0000000f
GLOBL xor1<>(SB), RODATA|NOPTR, $64
DATA xor2<>+0(SB)/8, $0x0000000300000002
DATA xor2<>+8(SB)/8, $0x0000000100000000
DATA xor2<>+16(SB)/8, $0x0000000700000006
DATA xor2<>+24(SB)/8, $0x0000000500000004
DATA xor2<>+32(SB)/8, $0x0000000b0000000a
DATA xor2<>+40(SB)/8, $0x0000000900000008
DATA xor2<>+48(SB)/8, $0x0000000f0000000e
DATA xor2<>+56(SB)/8, $0x0000000d0000000c
GLOBL xor2<>(SB), RODATA|NOPTR, $64
DATA xor4<>+0(SB)/8, $0x0000000500000004
DATA xor4<>+8(SB)/8, $0x0000000700000006
DATA xor4<>+16(SB)/8, $0x0000000100000000
DATA xor4<>+24(SB)/8, $0x0000000300000002
DATA xor4<>+32(SB)/8, $0x0000000d0000000c
DATA xor4<>+40(SB)/8, $0x0000000f0000000e
DATA xor4<>+48(SB)/8, $0x0000000900000008
DATA xor4<>+56(SB)/8, $0x0000000b0000000a
GLOBL xor4<>(SB), RODATA|NOPTR, $64
DATA xor8<>+0(SB)/8, $0x0000000900000008
DATA xor8<>+8(SB)/8, $0x0000000b0000000a
DATA xor8<>+16(SB)/8, $0x0000000d0000000c
DATA xor8<>+24(SB)/8, $0x0000000f0000000e
DATA xor8<>+32(SB)/8, $0x0000000100000000
DATA xor8<>+40(SB)/8, $0x0000000300000002
DATA xor8<>+48(SB)/8, $0x0000000500000004
DATA xor8<>+56(SB)/8, $0x0000000700000006
GLOBL xor8<>(SB), RODATA|NOPTR, $64
DATA rev16<>+0(SB)/8, $0x0000000e0000000f
DATA rev16<>+8(SB)/8, $0x0000000c0000000d
DATA rev16<>+16(SB)/8, $0x0000000a0000000b
DATA rev16<>+24(SB)/8, $0x0000000800000009
DATA rev16<>+32(SB)/8, $0x0000000600000007
DATA rev16<>+40(SB)/8, $0x0000000400000005
DATA rev16<>+48(SB)/8, $0x0000000200000003
DATA rev16<>+56(SB)/8, $0x0000000000000001
GLOBL rev16<>(SB), RODATA|NOPTR, $64

#define MASK(M) MOVL $M, AX; KMOVW AX, K1

// STAGE applies one compare-exchange stage to R by partner index IDX and mask K1 (T1, T2
// clobbered).
#define STAGE(R, IDX, T1, T2) \
	VPERMD    R, IDX, T1; \
	VPMINSD   T1, R, T2; \
	VPMAXSD   T1, R, T1; \
	VPBLENDMD T1, T2, K1, R

// STAGE1, STAGE2 and STAGE4 apply a stage to one, two or four registers.
#define STAGE1(IDX, M, A) MASK(M); STAGE(A, IDX, Z4, Z5)
#define STAGE2(IDX, M, A, B) MASK(M); STAGE(A, IDX, Z4, Z5); STAGE(B, IDX, Z6, Z7)
#define STAGE4(IDX, M, A, B, C, D) MASK(M); STAGE(A, IDX, Z4, Z5); STAGE(B, IDX, Z6, Z7); STAGE(C, IDX, Z8, Z9); STAGE(D, IDX, Z10, Z11)

// CLEANn sorts bitonic registers ascending (k = 16: j = 8, 4, 2, 1); SORTn sorts registers of
// any order: the stages of k = 2, 4 and 8, then CLEANn.
#define CLEAN1(A) \
	STAGE1(Z27, 0xff00, A); STAGE1(Z26, 0xf0f0, A); STAGE1(Z25, 0xcccc, A); STAGE1(Z24, 0xaaaa, A)
#define SORT1(A) \
	STAGE1(Z24, 0x6666, A); STAGE1(Z25, 0x3c3c, A); STAGE1(Z24, 0x5a5a, A); \
	STAGE1(Z26, 0x0ff0, A); STAGE1(Z25, 0x33cc, A); STAGE1(Z24, 0x55aa, A); CLEAN1(A)
#define CLEAN2(A, B) \
	STAGE2(Z27, 0xff00, A, B); STAGE2(Z26, 0xf0f0, A, B); STAGE2(Z25, 0xcccc, A, B); STAGE2(Z24, 0xaaaa, A, B)
#define SORT2(A, B) \
	STAGE2(Z24, 0x6666, A, B); STAGE2(Z25, 0x3c3c, A, B); STAGE2(Z24, 0x5a5a, A, B); \
	STAGE2(Z26, 0x0ff0, A, B); STAGE2(Z25, 0x33cc, A, B); STAGE2(Z24, 0x55aa, A, B); CLEAN2(A, B)
#define CLEAN4(A, B, C, D) \
	STAGE4(Z27, 0xff00, A, B, C, D); STAGE4(Z26, 0xf0f0, A, B, C, D); \
	STAGE4(Z25, 0xcccc, A, B, C, D); STAGE4(Z24, 0xaaaa, A, B, C, D)
#define SORT4(A, B, C, D) \
	STAGE4(Z24, 0x6666, A, B, C, D); STAGE4(Z25, 0x3c3c, A, B, C, D); STAGE4(Z24, 0x5a5a, A, B, C, D); \
	STAGE4(Z26, 0x0ff0, A, B, C, D); STAGE4(Z25, 0x33cc, A, B, C, D); STAGE4(Z24, 0x55aa, A, B, C, D); \
	CLEAN4(A, B, C, D)

// MINMAX leaves the lane-wise minimum of A and B in A and the maximum in B (T clobbered).
#define MINMAX(A, B, T) \
	VPMINSD   B, A, T; \
	VPMAXSD   B, A, B; \
	VMOVDQA32 T, A

// func sortNetAVX512(x *int32, n int)
// Sorts x[:n] ascending, 2 <= n <= 64. Lanes past n are loaded as MaxInt32, which sorts last,
// and only the first n lanes are stored.
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
	KMOVW        DX, K2
	SHRQ         $16, DX
	KMOVW        DX, K3
	SHRQ         $16, DX
	KMOVW        DX, K4
	SHRQ         $16, DX
	KMOVW        DX, K5
	MOVL         $0x7fffffff, AX
	VPBROADCASTD AX, Z29
	VMOVDQU32    xor1<>(SB), Z24
	VMOVDQU32    xor2<>(SB), Z25
	VMOVDQU32    xor4<>(SB), Z26
	VMOVDQU32    xor8<>(SB), Z27
	VMOVDQU32    rev16<>(SB), Z28
	VMOVDQA32    Z29, Z0
	VMOVDQU32    (DI), K2, Z0
	CMPQ         CX, $16
	JGT          more16
	SORT1(Z0)
	VMOVDQU32    Z0, K2, (DI)
	VZEROUPPER
	RET

more16:
	VMOVDQA32 Z29, Z1
	VMOVDQU32 64(DI), K3, Z1
	CMPQ      CX, $32
	JGT       more32
	SORT2(Z0, Z1)
	// Merge: the first 16 against the second reversed, then clean each half.
	VPERMD    Z1, Z28, Z1
	MINMAX(Z0, Z1, Z6)
	CLEAN2(Z0, Z1)
	VMOVDQU32 Z0, (DI)
	VMOVDQU32 Z1, K3, 64(DI)
	VZEROUPPER
	RET

more32:
	VMOVDQA32 Z29, Z2
	VMOVDQU32 128(DI), K4, Z2
	VMOVDQA32 Z29, Z3
	VMOVDQU32 192(DI), K5, Z3
	SORT4(Z0, Z1, Z2, Z3)
	// Two sorted 32s: (Z0, Z1) and (Z2, Z3).
	VPERMD    Z1, Z28, Z1
	VPERMD    Z3, Z28, Z3
	MINMAX(Z0, Z1, Z6)
	MINMAX(Z2, Z3, Z7)
	CLEAN4(Z0, Z1, Z2, Z3)
	// Merge them: the first against the second reversed (its registers swapped and reversed),
	// then half-clean each 32 (distance 16, then CLEAN).
	VPERMD    Z2, Z28, Z2
	VPERMD    Z3, Z28, Z3
	MINMAX(Z0, Z3, Z6)
	MINMAX(Z1, Z2, Z7)
	MINMAX(Z0, Z1, Z6)
	MINMAX(Z3, Z2, Z7)
	CLEAN4(Z0, Z1, Z3, Z2)
	VMOVDQU32 Z0, (DI)
	VMOVDQU32 Z1, 64(DI)
	VMOVDQU32 Z3, K4, 128(DI)
	VMOVDQU32 Z2, K5, 192(DI)
	VZEROUPPER
	RET
