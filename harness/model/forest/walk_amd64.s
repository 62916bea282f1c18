//go:build amd64 && !purego

#include "textflag.h"

// walkAVX512 (see walk_amd64.go). The lane groups below are the same code with their own
// registers (eight each: node, row, then temporaries; a row's offset is recomputed every step);
// Z0 holds 0..15, Z1 f, Z2 nr, Z3 root, Z4 the even and Z5 the odd numbers 0..31.

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

// func walkAVX512(pn *pnode, root int32, rows *uint32, f int, leaves *int32, nr int, rowlog *int32)
// Sends rows 0..nr-1 down the tree rooted at root (an inner node), logging the leaf each reaches
// (the negative child, see pnode) and its row: the i-th row to finish is rowlog[i] and its leaf
// leaves[i] (both written 16 at a time: they need 16 slots beyond nr).
// Row nr is scratch (lanes without a real row walk it and are not logged). 3 groups of 16
// lanes step in turn. A step gathers each lane's node as two qwords ({key, feat} and
// {left, right}), splits them with VPERMI2D, gathers the row value, and picks the child by a
// third VPERMI2D indexed by the comparison; lanes that reached a leaf append it and their row to
// the logs (compressed into registers, then stored whole: a scatter costs a third of the walk)
// and take the next rows (expand) at once. That bookkeeping runs every step, masked, without a
// branch: some lane of a group finishes at most steps, so a branch would often mispredict.
TEXT ·walkAVX512(SB), NOSPLIT, $0-56
	MOVQ pn+0(FP), SI
	MOVL root+8(FP), AX
	MOVQ rows+16(FP), DX
	MOVQ f+24(FP), BX
	MOVQ leaves+32(FP), DI
	MOVQ nr+40(FP), CX
	MOVQ rowlog+48(FP), R11
	VMOVDQU32 walkiota<>+0(SB), Z0
	VMOVDQU32 walkiota<>+64(SB), Z4
	VMOVDQU32 walkiota<>+128(SB), Z5
	VPBROADCASTD BX, Z1
	VPBROADCASTD CX, Z2
	VPBROADCASTD AX, Z3
	XORQ R9, R9 // rows done
	MOVL $0, AX
	VPBROADCASTD AX, Z7
	VPADDD Z0, Z7, Z7
	VPMINUD Z2, Z7, Z7
	VMOVDQA32 Z3, Z6
	MOVL $16, AX
	VPBROADCASTD AX, Z15
	VPADDD Z0, Z15, Z15
	VPMINUD Z2, Z15, Z15
	VMOVDQA32 Z3, Z14
	MOVL $32, AX
	VPBROADCASTD AX, Z23
	VPADDD Z0, Z23, Z23
	VPMINUD Z2, Z23, Z23
	VMOVDQA32 Z3, Z22
	MOVQ $48, R8 // next row
loop:
	VPADDD Z6, Z6, Z8
	VEXTRACTI32X8 $1, Z8, Y9
	KXNORW K0, K0, K1
	VPGATHERDQ (SI)(Y8*8), K1, Z10
	KXNORW K0, K0, K2
	VPGATHERDQ (SI)(Y9*8), K2, Z11
	KXNORW K0, K0, K1
	VPGATHERDQ 8(SI)(Y8*8), K1, Z12
	KXNORW K0, K0, K2
	VPGATHERDQ 8(SI)(Y9*8), K2, Z13
	VMOVDQA32 Z4, Z8
	VPERMI2D Z11, Z10, Z8
	VMOVDQA32 Z5, Z9
	VPERMI2D Z11, Z10, Z9
	VPMULLD Z1, Z7, Z10
	VPADDD Z10, Z9, Z9
	KXNORW K0, K0, K1
	VPGATHERDD (DX)(Z9*4), K1, Z10
	VPCMPUD $6, Z8, Z10, K2
	VPBLENDMD Z5, Z4, K2, Z11
	VPERMI2D Z13, Z12, Z11
	VPMOVD2M Z11, K3
	VPCMPUD $1, Z2, Z7, K3, K4
	VPCOMPRESSD Z11, K4, Z30
	VPCOMPRESSD Z7, K4, Z31
	VMOVDQU32 Z30, (DI)(R9*4)
	VMOVDQU32 Z31, (R11)(R9*4)
	KMOVW K4, AX
	POPCNTL AX, AX
	ADDQ AX, R9
	VPBROADCASTD R8, Z8
	VPADDD Z0, Z8, Z8
	VPEXPANDD Z8, K3, Z7
	KMOVW K3, AX
	POPCNTL AX, AX
	ADDQ AX, R8
	VPMINUD Z2, Z7, Z7
	VMOVDQA32 Z3, K3, Z11
	CMPQ R9, CX
	JGE done
	VMOVDQA32 Z11, Z6
	VPADDD Z14, Z14, Z16
	VEXTRACTI32X8 $1, Z16, Y17
	KXNORW K0, K0, K1
	VPGATHERDQ (SI)(Y16*8), K1, Z18
	KXNORW K0, K0, K2
	VPGATHERDQ (SI)(Y17*8), K2, Z19
	KXNORW K0, K0, K1
	VPGATHERDQ 8(SI)(Y16*8), K1, Z20
	KXNORW K0, K0, K2
	VPGATHERDQ 8(SI)(Y17*8), K2, Z21
	VMOVDQA32 Z4, Z16
	VPERMI2D Z19, Z18, Z16
	VMOVDQA32 Z5, Z17
	VPERMI2D Z19, Z18, Z17
	VPMULLD Z1, Z15, Z18
	VPADDD Z18, Z17, Z17
	KXNORW K0, K0, K1
	VPGATHERDD (DX)(Z17*4), K1, Z18
	VPCMPUD $6, Z16, Z18, K2
	VPBLENDMD Z5, Z4, K2, Z19
	VPERMI2D Z21, Z20, Z19
	VPMOVD2M Z19, K3
	VPCMPUD $1, Z2, Z15, K3, K4
	VPCOMPRESSD Z19, K4, Z30
	VPCOMPRESSD Z15, K4, Z31
	VMOVDQU32 Z30, (DI)(R9*4)
	VMOVDQU32 Z31, (R11)(R9*4)
	KMOVW K4, AX
	POPCNTL AX, AX
	ADDQ AX, R9
	VPBROADCASTD R8, Z16
	VPADDD Z0, Z16, Z16
	VPEXPANDD Z16, K3, Z15
	KMOVW K3, AX
	POPCNTL AX, AX
	ADDQ AX, R8
	VPMINUD Z2, Z15, Z15
	VMOVDQA32 Z3, K3, Z19
	CMPQ R9, CX
	JGE done
	VMOVDQA32 Z19, Z14
	VPADDD Z22, Z22, Z24
	VEXTRACTI32X8 $1, Z24, Y25
	KXNORW K0, K0, K1
	VPGATHERDQ (SI)(Y24*8), K1, Z26
	KXNORW K0, K0, K2
	VPGATHERDQ (SI)(Y25*8), K2, Z27
	KXNORW K0, K0, K1
	VPGATHERDQ 8(SI)(Y24*8), K1, Z28
	KXNORW K0, K0, K2
	VPGATHERDQ 8(SI)(Y25*8), K2, Z29
	VMOVDQA32 Z4, Z24
	VPERMI2D Z27, Z26, Z24
	VMOVDQA32 Z5, Z25
	VPERMI2D Z27, Z26, Z25
	VPMULLD Z1, Z23, Z26
	VPADDD Z26, Z25, Z25
	KXNORW K0, K0, K1
	VPGATHERDD (DX)(Z25*4), K1, Z26
	VPCMPUD $6, Z24, Z26, K2
	VPBLENDMD Z5, Z4, K2, Z27
	VPERMI2D Z29, Z28, Z27
	VPMOVD2M Z27, K3
	VPCMPUD $1, Z2, Z23, K3, K4
	VPCOMPRESSD Z27, K4, Z30
	VPCOMPRESSD Z23, K4, Z31
	VMOVDQU32 Z30, (DI)(R9*4)
	VMOVDQU32 Z31, (R11)(R9*4)
	KMOVW K4, AX
	POPCNTL AX, AX
	ADDQ AX, R9
	VPBROADCASTD R8, Z24
	VPADDD Z0, Z24, Z24
	VPEXPANDD Z24, K3, Z23
	KMOVW K3, AX
	POPCNTL AX, AX
	ADDQ AX, R8
	VPMINUD Z2, Z23, Z23
	VMOVDQA32 Z3, K3, Z27
	CMPQ R9, CX
	JGE done
	VMOVDQA32 Z27, Z22
	JMP loop
done:
	VZEROUPPER
	RET
