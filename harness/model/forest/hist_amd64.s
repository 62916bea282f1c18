//go:build amd64 && !purego

#include "textflag.h"

// batchmask<>+j: the first j of eight lanes.
DATA batchmask<>+0(SB)/1, $0x00
DATA batchmask<>+1(SB)/1, $0x01
DATA batchmask<>+2(SB)/1, $0x03
DATA batchmask<>+3(SB)/1, $0x07
DATA batchmask<>+4(SB)/1, $0x0f
DATA batchmask<>+5(SB)/1, $0x1f
DATA batchmask<>+6(SB)/1, $0x3f
DATA batchmask<>+7(SB)/1, $0x7f
DATA batchmask<>+8(SB)/1, $0xff
GLOBL batchmask<>(SB), RODATA|NOPTR, $9

// Scratch layout (bytes): the eight rows' lane sums of left², tot·left and left at 0, 512 and
// 1024; their left counts at 1536 and their bins at 1600 (1664 in all).
#define SCR_SL 0
#define SCR_DOT 512
#define SCR_WL 1024
#define SCR_NL 1536
#define SCR_BIN 1600

// REDUCE8 sums each of the eight vectors at off(SI) ... off+448(SI) into one lane of dst, in
// order: a transpose by halves (Z16-Z23, Z28, Z29 are clobbered).
#define REDUCE8(off, dst) \
	VMOVUPD       off+0(SI), Z16; \
	VMOVUPD       off+64(SI), Z17; \
	VMOVUPD       off+128(SI), Z18; \
	VMOVUPD       off+192(SI), Z19; \
	VMOVUPD       off+256(SI), Z20; \
	VMOVUPD       off+320(SI), Z21; \
	VMOVUPD       off+384(SI), Z22; \
	VMOVUPD       off+448(SI), Z23; \
	VSHUFF64X2    $0x44, Z20, Z16, Z28; \
	VSHUFF64X2    $0xee, Z20, Z16, Z29; \
	VADDPD        Z29, Z28, Z16; \
	VSHUFF64X2    $0x44, Z21, Z17, Z28; \
	VSHUFF64X2    $0xee, Z21, Z17, Z29; \
	VADDPD        Z29, Z28, Z17; \
	VSHUFF64X2    $0x44, Z22, Z18, Z28; \
	VSHUFF64X2    $0xee, Z22, Z18, Z29; \
	VADDPD        Z29, Z28, Z18; \
	VSHUFF64X2    $0x44, Z23, Z19, Z28; \
	VSHUFF64X2    $0xee, Z23, Z19, Z29; \
	VADDPD        Z29, Z28, Z19; \
	VSHUFF64X2    $0x88, Z18, Z16, Z28; \
	VSHUFF64X2    $0xdd, Z18, Z16, Z29; \
	VADDPD        Z29, Z28, Z16; \
	VSHUFF64X2    $0x88, Z19, Z17, Z28; \
	VSHUFF64X2    $0xdd, Z19, Z17, Z29; \
	VADDPD        Z29, Z28, Z17; \
	VUNPCKLPD     Z17, Z16, Z28; \
	VUNPCKHPD     Z17, Z16, Z29; \
	VADDPD        Z29, Z28, Z28; \
	VSHUFF64X2    $0xd8, Z28, Z28, dst

// func sweepHistAVX512(hist *int32, nw *int64, pres *uint8, stride int, tot *float64, left *int32, scratch *float64, w, s0, lo, hi float64) (bin int, best float64, groups int)
//
// sweepHistGo over the bins present: pres is read 64 bins at a time into a mask (DX) whose set
// bits are visited in order, so empty bins cost nothing. A bin's row is added to the left totals
// 16 classes per step while Z0/Z1 sum left², Z2/Z3 tot·left and Z4/Z8 left; the rows' lane sums
// go to scratch, and every eight rows (and after the last) they are reduced together and scored
// as eight lanes. Every sum is of whole numbers below 2^53, so the order of the additions does
// not change them, and the score is computed with the same operations as in Go.
// Rows of 16 or 32 classes keep the left totals in Z11 (and Z13) instead of left. Scalars: AX
// the bin, CX the row length in bytes, SI the row, DI left, R8 tot, R9 nw, R10 the
// left count, R11 the rows waiting in scratch, R12 the first bin of the mask, X12 the best score.
// Z14 is zero, Z30 w, Z31 s0, Z26 lo and Z27 hi (the least and most left count allowed).
TEXT ·sweepHistAVX512(SB), NOSPLIT, $0-112
	MOVQ         nw+8(FP), R9
	MOVQ         stride+24(FP), CX
	SHLQ         $2, CX
	MOVQ         tot+32(FP), R8
	MOVQ         left+40(FP), DI
	VBROADCASTSD w+56(FP), Z30
	VBROADCASTSD s0+64(FP), Z31
	VBROADCASTSD lo+72(FP), Z26
	VBROADCASTSD hi+80(FP), Z27
	MOVQ         $0xFFF0000000000000, R13
	VMOVQ        R13, X12
	MOVQ         $0, bin+88(FP)
	MOVQ         $0, groups+104(FP)
	XORQ         R10, R10
	XORQ         R11, R11
	XORQ         R12, R12
	VPXORD       Z14, Z14, Z14
	CMPQ         CX, $64
	JLT          words
	VMOVDQU32    (DI), Z11
	CMPQ         CX, $128
	JLT          words
	VMOVDQU32    64(DI), Z13

words:
	CMPQ     R12, $256
	JGE      last
	MOVQ     pres+16(FP), R13
	VMOVDQU8 (R13)(R12*1), Z5
	VPTESTMB Z5, Z5, K1
	VMOVDQU8 Z14, (R13)(R12*1)
	KMOVQ    K1, DX

bits:
	TESTQ  DX, DX
	JZ     nextword
	BSFQ   DX, AX
	LEAQ   -1(DX), R13
	ANDQ   R13, DX
	ADDQ   R12, AX
	MOVQ   AX, SI
	IMULQ  CX, SI
	ADDQ   hist+0(FP), SI
	INCQ   groups+104(FP)
	CMPQ   CX, $128
	JEQ    row32
	CMPQ   CX, $64
	JEQ    row16
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z8, Z8, Z8
	XORQ   BX, BX

chunk:
	VMOVDQU32     (SI)(BX*1), Z5
	VMOVDQU32     Z14, (SI)(BX*1)
	VPADDD        (DI)(BX*1), Z5, Z5
	VMOVDQU32     Z5, (DI)(BX*1)
	VCVTDQ2PD     Y5, Z6
	VEXTRACTI32X8 $1, Z5, Y7
	VCVTDQ2PD     Y7, Z7
	VADDPD        Z6, Z4, Z4
	VADDPD        Z7, Z8, Z8
	VFMADD231PD   Z6, Z6, Z0
	VFMADD231PD   Z7, Z7, Z1
	VFMADD231PD   (R8)(BX*2), Z6, Z2
	VFMADD231PD   64(R8)(BX*2), Z7, Z3
	ADDQ          $64, BX
	CMPQ          BX, CX
	JLT           chunk
	JMP           park

row32:
	// 32 classes: the left totals stay in Z11 and Z13.
	VMOVDQU32     (SI), Z5
	VMOVDQU32     64(SI), Z6
	VMOVDQU32     Z14, (SI)
	VMOVDQU32     Z14, 64(SI)
	VPADDD        Z5, Z11, Z11
	VPADDD        Z6, Z13, Z13
	VCVTDQ2PD     Y11, Z5
	VEXTRACTI32X8 $1, Z11, Y6
	VCVTDQ2PD     Y6, Z6
	VCVTDQ2PD     Y13, Z7
	VEXTRACTI32X8 $1, Z13, Y8
	VCVTDQ2PD     Y8, Z8
	VMULPD        Z5, Z5, Z0
	VMULPD        Z6, Z6, Z1
	VFMADD231PD   Z7, Z7, Z0
	VFMADD231PD   Z8, Z8, Z1
	VMULPD        (R8), Z5, Z2
	VMULPD        64(R8), Z6, Z3
	VFMADD231PD   128(R8), Z7, Z2
	VFMADD231PD   192(R8), Z8, Z3
	VADDPD        Z6, Z5, Z4
	VADDPD        Z8, Z7, Z8
	JMP           park

row16:
	// 16 classes: the left totals stay in Z11.
	VMOVDQU32     (SI), Z5
	VMOVDQU32     Z14, (SI)
	VPADDD        Z5, Z11, Z11
	VCVTDQ2PD     Y11, Z4
	VEXTRACTI32X8 $1, Z11, Y6
	VCVTDQ2PD     Y6, Z8
	VMULPD        Z4, Z4, Z0
	VMULPD        Z8, Z8, Z1
	VMULPD        (R8), Z4, Z2
	VMULPD        64(R8), Z8, Z3

park:
	// Park the row's lane sums in scratch slot R11.
	VADDPD     Z1, Z0, Z0
	VADDPD     Z3, Z2, Z2
	VADDPD     Z8, Z4, Z4
	MOVQ       scratch+48(FP), SI
	MOVQ       R11, BX
	SHLQ       $6, BX
	VMOVUPD    Z0, SCR_SL(SI)(BX*1)
	VMOVUPD    Z2, SCR_DOT(SI)(BX*1)
	VMOVUPD    Z4, SCR_WL(SI)(BX*1)
	MOVQ       AX, SCR_BIN(SI)(R11*8)
	TESTQ      R9, R9
	JZ         parked
	MOVQ       (R9)(AX*8), R13
	MOVQ       $0, (R9)(AX*8)
	ADDQ       R13, R10
	VCVTSI2SDQ R10, X5, X5
	VMOVSD     X5, SCR_NL(SI)(R11*8)

parked:
	INCQ R11
	CMPQ R11, $8
	JLT  bits

batch:
	// Score the R11 rows in scratch (SI).
	MOVQ   scratch+48(FP), SI
	REDUCE8(SCR_SL, Z24)
	REDUCE8(SCR_DOT, Z25)
	REDUCE8(SCR_WL, Z9)
	VADDPD Z25, Z25, Z10 // 2 tot·left
	VSUBPD Z10, Z31, Z10 // s0 - 2 tot·left
	VADDPD Z24, Z10, Z10 // sr = sum of (tot-left)²
	VSUBPD Z9, Z30, Z28  // wr = w - wl
	VMULPD Z28, Z24, Z29 // sl*wr
	VMULPD Z9, Z10, Z10  // sr*wl
	VADDPD Z10, Z29, Z29 // num
	VMULPD Z28, Z9, Z10  // den = wl*wr
	VDIVPD Z10, Z29, Z29 // the scores
	TESTQ  R9, R9
	JNZ    bycount
	VCMPPD $0x11, Z30, Z9, K2 // wl < w
	JMP    lanes

bycount:
	VMOVUPD SCR_NL(SI), Z16
	VCMPPD  $0x1d, Z26, Z16, K2 // nl >= lo
	VCMPPD  $0x12, Z27, Z16, K3 // nl <= hi
	KANDB   K3, K2, K2

lanes:
	// Rows that allow no boundary score -Inf; the first row with the highest score wins if it
	// beats the best so far (Go's sequential rule, all at once).
	LEAQ          batchmask<>(SB), R13
	MOVBLZX       (R13)(R11*1), R13
	KMOVB         R13, K3
	KANDB         K3, K2, K1
	MOVQ          $0xFFF0000000000000, R13
	VPBROADCASTQ  R13, Z28
	VMOVAPD       Z29, K1, Z28
	VEXTRACTF64X4 $1, Z28, Y16
	VMAXPD        Y16, Y28, Y16
	VEXTRACTF64X2 $1, Y16, X17
	VMAXPD        X17, X16, X16
	VPERMILPD     $1, X16, X17
	VMAXSD        X17, X16, X16
	VUCOMISD      X12, X16
	JLS           scored
	VMOVAPD       X16, X12
	VBROADCASTSD  X16, Z17
	VCMPPD        $0x00, Z17, Z28, K4
	KMOVB         K4, R13
	BSFQ          R13, BX
	MOVQ          SCR_BIN(SI)(BX*8), AX
	MOVQ          AX, bin+88(FP)

scored:
	XORQ R11, R11
	CMPQ R12, $256
	JLT  bits
	JMP  done

nextword:
	ADDQ $64, R12
	JMP  words

last:
	TESTQ R11, R11
	JNZ   batch

done:
	// Rows of 16 and 32 classes kept the left totals in Z11 and Z13.
	CMPQ      CX, $128
	JEQ       store32
	CMPQ      CX, $64
	JNE       stored
	VMOVDQU32 Z11, (DI)
	JMP       stored

store32:
	VMOVDQU32 Z11, (DI)
	VMOVDQU32 Z13, 64(DI)

stored:
	VMOVSD X12, best+96(FP)
	VZEROUPPER
	RET
