//go:build amd64 && !purego

#include "textflag.h"

// hash8AVX512 hashes 8 messages prefix ‖ D_l of equal length at once, one
// message per 64-bit lane of the ZMM registers, with the same blocks,
// counters and final flag in every lane.
//
// Message words are read from D_l at offsets that are multiples of 8 and
// shifted left by the prefix length (8 bits or none), the top byte of each
// word moving into the next word: the prefix is the top byte of the word
// before D_l. So block j of every message is made of bytes 128j to 128j+127
// of D_l and the carried byte, whatever the prefix.
// The blocks before the final one are read from D_l directly; the final
// block's bytes are read with byte masks that stop at the end of D_l, the
// other bytes zero (masked-off bytes do not fault). The 8x16 words loaded
// are transposed so that register w holds word w of every lane, and stored
// in the frame, from where the rounds add them.
//
// The final block skips adding the words that lie past the end of the
// message, which are zero, when there are 7 or more of them: COMPRESS is
// expanded four times, for 16, 9, 5 and 1 words.

// Offsets of the fields of job (kernel_amd64.go).
#define J_NFULL 64
#define J_TOTAL 72
#define J_CARRY 80
#define J_SHL 88
#define J_SHR 96
#define J_MASKLO 104
#define J_MASKHI 112
#define J_WORDS 120

// Register use in hash8AVX512. Lane l of a ZMM register holds a 64-bit word
// of message l.
//
//	AX BX CX DX R8 R9 R10 R11  start of the next block of D_0 ... D_7
//	R12                        blocks left before the final one
//	R13                        byte counter; the final block's word count
//	DI                         the job
//	SI                         scratch
//	K1, K2                     byte masks of the final block's two halves
//	Z0-Z15                     the working vector v0-v15; scratch while loading
//	Z16-Z23                    the chain value h0-h7
//	Z24                        the word before the block being loaded
//	X25, X26                   left and right shift counts
//	Z27, Z28                   iv6 and ^iv6: v14 of a block and of the final block
//	Z29                        v14 of the block being compressed
//
// The frame holds the 16 transposed message words of the block: word w of
// the 8 lanes at w*64(SP).

// G4 applies the mixing function G to four independent column (or diagonal)
// quadruples at once: (a0,b0,c0,d0) with message words x0 and y0, and so on.
// The message words are macros that add the word to their argument (MW0 to
// MW15, defined below).
#define G4(a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3, x0, x1, x2, x3, y0, y1, y2, y3) \
	x0(a0);                     \
	x1(a1);                     \
	x2(a2);                     \
	x3(a3);                     \
	VPADDQ b0, a0, a0;          \
	VPADDQ b1, a1, a1;          \
	VPADDQ b2, a2, a2;          \
	VPADDQ b3, a3, a3;          \
	VPXORQ a0, d0, d0;          \
	VPXORQ a1, d1, d1;          \
	VPXORQ a2, d2, d2;          \
	VPXORQ a3, d3, d3;          \
	VPRORQ $32, d0, d0;         \
	VPRORQ $32, d1, d1;         \
	VPRORQ $32, d2, d2;         \
	VPRORQ $32, d3, d3;         \
	VPADDQ d0, c0, c0;          \
	VPADDQ d1, c1, c1;          \
	VPADDQ d2, c2, c2;          \
	VPADDQ d3, c3, c3;          \
	VPXORQ c0, b0, b0;          \
	VPXORQ c1, b1, b1;          \
	VPXORQ c2, b2, b2;          \
	VPXORQ c3, b3, b3;          \
	VPRORQ $24, b0, b0;         \
	VPRORQ $24, b1, b1;         \
	VPRORQ $24, b2, b2;         \
	VPRORQ $24, b3, b3;         \
	y0(a0);                     \
	y1(a1);                     \
	y2(a2);                     \
	y3(a3);                     \
	VPADDQ b0, a0, a0;          \
	VPADDQ b1, a1, a1;          \
	VPADDQ b2, a2, a2;          \
	VPADDQ b3, a3, a3;          \
	VPXORQ a0, d0, d0;          \
	VPXORQ a1, d1, d1;          \
	VPXORQ a2, d2, d2;          \
	VPXORQ a3, d3, d3;          \
	VPRORQ $16, d0, d0;         \
	VPRORQ $16, d1, d1;         \
	VPRORQ $16, d2, d2;         \
	VPRORQ $16, d3, d3;         \
	VPADDQ d0, c0, c0;          \
	VPADDQ d1, c1, c1;          \
	VPADDQ d2, c2, c2;          \
	VPADDQ d3, c3, c3;          \
	VPXORQ c0, b0, b0;          \
	VPXORQ c1, b1, b1;          \
	VPXORQ c2, b2, b2;          \
	VPXORQ c3, b3, b3;          \
	VPRORQ $63, b0, b0;         \
	VPRORQ $63, b1, b1;         \
	VPRORQ $63, b2, b2;         \
	VPRORQ $63, b3, b3

// ROUND is one round: the column step, then the diagonal step, with the
// message words permuted by s0...s15 (a row of sigma, as MW macros).
#define ROUND(s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15) \
	G4(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15, s0, s2, s4, s6, s1, s3, s5, s7); \
	G4(Z0, Z1, Z2, Z3, Z5, Z6, Z7, Z4, Z10, Z11, Z8, Z9, Z15, Z12, Z13, Z14, s8, s10, s12, s14, s9, s11, s13, s15)

// COMPRESS folds the block in the frame into h0-h7. SI holds the byte
// counter after the block, v14 the initial value of v14. It expands with
// the definitions of MW0 to MW15 in force where it is used.
#define COMPRESS(v14) \
	VMOVDQA64 Z16, Z0;                \
	VMOVDQA64 Z17, Z1;                \
	VMOVDQA64 Z18, Z2;                \
	VMOVDQA64 Z19, Z3;                \
	VMOVDQA64 Z20, Z4;                \
	VMOVDQA64 Z21, Z5;                \
	VMOVDQA64 Z22, Z6;                \
	VMOVDQA64 Z23, Z7;                \
	VPBROADCASTQ ·iv+0(SB), Z8;       \
	VPBROADCASTQ ·iv+8(SB), Z9;       \
	VPBROADCASTQ ·iv+16(SB), Z10;     \
	VPBROADCASTQ ·iv+24(SB), Z11;     \
	XORQ ·iv+32(SB), SI;              \
	VPBROADCASTQ SI, Z12;             \
	VPBROADCASTQ ·iv+40(SB), Z13;     \
	VMOVDQA64 v14, Z14;               \
	VPBROADCASTQ ·iv+56(SB), Z15;     \
	ROUND(MW0, MW1, MW2, MW3, MW4, MW5, MW6, MW7, MW8, MW9, MW10, MW11, MW12, MW13, MW14, MW15); \
	ROUND(MW14, MW10, MW4, MW8, MW9, MW15, MW13, MW6, MW1, MW12, MW0, MW2, MW11, MW7, MW5, MW3); \
	ROUND(MW11, MW8, MW12, MW0, MW5, MW2, MW15, MW13, MW10, MW14, MW3, MW6, MW7, MW1, MW9, MW4); \
	ROUND(MW7, MW9, MW3, MW1, MW13, MW12, MW11, MW14, MW2, MW6, MW5, MW10, MW4, MW0, MW15, MW8); \
	ROUND(MW9, MW0, MW5, MW7, MW2, MW4, MW10, MW15, MW14, MW1, MW11, MW12, MW6, MW8, MW3, MW13); \
	ROUND(MW2, MW12, MW6, MW10, MW0, MW11, MW8, MW3, MW4, MW13, MW7, MW5, MW15, MW14, MW1, MW9); \
	ROUND(MW12, MW5, MW1, MW15, MW14, MW13, MW4, MW10, MW0, MW7, MW6, MW3, MW9, MW2, MW8, MW11); \
	ROUND(MW13, MW11, MW7, MW14, MW12, MW1, MW3, MW9, MW5, MW0, MW15, MW4, MW8, MW6, MW2, MW10); \
	ROUND(MW6, MW15, MW14, MW9, MW11, MW3, MW0, MW8, MW12, MW2, MW13, MW7, MW1, MW4, MW10, MW5); \
	ROUND(MW10, MW2, MW8, MW4, MW7, MW6, MW1, MW5, MW15, MW11, MW9, MW14, MW3, MW12, MW13, MW0); \
	ROUND(MW0, MW1, MW2, MW3, MW4, MW5, MW6, MW7, MW8, MW9, MW10, MW11, MW12, MW13, MW14, MW15); \
	ROUND(MW14, MW10, MW4, MW8, MW9, MW15, MW13, MW6, MW1, MW12, MW0, MW2, MW11, MW7, MW5, MW3); \
	VPTERNLOGQ $0x96, Z8, Z0, Z16;    \
	VPTERNLOGQ $0x96, Z9, Z1, Z17;    \
	VPTERNLOGQ $0x96, Z10, Z2, Z18;   \
	VPTERNLOGQ $0x96, Z11, Z3, Z19;   \
	VPTERNLOGQ $0x96, Z12, Z4, Z20;   \
	VPTERNLOGQ $0x96, Z13, Z5, Z21;   \
	VPTERNLOGQ $0x96, Z14, Z6, Z22;   \
	VPTERNLOGQ $0x96, Z15, Z7, Z23

// TRANSPOSE turns the rows Z0-Z7 (row l: 8 words of lane l) into the
// columns Z8-Z15 (Z8+w: word w of every lane), using Z0-Z15.
#define TRANSPOSE \
	VPUNPCKLQDQ Z1, Z0, Z8;           \
	VPUNPCKHQDQ Z1, Z0, Z9;           \
	VPUNPCKLQDQ Z3, Z2, Z10;          \
	VPUNPCKHQDQ Z3, Z2, Z11;          \
	VPUNPCKLQDQ Z5, Z4, Z12;          \
	VPUNPCKHQDQ Z5, Z4, Z13;          \
	VPUNPCKLQDQ Z7, Z6, Z14;          \
	VPUNPCKHQDQ Z7, Z6, Z15;          \
	VSHUFI64X2  $0x88, Z10, Z8, Z0;   \
	VSHUFI64X2  $0xdd, Z10, Z8, Z1;   \
	VSHUFI64X2  $0x88, Z11, Z9, Z2;   \
	VSHUFI64X2  $0xdd, Z11, Z9, Z3;   \
	VSHUFI64X2  $0x88, Z14, Z12, Z4;  \
	VSHUFI64X2  $0xdd, Z14, Z12, Z5;  \
	VSHUFI64X2  $0x88, Z15, Z13, Z6;  \
	VSHUFI64X2  $0xdd, Z15, Z13, Z7;  \
	VSHUFI64X2  $0x88, Z4, Z0, Z8;    \
	VSHUFI64X2  $0xdd, Z4, Z0, Z12;   \
	VSHUFI64X2  $0x88, Z5, Z1, Z10;   \
	VSHUFI64X2  $0xdd, Z5, Z1, Z14;   \
	VSHUFI64X2  $0x88, Z6, Z2, Z9;    \
	VSHUFI64X2  $0xdd, Z6, Z2, Z13;   \
	VSHUFI64X2  $0x88, Z7, Z3, Z11;   \
	VSHUFI64X2  $0xdd, Z7, Z3, Z15

// SHIFT1 stores message word w: the word x shifted left by the prefix
// length, with the top bits of the previous word prev shifted in.
#define SHIFT1(w, x, prev, t, u) \
	VPSLLQ X25, x, t;            \
	VPSRLQ X26, prev, u;         \
	VPORQ  u, t, t;              \
	VMOVDQU64 t, (w*64)(SP)

// SHIFT stores message words w0 to w0+7 from the columns Z8-Z15 and
// leaves the last column in Z24 for the next eight words.
#define SHIFT(w0) \
	SHIFT1((w0+0), Z8, Z24, Z0, Z1);  \
	SHIFT1((w0+1), Z9, Z8, Z2, Z3);   \
	SHIFT1((w0+2), Z10, Z9, Z4, Z5);  \
	SHIFT1((w0+3), Z11, Z10, Z6, Z7); \
	SHIFT1((w0+4), Z12, Z11, Z0, Z1); \
	SHIFT1((w0+5), Z13, Z12, Z2, Z3); \
	SHIFT1((w0+6), Z14, Z13, Z4, Z5); \
	SHIFT1((w0+7), Z15, Z14, Z6, Z7); \
	VMOVDQA64 Z15, Z24

// LOAD loads the rows of the words at byte offset off of the lanes' blocks.
#define LOAD(off) \
	VMOVDQU64 off(AX), Z0;  \
	VMOVDQU64 off(BX), Z1;  \
	VMOVDQU64 off(CX), Z2;  \
	VMOVDQU64 off(DX), Z3;  \
	VMOVDQU64 off(R8), Z4;  \
	VMOVDQU64 off(R9), Z5;  \
	VMOVDQU64 off(R10), Z6; \
	VMOVDQU64 off(R11), Z7

// LOADMASKED is LOAD of the bytes selected by the mask k, the others zero.
#define LOADMASKED(off, k) \
	VMOVDQU8.Z off(AX), k, Z0;  \
	VMOVDQU8.Z off(BX), k, Z1;  \
	VMOVDQU8.Z off(CX), k, Z2;  \
	VMOVDQU8.Z off(DX), k, Z3;  \
	VMOVDQU8.Z off(R8), k, Z4;  \
	VMOVDQU8.Z off(R9), k, Z5;  \
	VMOVDQU8.Z off(R10), k, Z6; \
	VMOVDQU8.Z off(R11), k, Z7

// MWw adds message word w to its argument. hash8AVX512 redefines MW1 to
// MW15 as nothing before it expands COMPRESS for final blocks whose later
// words are all zero.
#define MW0(r) VPADDQ (0*64)(SP), r, r
#define MW1(r) VPADDQ (1*64)(SP), r, r
#define MW2(r) VPADDQ (2*64)(SP), r, r
#define MW3(r) VPADDQ (3*64)(SP), r, r
#define MW4(r) VPADDQ (4*64)(SP), r, r
#define MW5(r) VPADDQ (5*64)(SP), r, r
#define MW6(r) VPADDQ (6*64)(SP), r, r
#define MW7(r) VPADDQ (7*64)(SP), r, r
#define MW8(r) VPADDQ (8*64)(SP), r, r
#define MW9(r) VPADDQ (9*64)(SP), r, r
#define MW10(r) VPADDQ (10*64)(SP), r, r
#define MW11(r) VPADDQ (11*64)(SP), r, r
#define MW12(r) VPADDQ (12*64)(SP), r, r
#define MW13(r) VPADDQ (13*64)(SP), r, r
#define MW14(r) VPADDQ (14*64)(SP), r, r
#define MW15(r) VPADDQ (15*64)(SP), r, r

// func hash8AVX512(out *[8][32]byte, j *job)
TEXT ·hash8AVX512(SB), 0, $1024-16
	MOVQ j+8(FP), DI
	MOVQ 0(DI), AX
	MOVQ 8(DI), BX
	MOVQ 16(DI), CX
	MOVQ 24(DI), DX
	MOVQ 32(DI), R8
	MOVQ 40(DI), R9
	MOVQ 48(DI), R10
	MOVQ 56(DI), R11
	MOVQ J_NFULL(DI), R12
	XORQ R13, R13

	// h = iv xor the parameter block.
	MOVQ ·iv+0(SB), SI
	XORQ $0x01010020, SI
	VPBROADCASTQ SI, Z16
	VPBROADCASTQ ·iv+8(SB), Z17
	VPBROADCASTQ ·iv+16(SB), Z18
	VPBROADCASTQ ·iv+24(SB), Z19
	VPBROADCASTQ ·iv+32(SB), Z20
	VPBROADCASTQ ·iv+40(SB), Z21
	VPBROADCASTQ ·iv+48(SB), Z22
	VPBROADCASTQ ·iv+56(SB), Z23

	VPBROADCASTQ J_CARRY(DI), Z24
	VMOVQ J_SHL(DI), X25
	VMOVQ J_SHR(DI), X26
	MOVQ ·iv+48(SB), SI
	VPBROADCASTQ SI, Z27
	NOTQ SI
	VPBROADCASTQ SI, Z28
	KMOVQ J_MASKLO(DI), K1
	KMOVQ J_MASKHI(DI), K2

next:
	// R12 counts the blocks left before the final one, and is -1 once
	// the final block is compressed.
	TESTQ R12, R12
	JS    done
	JZ    final
	DECQ  R12
	LOAD(0)
	TRANSPOSE
	SHIFT(0)
	LOAD(64)
	TRANSPOSE
	SHIFT(8)
	ADDQ $128, AX
	ADDQ $128, BX
	ADDQ $128, CX
	ADDQ $128, DX
	ADDQ $128, R8
	ADDQ $128, R9
	ADDQ $128, R10
	ADDQ $128, R11
	ADDQ $128, R13
	MOVQ R13, SI
	VMOVDQA64 Z27, Z29
	JMP  compress16

final:
	MOVQ $-1, R12
	LOADMASKED(0, K1)
	TRANSPOSE
	SHIFT(0)
	KORTESTQ K2, K2
	JZ       short
	LOADMASKED(64, K2)
	TRANSPOSE
	SHIFT(8)
	JMP      pick

short:
	// No byte of the second half of the block comes from D: word 8 is
	// the top byte of word 7 (or nothing), words 9 to 15 are zero.
	VPSRLQ    X26, Z24, Z0
	VMOVDQU64 Z0, (8*64)(SP)
	VPXORQ    Z1, Z1, Z1
	VMOVDQU64 Z1, (9*64)(SP)
	VMOVDQU64 Z1, (10*64)(SP)
	VMOVDQU64 Z1, (11*64)(SP)
	VMOVDQU64 Z1, (12*64)(SP)
	VMOVDQU64 Z1, (13*64)(SP)
	VMOVDQU64 Z1, (14*64)(SP)
	VMOVDQU64 Z1, (15*64)(SP)

pick:
	// Words past the end of the message are zero: the final block skips
	// adding them when there are few.
	MOVQ      J_TOTAL(DI), SI
	VMOVDQA64 Z28, Z29
	MOVQ      J_WORDS(DI), R13
	CMPQ      R13, $1
	JLE       compress1
	CMPQ      R13, $5
	JLE       compress5
	CMPQ      R13, $9
	JLE       compress9

compress16:
	COMPRESS(Z29)
	JMP next

#undef MW9
#undef MW10
#undef MW11
#undef MW12
#undef MW13
#undef MW14
#undef MW15
#define MW9(r)
#define MW10(r)
#define MW11(r)
#define MW12(r)
#define MW13(r)
#define MW14(r)
#define MW15(r)

compress9:
	COMPRESS(Z29)
	JMP next

#undef MW5
#undef MW6
#undef MW7
#undef MW8
#define MW5(r)
#define MW6(r)
#define MW7(r)
#define MW8(r)

compress5:
	COMPRESS(Z29)
	JMP next

#undef MW1
#undef MW2
#undef MW3
#undef MW4
#define MW1(r)
#define MW2(r)
#define MW3(r)
#define MW4(r)

compress1:
	COMPRESS(Z29)
	JMP next

done:
	// Transpose h0-h3 into the lanes' digests: the 128-bit halves of
	// digest 2c are chunk c of Z0 and Z2, those of digest 2c+1 chunk c
	// of Z1 and Z3.
	MOVQ out+0(FP), SI
	VPUNPCKLQDQ Z17, Z16, Z0
	VPUNPCKHQDQ Z17, Z16, Z1
	VPUNPCKLQDQ Z19, Z18, Z2
	VPUNPCKHQDQ Z19, Z18, Z3
	VSHUFI64X2  $0x44, Z2, Z0, Z4
	VSHUFI64X2  $0xd8, Z4, Z4, Z4
	VSHUFI64X2  $0xee, Z2, Z0, Z5
	VSHUFI64X2  $0xd8, Z5, Z5, Z5
	VSHUFI64X2  $0x44, Z3, Z1, Z6
	VSHUFI64X2  $0xd8, Z6, Z6, Z6
	VSHUFI64X2  $0xee, Z3, Z1, Z7
	VSHUFI64X2  $0xd8, Z7, Z7, Z7
	VMOVDQU       Y4, 0(SI)
	VMOVDQU       Y6, 32(SI)
	VEXTRACTI64X4 $1, Z4, 64(SI)
	VEXTRACTI64X4 $1, Z6, 96(SI)
	VMOVDQU       Y5, 128(SI)
	VMOVDQU       Y7, 160(SI)
	VEXTRACTI64X4 $1, Z5, 192(SI)
	VEXTRACTI64X4 $1, Z7, 224(SI)
	VZEROUPPER
	RET
