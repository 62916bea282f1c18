//go:build amd64 && !purego

#include "textflag.h"

// walkAVX512 (see walk_amd64.go). The lane groups below are the same code with their own
// registers; Z0 holds 0..15, Z1 f, Z2 nr, Z3 root, Z4 the even and Z5 the odd numbers 0..31.

DATA walkiota<>+0(SB)/4, $0
DATA walkiota<>+4(SB)/4, $1
DATA walkiota<>+8(SB)/4, $2
DATA walkiota<>+12(SB)/4, $3
DATA walkiota<>+16(SB)/4, $4
DATA walkiota<>+20(SB)/4, $5
DATA walkiota<>+24(SB)/4, $6
DATA walkiota<>+28(SB)/4, $7
DATA walkiota<>+32(SB)/4, $8
DATA walkiota<>+36(SB)/4, $9
DATA walkiota<>+40(SB)/4, $10
DATA walkiota<>+44(SB)/4, $11
DATA walkiota<>+48(SB)/4, $12
DATA walkiota<>+52(SB)/4, $13
DATA walkiota<>+56(SB)/4, $14
DATA walkiota<>+60(SB)/4, $15
DATA walkiota<>+64(SB)/4, $0
DATA walkiota<>+68(SB)/4, $2
DATA walkiota<>+72(SB)/4, $4
DATA walkiota<>+76(SB)/4, $6
DATA walkiota<>+80(SB)/4, $8
DATA walkiota<>+84(SB)/4, $10
DATA walkiota<>+88(SB)/4, $12
DATA walkiota<>+92(SB)/4, $14
DATA walkiota<>+96(SB)/4, $16
DATA walkiota<>+100(SB)/4, $18
DATA walkiota<>+104(SB)/4, $20
DATA walkiota<>+108(SB)/4, $22
DATA walkiota<>+112(SB)/4, $24
DATA walkiota<>+116(SB)/4, $26
DATA walkiota<>+120(SB)/4, $28
DATA walkiota<>+124(SB)/4, $30
DATA walkiota<>+128(SB)/4, $1
DATA walkiota<>+132(SB)/4, $3
DATA walkiota<>+136(SB)/4, $5
DATA walkiota<>+140(SB)/4, $7
DATA walkiota<>+144(SB)/4, $9
DATA walkiota<>+148(SB)/4, $11
DATA walkiota<>+152(SB)/4, $13
DATA walkiota<>+156(SB)/4, $15
DATA walkiota<>+160(SB)/4, $17
DATA walkiota<>+164(SB)/4, $19
DATA walkiota<>+168(SB)/4, $21
DATA walkiota<>+172(SB)/4, $23
DATA walkiota<>+176(SB)/4, $25
DATA walkiota<>+180(SB)/4, $27
DATA walkiota<>+184(SB)/4, $29
DATA walkiota<>+188(SB)/4, $31
GLOBL walkiota<>(SB), RODATA|NOPTR, $192

// func walkAVX512(pn *pnode, root int32, rows *uint32, f int, leaves *int32, nr int)
// Sends rows 0..nr-1 down the tree rooted at root (an inner node), writing its leaf (the negative child reached) into leaves.
// Row nr is scratch (lanes without a real row walk it and write leaves[nr]). 2 groups of 16
// lanes step in turn. A step gathers each lane's node as two qwords ({key, feat} and
// {left, right}), splits them with VPERMI2D, gathers the row value, and picks the child by a
// third VPERMI2D indexed by the comparison; a lane that reaches a leaf stores it (scatter) and
// takes the next row (expand) at once.
TEXT ·walkAVX512(SB), NOSPLIT, $0-48
	MOVQ pn+0(FP), SI
	MOVL root+8(FP), AX
	MOVQ rows+16(FP), DX
	MOVQ f+24(FP), BX
	MOVQ leaves+32(FP), DI
	MOVQ nr+40(FP), CX
	VMOVDQU32 walkiota<>+0(SB), Z0
	VMOVDQU32 walkiota<>+64(SB), Z4
	VMOVDQU32 walkiota<>+128(SB), Z5
	VPBROADCASTD BX, Z1
	VPBROADCASTD CX, Z2
	VPBROADCASTD AX, Z3
	XORQ R9, R9 // rows done
	MOVL $0, AX
	VPBROADCASTD AX, Z8
	VPADDD Z0, Z8, Z8
	VPMINUD Z2, Z8, Z8
	VPMULLD Z1, Z8, Z7
	VMOVDQA32 Z3, Z6
	MOVL $16, AX
	VPBROADCASTD AX, Z19
	VPADDD Z0, Z19, Z19
	VPMINUD Z2, Z19, Z19
	VPMULLD Z1, Z19, Z18
	VMOVDQA32 Z3, Z17
	MOVQ $32, R8 // next row
loop:
	VPADDD Z6, Z6, Z9
	VEXTRACTI32X8 $1, Z9, Y10
	KXNORW K0, K0, K1
	VPGATHERDQ (SI)(Y9*8), K1, Z11
	KXNORW K0, K0, K2
	VPGATHERDQ (SI)(Y10*8), K2, Z12
	KXNORW K0, K0, K1
	VPGATHERDQ 8(SI)(Y9*8), K1, Z13
	KXNORW K0, K0, K2
	VPGATHERDQ 8(SI)(Y10*8), K2, Z14
	VMOVDQA32 Z4, Z15
	VPERMI2D Z12, Z11, Z15
	VMOVDQA32 Z5, Z16
	VPERMI2D Z12, Z11, Z16
	VPADDD Z7, Z16, Z16
	KXNORW K0, K0, K1
	VPGATHERDD (DX)(Z16*4), K1, Z11
	VPCMPUD $6, Z15, Z11, K2
	VPBLENDMD Z5, Z4, K2, Z12
	VPERMI2D Z14, Z13, Z12
	VPMOVD2M Z12, K3
	KORTESTW K3, K3
	JEQ step0
	VPCMPUD $1, Z2, Z8, K3, K4
	KMOVW K4, AX
	POPCNTL AX, AX
	ADDQ AX, R9
	KMOVW K3, K5
	VPSCATTERDD Z12, K5, (DI)(Z8*4)
	VPBROADCASTD R8, Z15
	VPADDD Z0, Z15, Z15
	VPEXPANDD Z15, K3, Z8
	KMOVW K3, AX
	POPCNTL AX, AX
	ADDQ AX, R8
	VPMINUD Z2, Z8, Z8
	VPMULLD Z1, Z8, K3, Z7
	VMOVDQA32 Z3, K3, Z12
	CMPQ R9, CX
	JGE done
step0:
	VMOVDQA32 Z12, Z6
	VPADDD Z17, Z17, Z20
	VEXTRACTI32X8 $1, Z20, Y21
	KXNORW K0, K0, K1
	VPGATHERDQ (SI)(Y20*8), K1, Z22
	KXNORW K0, K0, K2
	VPGATHERDQ (SI)(Y21*8), K2, Z23
	KXNORW K0, K0, K1
	VPGATHERDQ 8(SI)(Y20*8), K1, Z24
	KXNORW K0, K0, K2
	VPGATHERDQ 8(SI)(Y21*8), K2, Z25
	VMOVDQA32 Z4, Z26
	VPERMI2D Z23, Z22, Z26
	VMOVDQA32 Z5, Z27
	VPERMI2D Z23, Z22, Z27
	VPADDD Z18, Z27, Z27
	KXNORW K0, K0, K1
	VPGATHERDD (DX)(Z27*4), K1, Z22
	VPCMPUD $6, Z26, Z22, K2
	VPBLENDMD Z5, Z4, K2, Z23
	VPERMI2D Z25, Z24, Z23
	VPMOVD2M Z23, K3
	KORTESTW K3, K3
	JEQ step1
	VPCMPUD $1, Z2, Z19, K3, K4
	KMOVW K4, AX
	POPCNTL AX, AX
	ADDQ AX, R9
	KMOVW K3, K5
	VPSCATTERDD Z23, K5, (DI)(Z19*4)
	VPBROADCASTD R8, Z26
	VPADDD Z0, Z26, Z26
	VPEXPANDD Z26, K3, Z19
	KMOVW K3, AX
	POPCNTL AX, AX
	ADDQ AX, R8
	VPMINUD Z2, Z19, Z19
	VPMULLD Z1, Z19, K3, Z18
	VMOVDQA32 Z3, K3, Z23
	CMPQ R9, CX
	JGE done
step1:
	VMOVDQA32 Z23, Z17
	JMP loop
done:
	VZEROUPPER
	RET
