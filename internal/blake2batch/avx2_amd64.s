//go:build amd64 && !purego

#include "textflag.h"

// hash4AVX2 hashes 4 messages prefix ‖ D_l of equal length at once, one
// message per 64-bit lane of the YMM registers, as hash8AVX512 does with 8
// (see avx512_amd64.s), except that the final block is read from the job's
// tail buffers, where the caller has copied it zero-padded: AVX2 has no
// byte-masked loads.

// Offsets of the fields of job (kernel_amd64.go).
#define J_NFULL 64
#define J_TOTAL 72
#define J_CARRY 80
#define J_SHL 88
#define J_SHR 96
#define J_TAIL 128

// Byte shuffles that rotate each 64-bit word right by 24 and 16 bits.
DATA rot24<>+0(SB)/8, $0x0201000706050403
DATA rot24<>+8(SB)/8, $0x0a09080f0e0d0c0b
DATA rot24<>+16(SB)/8, $0x0201000706050403
DATA rot24<>+24(SB)/8, $0x0a09080f0e0d0c0b
GLOBL rot24<>(SB), RODATA|NOPTR, $32

DATA rot16<>+0(SB)/8, $0x0100070605040302
DATA rot16<>+8(SB)/8, $0x09080f0e0d0c0b0a
DATA rot16<>+16(SB)/8, $0x0100070605040302
DATA rot16<>+24(SB)/8, $0x09080f0e0d0c0b0a
GLOBL rot16<>(SB), RODATA|NOPTR, $32

// Register use in hash4AVX2. Lane l of a YMM register holds a 64-bit word
// of message l.
//
//	AX BX CX DX  start of the next block of D_0 ... D_3
//	R12          blocks left before the final one
//	R13          byte counter
//	DI           the job
//	SI R8 R9     scratch
//	Y0-Y15       the working vector v0-v15; scratch while loading
//
// While a block is loaded, Y12 holds the word before the words being
// loaded, X14 and X15 the left and right shift counts.

// Frame layout.
#define F_MSG 0    // 16 transposed message words of 32 bytes
#define F_H 512    // the chain value h0-h7
#define F_CARRY 768 // the last word of the previous block
#define F_SPILL 800 // one spilled register
#define F_V14 832   // v14 of the block: iv6, or ^iv6 for the final block

// G4 applies the mixing function G to four independent column (or diagonal)
// quadruples at once: (a0,b0,c0,d0) with message words x0 and y0, and so on.
// AVX2 has no rotate: rotations by 32, 24 and 16 bits shuffle bytes, and
// the rotation by 63 bits needs a scratch register, for which c0 is
// spilled.
#define G4(a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3, x0, x1, x2, x3, y0, y1, y2, y3) \
	VPADDQ (x0*32)(SP), a0, a0;    \
	VPADDQ (x1*32)(SP), a1, a1;    \
	VPADDQ (x2*32)(SP), a2, a2;    \
	VPADDQ (x3*32)(SP), a3, a3;    \
	VPADDQ b0, a0, a0;             \
	VPADDQ b1, a1, a1;             \
	VPADDQ b2, a2, a2;             \
	VPADDQ b3, a3, a3;             \
	VPXOR  a0, d0, d0;             \
	VPXOR  a1, d1, d1;             \
	VPXOR  a2, d2, d2;             \
	VPXOR  a3, d3, d3;             \
	VPSHUFD $0xb1, d0, d0;         \
	VPSHUFD $0xb1, d1, d1;         \
	VPSHUFD $0xb1, d2, d2;         \
	VPSHUFD $0xb1, d3, d3;         \
	VPADDQ d0, c0, c0;             \
	VPADDQ d1, c1, c1;             \
	VPADDQ d2, c2, c2;             \
	VPADDQ d3, c3, c3;             \
	VPXOR  c0, b0, b0;             \
	VPXOR  c1, b1, b1;             \
	VPXOR  c2, b2, b2;             \
	VPXOR  c3, b3, b3;             \
	VPSHUFB rot24<>(SB), b0, b0;   \
	VPSHUFB rot24<>(SB), b1, b1;   \
	VPSHUFB rot24<>(SB), b2, b2;   \
	VPSHUFB rot24<>(SB), b3, b3;   \
	VPADDQ (y0*32)(SP), a0, a0;    \
	VPADDQ (y1*32)(SP), a1, a1;    \
	VPADDQ (y2*32)(SP), a2, a2;    \
	VPADDQ (y3*32)(SP), a3, a3;    \
	VPADDQ b0, a0, a0;             \
	VPADDQ b1, a1, a1;             \
	VPADDQ b2, a2, a2;             \
	VPADDQ b3, a3, a3;             \
	VPXOR  a0, d0, d0;             \
	VPXOR  a1, d1, d1;             \
	VPXOR  a2, d2, d2;             \
	VPXOR  a3, d3, d3;             \
	VPSHUFB rot16<>(SB), d0, d0;   \
	VPSHUFB rot16<>(SB), d1, d1;   \
	VPSHUFB rot16<>(SB), d2, d2;   \
	VPSHUFB rot16<>(SB), d3, d3;   \
	VPADDQ d0, c0, c0;             \
	VPADDQ d1, c1, c1;             \
	VPADDQ d2, c2, c2;             \
	VPADDQ d3, c3, c3;             \
	VPXOR  c0, b0, b0;             \
	VPXOR  c1, b1, b1;             \
	VPXOR  c2, b2, b2;             \
	VPXOR  c3, b3, b3;             \
	VMOVDQU c0, F_SPILL(SP);       \
	VPSRLQ $63, b0, c0;            \
	VPADDQ b0, b0, b0;             \
	VPOR   c0, b0, b0;             \
	VPSRLQ $63, b1, c0;            \
	VPADDQ b1, b1, b1;             \
	VPOR   c0, b1, b1;             \
	VPSRLQ $63, b2, c0;            \
	VPADDQ b2, b2, b2;             \
	VPOR   c0, b2, b2;             \
	VPSRLQ $63, b3, c0;            \
	VPADDQ b3, b3, b3;             \
	VPOR   c0, b3, b3;             \
	VMOVDQU F_SPILL(SP), c0

// ROUND is one round: the column step, then the diagonal step, with the
// message words permuted by s0...s15 (a row of sigma).
#define ROUND(s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15) \
	G4(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15, s0, s2, s4, s6, s1, s3, s5, s7); \
	G4(Y0, Y1, Y2, Y3, Y5, Y6, Y7, Y4, Y10, Y11, Y8, Y9, Y15, Y12, Y13, Y14, s8, s10, s12, s14, s9, s11, s13, s15)

// COMPRESS folds the block in the frame into the chain value in the frame.
// SI holds the byte counter after the block; F_V14 the initial v14.
#define COMPRESS \
	VMOVDQU (F_H+0*32)(SP), Y0;   \
	VMOVDQU (F_H+1*32)(SP), Y1;   \
	VMOVDQU (F_H+2*32)(SP), Y2;   \
	VMOVDQU (F_H+3*32)(SP), Y3;   \
	VMOVDQU (F_H+4*32)(SP), Y4;   \
	VMOVDQU (F_H+5*32)(SP), Y5;   \
	VMOVDQU (F_H+6*32)(SP), Y6;   \
	VMOVDQU (F_H+7*32)(SP), Y7;   \
	VPBROADCASTQ ·iv+0(SB), Y8;   \
	VPBROADCASTQ ·iv+8(SB), Y9;   \
	VPBROADCASTQ ·iv+16(SB), Y10; \
	VPBROADCASTQ ·iv+24(SB), Y11; \
	XORQ ·iv+32(SB), SI;          \
	MOVQ SI, X12;                 \
	VPBROADCASTQ X12, Y12;        \
	VPBROADCASTQ ·iv+40(SB), Y13; \
	VPBROADCASTQ F_V14(SP), Y14;  \
	VPBROADCASTQ ·iv+56(SB), Y15; \
	ROUND(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); \
	ROUND(14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3); \
	ROUND(11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4); \
	ROUND(7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8); \
	ROUND(9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13); \
	ROUND(2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9); \
	ROUND(12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11); \
	ROUND(13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10); \
	ROUND(6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5); \
	ROUND(10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0); \
	ROUND(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); \
	ROUND(14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3); \
	FOLD(0, Y0, Y8);  \
	FOLD(1, Y1, Y9);  \
	FOLD(2, Y2, Y10); \
	FOLD(3, Y3, Y11); \
	FOLD(4, Y4, Y12); \
	FOLD(5, Y5, Y13); \
	FOLD(6, Y6, Y14); \
	FOLD(7, Y7, Y15)

// FOLD sets h_i ^= lo ^ hi.
#define FOLD(i, lo, hi) \
	VPXOR hi, lo, lo;                 \
	VPXOR (F_H+i*32)(SP), lo, lo;     \
	VMOVDQU lo, (F_H+i*32)(SP)

// TRANSPOSE turns the rows Y0-Y3 (row l: 4 words of lane l) into the
// columns Y8-Y11 (Y8+w: word w of every lane), using Y4-Y7.
#define TRANSPOSE \
	VPUNPCKLQDQ Y1, Y0, Y4;        \
	VPUNPCKHQDQ Y1, Y0, Y5;        \
	VPUNPCKLQDQ Y3, Y2, Y6;        \
	VPUNPCKHQDQ Y3, Y2, Y7;        \
	VPERM2I128  $0x20, Y6, Y4, Y8; \
	VPERM2I128  $0x20, Y7, Y5, Y9; \
	VPERM2I128  $0x31, Y6, Y4, Y10; \
	VPERM2I128  $0x31, Y7, Y5, Y11

// SHIFT1 stores message word w: the word x shifted left by the prefix
// length, with the top bits of the previous word prev shifted in.
#define SHIFT1(w, x, prev, t, u) \
	VPSLLQ X14, x, t;            \
	VPSRLQ X15, prev, u;         \
	VPOR   u, t, t;              \
	VMOVDQU t, (w*32)(SP)

// SHIFT stores message words w0 to w0+3 from the columns Y8-Y11 and leaves
// the last column in Y12 for the next four words.
#define SHIFT(w0) \
	SHIFT1((w0+0), Y8, Y12, Y0, Y1);  \
	SHIFT1((w0+1), Y9, Y8, Y2, Y3);   \
	SHIFT1((w0+2), Y10, Y9, Y4, Y5);  \
	SHIFT1((w0+3), Y11, Y10, Y6, Y7); \
	VMOVDQA Y11, Y12

// LOAD4 loads four lanes' rows from the addresses r0 to r3.
#define LOAD4(r0, r1, r2, r3) \
	VMOVDQU r0, Y0; \
	VMOVDQU r1, Y1; \
	VMOVDQU r2, Y2; \
	VMOVDQU r3, Y3

// LOADBLOCK transposes and stores the block of 128 bytes at b0 to b3 (each
// a displacement and a base), starting from the carry in the frame.
#define LOADBLOCK(d0, b0, d1, b1, d2, b2, d3, b3) \
	VMOVQ J_SHL(DI), X14;         \
	VMOVQ J_SHR(DI), X15;         \
	VMOVDQU F_CARRY(SP), Y12;     \
	LOAD4((d0+0)(b0), (d1+0)(b1), (d2+0)(b2), (d3+0)(b3));     \
	TRANSPOSE;                    \
	SHIFT(0);                     \
	LOAD4((d0+32)(b0), (d1+32)(b1), (d2+32)(b2), (d3+32)(b3)); \
	TRANSPOSE;                    \
	SHIFT(4);                     \
	LOAD4((d0+64)(b0), (d1+64)(b1), (d2+64)(b2), (d3+64)(b3)); \
	TRANSPOSE;                    \
	SHIFT(8);                     \
	LOAD4((d0+96)(b0), (d1+96)(b1), (d2+96)(b2), (d3+96)(b3)); \
	TRANSPOSE;                    \
	SHIFT(12);                    \
	VMOVDQU Y12, F_CARRY(SP)

// func hash4AVX2(out *[4][32]byte, j *job)
TEXT ·hash4AVX2(SB), 0, $840-16
	MOVQ j+8(FP), DI
	MOVQ 0(DI), AX
	MOVQ 8(DI), BX
	MOVQ 16(DI), CX
	MOVQ 24(DI), DX
	MOVQ J_NFULL(DI), R12
	XORQ R13, R13

	// h = iv xor the parameter block.
	MOVQ ·iv+0(SB), SI
	XORQ $0x01010020, SI
	MOVQ SI, X0
	VPBROADCASTQ X0, Y0
	VPBROADCASTQ ·iv+8(SB), Y1
	VPBROADCASTQ ·iv+16(SB), Y2
	VPBROADCASTQ ·iv+24(SB), Y3
	VPBROADCASTQ ·iv+32(SB), Y4
	VPBROADCASTQ ·iv+40(SB), Y5
	VPBROADCASTQ ·iv+48(SB), Y6
	VPBROADCASTQ ·iv+56(SB), Y7
	VMOVDQU Y0, (F_H+0*32)(SP)
	VMOVDQU Y1, (F_H+1*32)(SP)
	VMOVDQU Y2, (F_H+2*32)(SP)
	VMOVDQU Y3, (F_H+3*32)(SP)
	VMOVDQU Y4, (F_H+4*32)(SP)
	VMOVDQU Y5, (F_H+5*32)(SP)
	VMOVDQU Y6, (F_H+6*32)(SP)
	VMOVDQU Y7, (F_H+7*32)(SP)
	VPBROADCASTQ J_CARRY(DI), Y0
	VMOVDQU Y0, F_CARRY(SP)
	MOVQ ·iv+48(SB), SI
	MOVQ SI, F_V14(SP)

next:
	// R12 counts the blocks left before the final one, and is -1 once
	// the final block is compressed.
	TESTQ R12, R12
	JS    done
	JZ    final
	DECQ  R12
	LOADBLOCK(0, AX, 0, BX, 0, CX, 0, DX)
	ADDQ $128, AX
	ADDQ $128, BX
	ADDQ $128, CX
	ADDQ $128, DX
	ADDQ $128, R13
	MOVQ R13, SI
	JMP  compress

final:
	MOVQ $-1, R12
	LOADBLOCK(J_TAIL, DI, J_TAIL+128, DI, J_TAIL+256, DI, J_TAIL+384, DI)
	MOVQ ·iv+48(SB), SI
	NOTQ SI
	MOVQ SI, F_V14(SP)
	MOVQ J_TOTAL(DI), SI

compress:
	COMPRESS
	JMP next

done:
	// Transpose h0-h3 into the lanes' digests.
	MOVQ out+0(FP), SI
	VMOVDQU (F_H+0*32)(SP), Y0
	VMOVDQU (F_H+1*32)(SP), Y1
	VMOVDQU (F_H+2*32)(SP), Y2
	VMOVDQU (F_H+3*32)(SP), Y3
	TRANSPOSE
	VMOVDQU Y8, 0(SI)
	VMOVDQU Y9, 32(SI)
	VMOVDQU Y10, 64(SI)
	VMOVDQU Y11, 96(SI)
	VZEROUPPER
	RET
