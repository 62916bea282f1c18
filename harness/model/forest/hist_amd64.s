//go:build amd64 && !purego

#include "textflag.h"

// func sweepHistAVX512(hist *int32, nw *int64, nb, stride int, tot *float64, left *int32, w float64, wi int64, minLeaf, nn int32) (bin int, best float64, groups int)
//
// sweepHistGo one bin per iteration, 16 classes per step: Z0/Z1 sum the squared left totals,
// Z2/Z3 the squared right ones, Z4 the left totals themselves; Z14 is zero. Scalars: AX the bin,
// DX nb, CX the row length in bytes, SI the row, DI left, R8 tot, R9 nw, R10 the left count, R11
// the left weight, X11 w, X12 the best score. Every sum is of whole numbers below 2^53, so the
// order of the additions does not change them; the score is computed with the same operations,
// in the same order, as in Go.
TEXT ·sweepHistAVX512(SB), NOSPLIT, $0-96
	MOVQ hist+0(FP), SI
	MOVQ nw+8(FP), R9
	MOVQ nb+16(FP), DX
	MOVQ stride+24(FP), CX
	SHLQ $2, CX
	MOVQ tot+32(FP), R8
	MOVQ left+40(FP), DI
	VMOVSD w+48(FP), X11
	MOVQ $0xFFF0000000000000, R12
	VMOVQ R12, X12
	MOVQ $0, bin+72(FP)
	MOVQ $0, groups+88(FP)
	XORQ AX, AX
	XORQ R10, R10
	XORQ R11, R11
	VPXORD Z14, Z14, Z14

binloop:
	CMPQ AX, DX
	JGE  done
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	XORQ   BX, BX

chunk:
	VMOVDQU32     (SI)(BX*1), Z5
	VMOVDQU32     Z14, (SI)(BX*1)
	VPADDD        (DI)(BX*1), Z5, Z5
	VMOVDQU32     Z5, (DI)(BX*1)
	VPADDD        Z5, Z4, Z4
	VCVTDQ2PD     Y5, Z6
	VEXTRACTI32X8 $1, Z5, Y7
	VCVTDQ2PD     Y7, Z7
	VMOVUPD       (R8)(BX*2), Z8
	VSUBPD        Z6, Z8, Z8
	VMOVUPD       64(R8)(BX*2), Z9
	VSUBPD        Z7, Z9, Z9
	VFMADD231PD   Z6, Z6, Z0
	VFMADD231PD   Z7, Z7, Z1
	VFMADD231PD   Z8, Z8, Z2
	VFMADD231PD   Z9, Z9, Z3
	ADDQ          $64, BX
	CMPQ          BX, CX
	JLT           chunk

	// The left weight: the sum of Z4's lanes.
	VEXTRACTI32X8 $1, Z4, Y5
	VPADDD        Y5, Y4, Y4
	VEXTRACTI128  $1, Y4, X5
	VPADDD        X5, X4, X4
	VPSHUFD       $0x4e, X4, X5
	VPADDD        X5, X4, X4
	VPSHUFD       $0xb1, X4, X5
	VPADDD        X5, X4, X4
	VMOVD         X4, R12
	CMPQ          R12, R11
	JEQ           next // an empty bin
	MOVQ          R12, R11
	INCQ          groups+88(FP)
	TESTQ         R9, R9
	JZ            byweight
	MOVQ          (R9)(AX*8), R13
	MOVQ          $0, (R9)(AX*8)
	ADDL          R13, R10
	CMPL          R10, minLeaf+64(FP)
	JLT           next
	MOVL          nn+68(FP), R13
	SUBL          R10, R13
	CMPL          R13, minLeaf+64(FP)
	JLT           next
	JMP           score

byweight:
	CMPQ R11, wi+56(FP)
	JGE  next

score:
	// sl in X0, sr in X2.
	VADDPD        Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y5
	VADDPD        Y5, Y0, Y0
	VEXTRACTF128  $1, Y0, X5
	VADDPD        X5, X0, X0
	VPERMILPD     $1, X0, X5
	VADDSD        X5, X0, X0
	VADDPD        Z3, Z2, Z2
	VEXTRACTF64X4 $1, Z2, Y5
	VADDPD        Y5, Y2, Y2
	VEXTRACTF128  $1, Y2, X5
	VADDPD        X5, X2, X2
	VPERMILPD     $1, X2, X5
	VADDSD        X5, X2, X2

	VCVTSI2SDQ R11, X13, X13 // wl
	VSUBSD    X13, X11, X5  // wr = w - wl
	VMULSD    X5, X0, X6    // sl*wr
	VMULSD    X13, X2, X7   // sr*wl
	VADDSD    X7, X6, X6    // num
	VMULSD    X5, X13, X7   // den = wl*wr
	VMULSD    X7, X12, X8   // best*den
	VUCOMISD  X8, X6
	JLS       next
	VDIVSD    X7, X6, X12
	MOVQ      AX, bin+72(FP)

next:
	ADDQ CX, SI
	INCQ AX
	JMP  binloop

done:
	VMOVSD X12, best+80(FP)
	VZEROUPPER
	RET
